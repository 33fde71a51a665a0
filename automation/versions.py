"""What differs between two versions of a workflow, in words a person reads.

`changes(old, new, ...)` compares two definitions (see automation.definition) and two sets
of safety settings (services.workflows.workflow_settings) and returns one `Change` per
difference: steps added, removed, moved, renamed, changed fields with old → new values, the
trigger, the safety settings. Pure functions: nothing here reads the database; the caller
passes what needs it (the labels of triggers and actions, the trigger in words, a field's
label).

Steps are matched by their key, which never changes (a rename keeps it). A step moved within
its list is found as one whose order among the steps both sides share changed (the longest
common subsequence stays put), so adding a step above others does not "move" them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from automation.definition import BRANCHES, Placed, steps_walk
from portal.money import format_amount

SIDE_LABELS = {"then": "If the condition holds", "else": "Otherwise"}

SETTING_LABELS = {
    "max_amount_per_charge": "Largest single charge",
    "max_amount_per_day": "Most charged per day",
    "safety_currency": "Currency of the limits",
    "allow_reentry": "A contact may go through this workflow more than once",
}

# Never shown, old or new: only that it changed.
SECRET_WORDS = ("secret", "password", "token", "api_key")

LONGEST_VALUE = 80  # characters of a value shown before "…"


@dataclass(frozen=True)
class Change:
    """One difference. `kind`: added, removed, moved, renamed, changed, trigger, settings,
    other. `details`: "Field: old → new", one per field."""

    kind: str
    text: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.text}: {'; '.join(self.details)}" if self.details else self.text


def changes(
    old: Mapping | None,
    new: Mapping | None,
    *,
    old_settings: Mapping | None = None,
    new_settings: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    trigger_text: Callable[[Mapping], str] | None = None,
    field_label: Callable[[str, str], str] | None = None,
) -> list[Change]:
    """Every difference from `old` to `new`, trigger first, then steps in `new`'s order
    (removed ones last), then safety settings. Empty when they are the same.

    `labels`: type key -> label, for triggers and actions. `trigger_text(trigger)`: the
    trigger and its filters in words. `field_label(step_type, field)`: a config field's label.
    """
    labels = labels or {}
    label_of = field_label or (lambda _type, field: humanize(field))
    found = _trigger_changes(old, new, labels, trigger_text)
    found += _step_changes(old, new, labels, label_of)
    found += _settings_changes(old_settings or {}, new_settings or {})
    if not found and (_plain(old) != _plain(new) or _plain(old_settings) != _plain(new_settings)):
        found.append(Change("other", "Other changes to the workflow's settings"))
    return found


def has_changes(old, new, *, old_settings=None, new_settings=None) -> bool:
    """Whether publishing `new` (with `new_settings`) would change anything."""
    return _plain(old) != _plain(new) or _plain(old_settings) != _plain(new_settings)


def summary_text(found: list[Change]) -> str:
    """The changes as stored with a version: one line each."""
    return "\n".join(str(change) for change in found)


# --- values --------------------------------------------------------------------------------------


def humanize(field: str) -> str:
    """Turn a config key into a label: "customer_id" -> "Customer ID"."""
    words = field.replace("_", " ").strip().capitalize().split(" ")
    return " ".join("ID" if w.lower() == "id" else "URL" if w.lower() == "url" else w
                    for w in words)  # fmt: skip


def _plain(value) -> str:
    """A canonical text of JSON-like data, for equality that ignores key order."""
    return json.dumps(value or {}, sort_keys=True, default=str)


def show(value, *, currency: str | None = None, amount: bool = False) -> str:
    """A stored value as text: amounts (minor units) in their currency, yes/no, lists."""
    if value is None or value == "" or value == [] or value == {}:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if amount and currency and isinstance(value, int):
        try:
            return format_amount(value, currency)
        except (ValueError, ArithmeticError):
            pass
    if isinstance(value, (list, tuple)):
        text = ", ".join(show(item) for item in value)
    elif isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif isinstance(value, str):
        text = f"“{value}”"
    else:
        text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def _is_secret(field: str) -> bool:
    return any(word in field.lower() for word in SECRET_WORDS)


def _field_changes(old: Mapping, new: Mapping, label: Callable[[str], str]) -> list[str]:
    """ "Label: old → new" for each key whose value differs, in the new config's order."""
    lines = []
    for key in [*new.keys(), *(k for k in old.keys() if k not in new)]:
        before, after = old.get(key), new.get(key)
        if _plain(before) == _plain(after):
            continue
        if _is_secret(key):
            lines.append(f"{label(key)} changed")
            continue
        is_amount = "amount" in key and not key.endswith("units")
        before_text = show(before, currency=old.get("currency"), amount=is_amount)
        after_text = show(after, currency=new.get("currency"), amount=is_amount)
        lines.append(f"{label(key)}: {before_text} → {after_text}")
    return lines


# --- trigger -------------------------------------------------------------------------------------


def _trigger_changes(old, new, labels, trigger_text) -> list[Change]:
    before = (old or {}).get("trigger") or None
    after = (new or {}).get("trigger") or None
    if _plain(before) == _plain(after):
        return []

    def words(trigger) -> str:
        if trigger_text is not None:
            return trigger_text(trigger)
        return labels.get(trigger.get("type"), trigger.get("type") or "?")

    if before is None:
        return [Change("trigger", f"Trigger set: “{words(after)}”")]
    if after is None:
        return [Change("trigger", f"Trigger removed (was “{words(before)}”)")]
    details = ()
    if before.get("type") == after.get("type"):
        details = tuple(
            _field_changes(before.get("config") or {}, after.get("config") or {}, humanize)
        )
    said_before, said_after = words(before), words(after)
    if said_before == said_after:
        return [Change("trigger", f"Trigger “{said_after}” changed", details)]
    return [Change("trigger", f"Trigger changed: “{said_before}” → “{said_after}”", details)]


# --- steps ---------------------------------------------------------------------------------------


def _name(step: Mapping) -> str:
    return step.get("name") or step.get("key") or "?"


def _where(placed: Placed, by_key: Mapping[str, Placed]) -> str:
    """Where a step sits, in words: "after “X”", "first", "in “Check” (Otherwise)"."""
    if placed.index:
        place = f"after “{_name(placed.holder[placed.index - 1])}”"
    else:
        place = "first"
    if placed.path:
        parent_key, side = placed.path[-1]
        parent = by_key.get(parent_key)
        parent_name = _name(parent.step) if parent else parent_key
        return f"{place} in “{parent_name}” ({SIDE_LABELS.get(side, side)})"
    return place


def _inner_count(step: Mapping) -> int:
    """How many steps an if/else step holds, at any depth."""
    count = 0
    for side in BRANCHES:
        for inner in step.get(side) or []:
            count += 1 + _inner_count(inner)
    return count


def _with_inner(step: Mapping) -> str:
    count = _inner_count(step)
    if not count:
        return ""
    return f", with {count} step{'s' if count != 1 else ''} inside"


def _lcs_keys(a: list[str], b: list[str]) -> set[str]:
    """The keys of a longest common subsequence of `a` and `b` (both hold the same keys)."""
    rows, cols = len(a), len(b)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
            )
    kept, i, j = set(), 0, 0
    while i < rows and j < cols:
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def _moved(old_at: Mapping[str, Placed], new_at: Mapping[str, Placed]) -> dict[str, str]:
    """key -> how it moved ("up", "down", "branch"), for steps both sides have."""
    common = [k for k in new_at if k in old_at]
    moved = {k: "branch" for k in common if old_at[k].path != new_at[k].path}
    # Within each list (same path on both sides): the order of the steps both lists hold.
    lists: dict[tuple, list[str]] = {}
    for key in common:
        if key not in moved:
            lists.setdefault(new_at[key].path, []).append(key)
    for keys in lists.values():
        old_order = sorted(keys, key=lambda k: old_at[k].index)
        new_order = sorted(keys, key=lambda k: new_at[k].index)
        kept = _lcs_keys(old_order, new_order)
        for key in keys:
            if key not in kept:
                up = new_order.index(key) < old_order.index(key)
                moved[key] = "up" if up else "down"
    return moved


def _step_changes(old, new, labels, label_of) -> list[Change]:
    old_at = {p.step["key"]: p for p in steps_walk(old) if "key" in p.step}
    new_at = {p.step["key"]: p for p in steps_walk(new) if "key" in p.step}

    def inside(placed: Placed, gone: Mapping) -> bool:  # within an if/else added/removed too
        return any(parent in gone for parent, _side in placed.path)

    added = {k: p for k, p in new_at.items() if k not in old_at}
    removed = {k: p for k, p in old_at.items() if k not in new_at}
    moved = _moved(old_at, new_at)
    found: list[Change] = []
    for key, placed in new_at.items():
        step = placed.step
        kind_label = labels.get(step.get("type"), step.get("type") or "?")
        if key in added:
            if not inside(placed, added):
                where = _where(placed, new_at)
                found.append(
                    Change(
                        "added",
                        f"Added step “{_name(step)}” ({kind_label}), {where}{_with_inner(step)}",
                    )
                )
            continue
        before = old_at[key].step
        if key in moved:
            how = moved[key]
            where = _where(placed, new_at)
            text = f"Moved step “{_name(step)}”" + ("" if how == "branch" else f" {how}")
            found.append(Change("moved", f"{text}, now {where}"))
        if _name(before) != _name(step):
            found.append(Change("renamed", f"Renamed step “{_name(before)}” to “{_name(step)}”"))
        details = []
        if before.get("type") != step.get("type"):
            before_label = labels.get(before.get("type"), before.get("type") or "?")
            details.append(f"Action: {before_label} → {kind_label}")
        else:
            step_type = step.get("type") or ""
            details += _field_changes(
                before.get("config") or {},
                step.get("config") or {},
                lambda field, step_type=step_type: label_of(step_type, field),
            )
        if details:
            found.append(Change("changed", f"Changed step “{_name(step)}”", tuple(details)))
    for placed in removed.values():
        if not inside(placed, removed):
            step = placed.step
            kind_label = labels.get(step.get("type"), step.get("type") or "?")
            found.append(
                Change("removed", f"Removed step “{_name(step)}” ({kind_label}){_with_inner(step)}")
            )
    return found


# --- safety settings -----------------------------------------------------------------------------


def _settings_changes(old: Mapping, new: Mapping) -> list[Change]:
    if _plain(old) == _plain(new):
        return []
    details = []
    for key in [*new.keys(), *(k for k in old.keys() if k not in new)]:
        before, after = old.get(key), new.get(key)
        if _plain(before) == _plain(after):
            continue
        label = SETTING_LABELS.get(key, humanize(key))
        if key.startswith("max_amount"):
            before_text = show(before, currency=old.get("safety_currency"), amount=True)
            after_text = show(after, currency=new.get("safety_currency"), amount=True)
            before_text = "no limit" if before is None else before_text
            after_text = "no limit" if after is None else after_text
        elif key == "safety_currency":
            before_text = str(before or "").upper() or "(empty)"
            after_text = str(after or "").upper() or "(empty)"
        else:
            before_text, after_text = show(before), show(after)
        details.append(f"{label}: {before_text} → {after_text}")
    return [Change("settings", "Safety settings changed", tuple(details))]
