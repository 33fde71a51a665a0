"""`{{ path.to.value }}` variables in step settings, resolved against a run's context.

The context is {"contact": {...}, "trigger": {...}, "steps": {<key>: {outputs}}}. A setting
that is exactly one variable keeps the value's type (a number stays a number); text with
variables inside becomes text. An unknown path is an error, never an empty string.
"""

from __future__ import annotations

import re
from typing import Any

VARIABLE = re.compile(r"{{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*}}")


class ResolutionError(ValueError):
    pass


def lookup(context: dict, path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise ResolutionError(f"{{{{ {path} }}}} has no value in this run.")
    return value


def resolve(value: Any, context: dict) -> Any:
    """`value` with every variable replaced (recursing into dicts and lists)."""
    if isinstance(value, dict):
        return {k: resolve(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, context) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    whole = VARIABLE.fullmatch(value.strip())
    if whole:
        return lookup(context, whole.group(1))

    def text(match: re.Match) -> str:
        found = lookup(context, match.group(1))
        return "" if found is None else str(found)

    return VARIABLE.sub(text, value)


def variables_in(value: Any) -> set[str]:
    """The variable paths a setting uses."""
    if isinstance(value, dict):
        return set().union(*(variables_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(variables_in(v) for v in value)) if value else set()
    return set(VARIABLE.findall(value)) if isinstance(value, str) else set()
