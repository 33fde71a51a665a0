"""Checking the sandbox's answers against Stripe's OpenAPI schema.

``stripe-openapi-subset.json`` (beside this module) holds the response schemas of the
operations the portal uses, cut from Stripe's published OpenAPI spec3 at API version
2023-08-16. Its ``operations`` map ``"METHOD /v1/path/{param}"`` to the
schema of each status (``"200"``, ``"default"`` = the ``error`` schema).

The schemas are OpenAPI 3.0: JSON Schema draft 4 plus ``nullable``. ``jsonschema`` checks them
once every ``nullable: true`` node is rewritten as ``anyOf: [node, null]`` (OpenAPI 3.0 validators
such as openapi-schema-validator reject ``null`` where Stripe's spec combines ``nullable`` with
``anyOf`` or ``enum``, which is most of its nullable fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match

SPEC_PATH = Path(__file__).with_name("stripe-openapi-subset.json")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]


def _nullable_as_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_as_json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    return {
        "operations": spec["operations"],
        "components": _nullable_as_json_schema(spec["components"]),
    }


@cache
def operations() -> tuple[Operation, ...]:
    """The spec's operations, literal paths before templated ones (``/v1/customers/search``
    before ``/v1/customers/{customer}``)."""
    ops = []
    for name, responses in _spec()["operations"].items():
        method, template = name.split(" ", 1)
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        ops.append(Operation(method, template, re.compile(f"^{regex}$"), responses))
    return tuple(sorted(ops, key=lambda op: op.template.count("{")))


def find_operation(method: str, path: str) -> Operation | None:
    for op in operations():
        if op.method == method.upper() and op.pattern.match(path):
            return op
    return None


@cache
def _validator(method: str, template: str, status_key: str) -> Draft4Validator:
    op = next(o for o in operations() if o.method == method and o.template == template)
    # The operation's schema is the root document, with the components its $refs point into.
    schema = dict(
        _nullable_as_json_schema(op.responses[status_key]), components=_spec()["components"]
    )
    return Draft4Validator(schema)


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """What is wrong with ``body`` as Stripe's answer ``status`` to ``method path``; [] when it
    fits, or when the operation is not in the subset (nothing to check it against)."""
    op = find_operation(method, path)
    if op is None or body is None:
        return []
    key = str(status) if str(status) in op.responses else "default"
    if status < 400 and key == "default":
        return [f"{method} {path}: status {status} is not one Stripe answers"]
    validator = _validator(op.method, op.template, key)
    out = []
    for err in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
        err = _deepest(err)
        where = "/".join(map(str, err.absolute_path)) or "(root)"
        out.append(f"{method} {path} -> {status}: at {where}: {err.message[:300]}")
    return out


def _deepest(err: ValidationError) -> ValidationError:
    """For anyOf (customer or deleted customer, a value or null), the most telling error of the
    branch that came closest."""
    while err.context:
        err = best_match(err.context)
    return err


def log_errors(entries: list[dict[str, Any]]) -> list[str]:
    """The schema errors of every answered entry of the sandbox's request log that kept its
    response (``SandboxControl.keep_responses()``)."""
    errors: list[str] = []
    for entry in entries:
        if entry.get("status") is None or "response" not in entry:
            continue
        errors += response_errors(
            entry["method"], entry["path"], entry["status"], entry["response"]
        )
    return errors
