"""Workflows that move between workspaces: copy to another workspace, export and import a file.

Both go through one portable form, the *bundle*, which is also the file's format:

    {"format": "agency-portal.workflow", "version": 1, "exported_at": "...",
     "workflow": {"name", "definition", "settings"},
     "forms": [{"ref", "name", "slug", ..., "fields": [...]}],
     "calendars": [{"ref", "name", "slug", ..., "availability": [...]}]}

It carries the forms and calendars the trigger filters on (named in the trigger by their `ref`),
never their submissions or appointments, and nothing that belongs to the source workspace's
Stripe account: step and trigger settings naming a Stripe connection, and values holding a
Stripe customer ID (cus_...), are cleared. Whatever was cleared is recorded in that config under
`CLEARED` ({field: reason}); `choices_pending` turns the marks into the sentences the builder
shows and `workflow_problems` lists, so the copy cannot be published until someone chooses.
Saving the step (or the trigger) in the builder replaces its config, marks included. Secrets
never travel: a trigger's own webhook endpoint and signing secret live outside the definition
(integrations), and a file holding anything that looks like a Stripe key or signing secret is
refused.

This module imports no automation service (automation.services.workflows imports it), so it
writes the rows itself, each in one transaction with its audit entries.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from automation import definition as tree
from automation import registry
from automation.models import Availability, Calendar, Form, FormField, Workflow
from portal import perms
from portal.audit import audit_record
from portal.models import AuditEntry, Workspace
from portal.money import KNOWN_CURRENCIES, LARGEST_AMOUNT
from portal.permissions import workspace_permissions
from portal.two_factor import two_factor_required

FORMAT = "agency-portal.workflow"
VERSION = 1
MAX_BYTES = 1_000_000  # 1 MB: a workflow with its forms and calendars is a few kilobytes
MAX_STEPS = 500
MAX_DEPTH = 20  # if/else inside if/else
MAX_FORMS = MAX_CALENDARS = 20
MAX_FIELDS = 100

# Audit actions of copies and imports.
AUDIT_COPY = AuditEntry.Action.WORKFLOW_COPY
AUDIT_IMPORT = AuditEntry.Action.WORKFLOW_IMPORT

CLEARED = "_cleared"
STRIPE_ACCOUNT, CUSTOMER, SECRET, FILTER = "stripe_account", "customer", "secret", "filter"

_CUSTOMER_ID = re.compile(r"\bcus_[A-Za-z0-9]+")
# What a file must never bring in: secret and restricted keys, webhook signing secrets, client
# secrets (as portal.audit masks them).
_SECRET = re.compile(
    r"\b(?:(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9_]+"
    r"|[A-Za-z0-9]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]+)"
)
_STEP_KEY = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_STEP_KEYS = {"key", "type", "name", "config", *tree.BRANCHES}
_TRIGGER_REFS = {"forms": "form", "calendars": "calendar"}


# --- what a copy left to choose ----------------------------------------------------------------


def _pending(definition: dict | None) -> dict[str, list[str]]:
    """{reason: [where, ...]} of every mark in the definition, in the builder's order."""
    found: dict[str, list[str]] = {}
    trigger = (definition or {}).get("trigger") or {}
    for field, reason in ((trigger.get("config") or {}).get(CLEARED) or {}).items():
        found.setdefault(reason, []).append("the trigger" if reason != FILTER else field)
    for placed in tree.steps_walk(definition):
        step = placed.step
        for reason in ((step.get("config") or {}).get(CLEARED) or {}).values():
            found.setdefault(reason, []).append(f"“{step.get('name') or step['key']}”")
    return found


def _steps_phrase(where: list[str]) -> str:
    trigger = [w for w in where if w == "the trigger"]
    steps = [w for w in where if w != "the trigger"]
    parts = trigger + ([("step " if len(steps) == 1 else "steps ") + ", ".join(steps)]
                       if steps else [])  # fmt: skip
    return " and ".join(parts)


def choices_pending(definition: dict | None) -> list[str]:
    """Why a copied or imported draft cannot be published yet, one sentence per kind (empty
    when nothing is left to choose). Saving the step or trigger named clears its mark."""
    found = _pending(definition)
    sentences = []
    if STRIPE_ACCOUNT in found:
        sentences.append(
            f"Choose the Stripe account for {_steps_phrase(found[STRIPE_ACCOUNT])}: the "
            "workflow was brought from another workspace, whose account it named. Open each "
            "and save it with this workspace's account."
        )
    if CUSTOMER in found:
        sentences.append(
            f"The Stripe customer ID of {_steps_phrase(found[CUSTOMER])} was cleared (it "
            "belonged to the other workspace's account): enter this workspace's customer, or "
            "a variable, and save the step."
        )
    if SECRET in found:
        sentences.append(
            f"A value that looked like a Stripe secret was left out of "
            f"{_steps_phrase(found[SECRET])}: secrets are never copied. Fill the field in "
            "again without it and save the step."
        )
    if FILTER in found:
        sentences.append(
            "Choose which forms or calendars start this workflow: those it named were not "
            "copied. Open the trigger and save it."
        )
    return sentences


def choices_notice(definition: dict | None) -> str:
    """The builder's notice: 'Brought from another workspace: choose the Stripe account for
    steps X, Y; the customer ID of step Z was cleared.' ("" when nothing is left to choose)."""
    found = _pending(definition)
    parts = []
    if STRIPE_ACCOUNT in found:
        parts.append(f"choose the Stripe account for {_steps_phrase(found[STRIPE_ACCOUNT])}")
    if CUSTOMER in found:
        parts.append(f"the customer ID of {_steps_phrase(found[CUSTOMER])} was cleared")
    if SECRET in found:
        parts.append(f"a secret was left out of {_steps_phrase(found[SECRET])}")
    if FILTER in found:
        parts.append("choose the forms or calendars that start it")
    if not parts:
        return ""
    text = "; ".join(parts)
    return f"Brought from another workspace: {text}."


def _cleared(config: dict, *, trigger: bool = False) -> dict:
    """`config` without what belongs to the source's Stripe account, with its marks.

    A step's connection is removed (the panel then offers this workspace's default account);
    a Stripe trigger's becomes "" ("any account") but stays marked until saved."""
    config = copy.deepcopy(config)
    marks = dict(config.pop(CLEARED, None) or {})
    if config.get("connection"):
        if trigger:
            config["connection"] = ""
        else:
            del config["connection"]
        marks["connection"] = STRIPE_ACCOUNT
    for name, value in list(config.items()):
        text = json.dumps(value)
        for pattern, reason in ((_SECRET, SECRET), (_CUSTOMER_ID, CUSTOMER)):
            if pattern.search(text):
                config[name] = "" if isinstance(value, str) else None
                marks[name] = reason
                break
    if marks:
        config[CLEARED] = marks
    return config


# --- the bundle: build -------------------------------------------------------------------------


def _slug(text: str, fallback: str) -> str:
    return slugify(text)[:60].strip("-") or fallback


def export_filename(workflow: Workflow) -> str:
    return f"{_slug(workflow.name, 'workflow')}.workflow.json"


def _form_out(form: Form, ref: str) -> dict:
    return {
        "ref": ref,
        "name": form.name,
        "slug": form.slug,
        "intro": form.intro,
        "success_message": form.success_message,
        "is_active": form.is_active,
        "submission_limit": form.submission_limit,
        "submission_window_minutes": form.submission_window_minutes,
        "fields": [
            {
                "label": f.label,
                "key": f.key,
                "kind": f.kind,
                "maps_to": f.maps_to,
                "required": f.required,
                "choices": list(f.choices or []),
            }
            for f in form.fields.all()
        ],  # fmt: skip
    }


def _calendar_out(calendar: Calendar, ref: str) -> dict:
    return {
        "ref": ref,
        "name": calendar.name,
        "slug": calendar.slug,
        "slot_minutes": calendar.slot_minutes,
        "time_zone": calendar.time_zone,
        "price_amount": calendar.price_amount,
        "price_currency": calendar.price_currency,
        "is_active": calendar.is_active,
        "availability": [
            {
                "weekday": a.weekday,
                "start": a.start_time.strftime("%H:%M"),
                "end": a.end_time.strftime("%H:%M"),
            }
            for a in calendar.availability.all()
        ],  # fmt: skip
    }


def bundle_build(workflow: Workflow) -> dict:
    """The workflow as a version-1 bundle: its draft, safety settings, and the forms and
    calendars its trigger filters on; Stripe connections and customer IDs cleared and marked."""
    definition = copy.deepcopy(workflow.definition or tree.empty_definition())
    trigger = definition.get("trigger") or None
    forms, calendars = [], []
    if trigger:
        config = _cleared(trigger.get("config") or {}, trigger=True)
        for key, kind in _TRIGGER_REFS.items():
            if not isinstance(config.get(key), list):
                continue
            model = Form if kind == "form" else Calendar
            found = {str(o.uuid): o for o in model.objects.filter(
                workspace=workflow.workspace, uuid__in=_uuids(config[key]))}  # fmt: skip
            refs, out = [], forms if kind == "form" else calendars
            for value in config[key]:
                obj = found.get(str(value))
                if obj is None:  # deleted since: it matched nothing, and still does not
                    continue
                ref = f"{kind}-{len(out) + 1}"
                out.append(_form_out(obj, ref) if kind == "form" else _calendar_out(obj, ref))
                refs.append(ref)
            if config[key] and not refs:  # "none" would widen it to any form or calendar
                config.setdefault(CLEARED, {})[key] = FILTER
            config[key] = refs
        definition["trigger"] = {"type": trigger.get("type"), "config": config}
    for placed in tree.steps_walk(definition):
        placed.step["config"] = _cleared(placed.step.get("config") or {})
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "workflow": {
            "name": workflow.name,
            "definition": definition,
            "settings": {
                "max_amount_per_charge": workflow.max_amount_per_charge,
                "max_amount_per_day": workflow.max_amount_per_day,
                "safety_currency": workflow.safety_currency,
                "allow_reentry": workflow.allow_reentry,
            },
        },
        "forms": forms,
        "calendars": calendars,
    }


def bundle_dumps(bundle: dict) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _uuids(values) -> list[str]:
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(str(value))))
        except ValueError:
            pass
    return valid


# --- the bundle: read and check ---------------------------------------------------------------


def bundle_read(raw: bytes) -> dict:
    """The bundle in an uploaded file, checked whole; ValidationError listing every problem
    (a file that is not JSON, or not a workflow export, stops at that)."""
    if len(raw) > MAX_BYTES:
        raise ValidationError(
            f"The file is too large ({len(raw):,} bytes): a workflow export is at most 1 MB."
        )
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError("This file is not JSON: it is not even text (UTF-8).") from None
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"This file is not JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        raise ValidationError(
            "This file is not JSON this portal can read: nested too deeply."
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(
            f"This is not a workflow export: its “format” should be “{FORMAT}”. Export the "
            "workflow from its builder (Export) and upload that file."
        )
    version = data.get("version")
    if version != VERSION:
        raise ValidationError(
            f"This file is in version {version!r} of the workflow format; this portal reads "
            f"version {VERSION}. Export it again from a portal of the same version."
        )
    problems = bundle_problems(data)
    if problems:
        raise ValidationError(problems)
    return data


def bundle_problems(data: dict) -> list[str]:
    """Every problem of a version-1 bundle, one sentence each (empty: it can be imported)."""
    problems: list[str] = []
    if match := _SECRET.search(json.dumps(data)):
        kind = match.group(0).split("_")[0]
        problems.append(
            f"The file holds a Stripe secret ({kind}_…): secrets are never imported. Remove it "
            "and upload the file again; connect Stripe in this workspace instead."
        )
    workflow = data.get("workflow")
    if not isinstance(workflow, dict):
        return problems + ["The file has no “workflow” object."]
    name = workflow.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        problems.append("The workflow's name must be text of 1 to 120 characters.")
    problems += _settings_problems(workflow.get("settings"))
    forms = _list_of(data, "forms", MAX_FORMS, problems)
    calendars = _list_of(data, "calendars", MAX_CALENDARS, problems)
    refs = {
        "form": _objects_problems(forms, "Form", _form_problems, problems),
        "calendar": _objects_problems(calendars, "Calendar", _calendar_problems, problems),
    }
    definition = workflow.get("definition")
    if not isinstance(definition, dict):
        return problems + ["The workflow has no “definition” object (its trigger and steps)."]
    problems += _trigger_problems(definition.get("trigger"), refs)
    problems += _steps_problems(definition.get("steps"))
    return problems


def _list_of(data: dict, key: str, most: int, problems: list[str]) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"“{key}” must be a list.")
        return []
    if len(value) > most:
        problems.append(f"The file has {len(value)} {key}; at most {most} come with a workflow.")
        return []
    return value


def _settings_problems(settings) -> list[str]:
    if not isinstance(settings, dict):
        return ["The workflow has no “settings” object (its safety settings)."]
    problems = []
    for name in ("max_amount_per_charge", "max_amount_per_day"):
        value = settings.get(name)
        if value is not None and not (_is_int(value) and 0 < value <= LARGEST_AMOUNT):
            problems.append(f"Safety setting {name} must be a positive whole number of minor "
                            "units, or null for no limit.")  # fmt: skip
    if str(settings.get("safety_currency", "")).upper() not in KNOWN_CURRENCIES:
        problems.append("Safety setting safety_currency must be a currency code such as usd.")
    if not isinstance(settings.get("allow_reentry", True), bool):
        problems.append("Safety setting allow_reentry must be true or false.")
    return problems


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _objects_problems(items: list, label: str, check, problems: list[str]) -> set[str]:
    """Check each form or calendar; the refs they declare."""
    refs: set[str] = set()
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(f"{label} {number} is not an object.")
            continue
        ref = item.get("ref")
        if not isinstance(ref, str) or not ref or ref in refs:
            problems.append(f"{label} {number} needs a “ref” of its own (text, unique).")
        else:
            refs.add(ref)
        shown = f"{label} “{item.get('name')}”" if isinstance(item.get("name"), str) else (
            f"{label} {number}"
        )  # fmt: skip
        problems += [f"{shown}: {p}" for p in check(item)]
    return refs


def _text_problem(item: dict, key: str, most: int, *, blank: bool = False) -> list[str]:
    value = item.get(key, "" if blank else None)
    if not isinstance(value, str) or (not blank and not value.strip()) or len(value) > most:
        return [f"its {key} must be text of {0 if blank else 1} to {most} characters."]
    return []


def _form_problems(item: dict) -> list[str]:
    problems = _text_problem(item, "name", 120) + _text_problem(item, "slug", 60)
    problems += _text_problem(item, "intro", 5000, blank=True)
    problems += _text_problem(item, "success_message", 300, blank=True)
    for name, most in (("submission_limit", 1000), ("submission_window_minutes", 24 * 60)):
        value = item.get(name, 1)  # absent: the form's default
        if not (_is_int(value) and 1 <= value <= most):
            problems.append(f"its {name} must be a whole number from 1 to {most}.")
    fields = item.get("fields")
    if not isinstance(fields, list) or not 0 < len(fields) <= MAX_FIELDS:
        return problems + [f"its fields must be a list of 1 to {MAX_FIELDS}."]
    kinds, targets = set(FormField.Kind.values), set(FormField.MapsTo.values)
    keys = []
    for number, field in enumerate(fields, 1):
        if not isinstance(field, dict):
            problems.append(f"field {number} is not an object.")
            continue
        bad = _text_problem(field, "label", 120)
        key = field.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", key):
            bad.append("its key must be 1 to 40 letters, digits, - or _.")
        keys.append(key)
        if field.get("kind") not in kinds or field.get("maps_to") not in targets:
            bad.append(f"its kind must be one of {', '.join(sorted(kinds))} and maps_to one "
                       f"of {', '.join(sorted(targets))}.")  # fmt: skip
        choices = field.get("choices", [])
        if not isinstance(field.get("required", False), bool) or not (
            isinstance(choices, list) and all(isinstance(c, str) for c in choices)
        ):
            bad.append("required must be true or false and choices a list of texts.")
        problems += [f"field {number}: {p}" for p in bad]
    if problems:
        return problems
    if len(set(keys)) != len(keys):
        problems.append("two fields have the same key.")
    for target in ("name", "email", "phone"):
        if sum(f["maps_to"] == target for f in fields) > 1:
            problems.append(f"only one field can fill the contact's {target}.")
    email = [f for f in fields if f["maps_to"] == "email"]
    if not email or not email[0].get("required") or email[0]["kind"] != "email":
        problems.append("it needs a required e-mail field mapped to the contact's e-mail.")
    return problems


def _calendar_problems(item: dict) -> list[str]:
    problems = _text_problem(item, "name", 120) + _text_problem(item, "slug", 60)
    minutes = item.get("slot_minutes")
    if not (_is_int(minutes) and 5 <= minutes <= 24 * 60):
        problems.append("its slot_minutes must be a whole number from 5 to 1440.")
    try:
        zoneinfo.ZoneInfo(str(item.get("time_zone")))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append("its time_zone must be a zone name such as America/New_York.")
    price = item.get("price_amount", 0)
    if not (_is_int(price) and 0 <= price <= LARGEST_AMOUNT):
        problems.append("its price_amount must be a whole number of minor units.")
    if str(item.get("price_currency", "")).upper() not in KNOWN_CURRENCIES:
        problems.append("its price_currency must be a currency code such as usd.")
    windows = item.get("availability", [])
    if not isinstance(windows, list) or len(windows) > 7 * 24:
        return problems + ["its availability must be a list of weekly windows."]
    for number, window in enumerate(windows, 1):
        if _window(window) is None:
            problems.append(
                f"availability window {number} must be a weekday (0 to 6) with a start and an "
                "end such as 09:00 and 12:00, ending after it starts."
            )
    return problems


def _window(window) -> tuple[int, dt.time, dt.time] | None:
    if not isinstance(window, dict) or window.get("weekday") not in range(7):
        return None
    try:
        start = dt.time.fromisoformat(str(window.get("start")))
        end = dt.time.fromisoformat(str(window.get("end")))
    except ValueError:
        return None
    return (window["weekday"], start, end) if end > start else None


def _trigger_problems(trigger, refs: dict[str, set[str]]) -> list[str]:
    if trigger is None:
        return []
    if not isinstance(trigger, dict) or not isinstance(trigger.get("config", {}), dict):
        return ["The trigger must be an object with a “type” and a “config” object."]
    kind = trigger.get("type")
    if kind not in registry.TRIGGERS:
        known = ", ".join(registry.TRIGGERS)
        return [f"The trigger type {kind!r} is unknown to this portal (it knows {known})."]
    problems = []
    config = trigger.get("config") or {}
    for key, what in _TRIGGER_REFS.items():
        if key not in config:
            continue
        named = config[key]
        if not isinstance(named, list) or not all(isinstance(r, str) for r in named):
            problems.append(f"The trigger's {key} must be a list of the file's {what} refs.")
            continue
        if missing := [r for r in named if r not in refs[what]]:
            problems.append(f"The trigger names {what}s that are not in the file: "
                            f"{', '.join(missing)}.")  # fmt: skip
    return problems


def _steps_problems(steps) -> list[str]:
    if not isinstance(steps, list):
        return ["The definition's “steps” must be a list."]
    problems: list[str] = []
    keys: list[str] = []

    def check(items: list, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            problems.append(f"If/else steps nest deeper than {MAX_DEPTH} levels.")
            return
        for number, step in enumerate(items, 1):
            label = f"Step {number}{where}"
            if not isinstance(step, dict):
                problems.append(f"{label} is not an object with key, type, name and config.")
                continue
            key = step.get("key")
            if isinstance(key, str):
                label = f"Step “{step.get('name') or key}”"
            if not isinstance(key, str) or not _STEP_KEY.match(key):
                problems.append(f"{label}: its key must be 1 to 80 letters, digits, - or _.")
            else:
                keys.append(key)
            if extra := sorted(set(step) - _STEP_KEYS, key=str):
                problems.append(f"{label} has fields a step does not have: {', '.join(extra)}.")
            if not isinstance(step.get("name", ""), str) or len(step.get("name", "")) > 120:
                problems.append(f"{label}: its name must be text of at most 120 characters.")
            if not isinstance(step.get("config"), dict):
                problems.append(f"{label} has no “config” object.")
            kind = step.get("type")
            if kind not in registry.ACTIONS:
                problems.append(f"{label} uses the action {kind!r}, which this portal does "
                                "not have.")  # fmt: skip
                continue
            branching = registry.action(kind).kind == "branch"
            for side in tree.BRANCHES:
                inner = step.get(side)
                if not branching and side in step:
                    problems.append(f"{label} has a “{side}” branch, but only if/else has one.")
                elif branching and not isinstance(inner, list):
                    problems.append(f"{label} needs its “{side}” list of steps.")
                elif branching:
                    check(inner, f" in the “{side}” branch of {label}", depth + 1)

    check(steps, "", 0)
    if len(keys) > MAX_STEPS:
        problems.append(f"The workflow has {len(keys)} steps; at most {MAX_STEPS} are imported.")
    seen, twice = set(), []
    for key in keys:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    for key in twice:
        problems.append(f"Two steps have the key “{key}”: step keys must be unique (later steps "
                        f"name them, as {{{{ steps.{key}.id }}}}).")  # fmt: skip
    return problems


# --- the bundle: create ------------------------------------------------------------------------


def _free_slug(model, wanted: str, fallback: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`...: a public address no form (calendar) has."""
    base = _slug(wanted, fallback)[:54].strip("-") or fallback
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _form_create(workspace: Workspace, item: dict) -> Form:
    form = Form(workspace=workspace, name=item["name"].strip(),
                slug=_free_slug(Form, item["slug"], "form"), intro=item.get("intro", ""),
                is_active=bool(item.get("is_active", True)))  # fmt: skip
    form.success_message = item.get("success_message") or form.success_message
    for name in ("submission_limit", "submission_window_minutes"):
        if name in item:
            setattr(form, name, item[name])
    form.full_clean(exclude=["workspace"], validate_constraints=False)
    form.save()
    FormField.objects.bulk_create(
        FormField(form=form, label=f["label"], key=f["key"], kind=f["kind"],
                  maps_to=f["maps_to"], required=bool(f.get("required")),
                  choices=list(f.get("choices") or []), position=position)
        for position, f in enumerate(item["fields"])
    )  # fmt: skip
    return form


def _calendar_create(workspace: Workspace, item: dict) -> Calendar:
    calendar = Calendar(workspace=workspace, name=item["name"].strip(),
                        slug=_free_slug(Calendar, item["slug"], "calendar"),
                        slot_minutes=item["slot_minutes"], time_zone=item["time_zone"],
                        price_amount=item.get("price_amount", 0),
                        price_currency=str(item.get("price_currency", "usd")).lower(),
                        is_active=bool(item.get("is_active", True)))  # fmt: skip
    calendar.full_clean(exclude=["workspace"], validate_constraints=False)
    calendar.save()
    Availability.objects.bulk_create(
        Availability(calendar=calendar, weekday=day, start_time=start, end_time=end)
        for day, start, end in map(_window, item.get("availability", []))
    )
    return calendar


def _bundle_create(*, workspace: Workspace, bundle: dict, name: str) -> Workflow:
    """The draft a checked bundle describes, with its forms and calendars (in the caller's
    transaction); Stripe settings found in it cleared and marked, as a copy's are."""
    made = {"form": {}, "calendar": {}}
    for item in bundle.get("forms", []):
        made["form"][item["ref"]] = str(_form_create(workspace, item).uuid)
    for item in bundle.get("calendars", []):
        made["calendar"][item["ref"]] = str(_calendar_create(workspace, item).uuid)
    source = bundle["workflow"]
    definition = copy.deepcopy(source["definition"])
    definition.setdefault("steps", [])
    trigger = definition.get("trigger")
    if trigger:
        config = _cleared(trigger.get("config") or {}, trigger=True)
        for key, what in _TRIGGER_REFS.items():
            if key in config:
                config[key] = [made[what][ref] for ref in config[key]]
        definition["trigger"] = {"type": trigger["type"], "config": config}
    else:
        definition["trigger"] = None
    for placed in tree.steps_walk(definition):
        placed.step["config"] = _cleared(placed.step.get("config") or {})
    settings = source["settings"]
    return Workflow.objects.create(
        workspace=workspace,
        name=name[:120],
        status=Workflow.Status.DRAFT,
        definition=definition,
        max_amount_per_charge=settings.get("max_amount_per_charge"),
        max_amount_per_day=settings.get("max_amount_per_day"),
        safety_currency=str(settings.get("safety_currency", "usd")).lower(),
        allow_reentry=settings.get("allow_reentry", True),
    )


def _summary(workflow: Workflow) -> dict:
    """What came with the draft and what is left to choose, for the audit trail."""
    config = (workflow.definition.get("trigger") or {}).get("config") or {}
    return {
        "forms": [f.name for f in Form.objects.filter(uuid__in=_uuids(config.get("forms", [])))],
        "calendars": [
            c.name for c in Calendar.objects.filter(uuid__in=_uuids(config.get("calendars", [])))
        ],
        "to_choose": _pending(workflow.definition),
    }


def _create_or_refuse(**kwargs) -> Workflow:
    try:
        with transaction.atomic():
            return _bundle_create(**kwargs)
    except IntegrityError:  # a slug taken at the same moment elsewhere
        raise ValidationError(
            "A form or calendar address was taken at the same moment; nothing was created. "
            "Try again."
        ) from None


def copy_destinations(user, *, source: Workspace, verified: bool) -> list[Workspace]:
    """The other workspaces where `user` may build workflows (workflow=edit), and may open now
    (a workspace requiring two-factor sign-in of them needs a verified session)."""
    found = []
    for workspace in Workspace.objects.filter(memberships__user=user).exclude(pk=source.pk) \
            .distinct().order_by("name"):  # fmt: skip
        granted = workspace_permissions(user, workspace)
        if perms.WORKFLOW_EDIT in granted and (
            verified or not two_factor_required(workspace, granted)
        ):
            found.append(workspace)
    return found


def workflow_copy(
    *, workflow: Workflow, destination: Workspace, actor=None, address: str | None = None
) -> Workflow:
    """A draft "<name> (copy)" of the workflow in `destination`, with copies of the forms and
    calendars its trigger filters on (new slugs; no submissions, no appointments), Stripe
    connections and customer IDs cleared and marked for the member to choose. One
    transaction, audited in both workspaces. The caller checked the member may edit
    workflows in both. ValidationError (nothing created) if the draft cannot be copied."""
    bundle = bundle_build(workflow)
    problems = bundle_problems(bundle)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        made = _create_or_refuse(workspace=destination, bundle=bundle,
                                 name=f"{workflow.name} (copy)")  # fmt: skip
        details = _summary(made)
        audit_record(workspace=workflow.workspace, actor=actor, address=address,
                     action=AUDIT_COPY, obj=workflow,
                     summary=f"Copied {workflow.name} to {destination.name} as {made.name}",
                     changes={"copied_to": {"before": None, "after": destination.name},
                              **_changes(details)})  # fmt: skip
        audit_record(workspace=destination, actor=actor, address=address,
                     action=AUDIT_COPY, obj=made,
                     summary=f"Copied {workflow.name} from {workflow.workspace.name} as "
                     f"{made.name} (a draft)",
                     changes={"copied_from": {"before": None, "after": workflow.workspace.name},
                              **_changes(details)})  # fmt: skip
    return made


def workflow_import(
    *, workspace: Workspace, bundle: dict, actor=None, address: str | None = None
) -> Workflow:
    """A draft from a bundle `bundle_read` accepted, with its forms and calendars, in one
    transaction, audited; Stripe settings left for the member to choose."""
    problems = bundle_problems(bundle)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        made = _create_or_refuse(workspace=workspace, bundle=bundle,
                                 name=bundle["workflow"]["name"].strip())  # fmt: skip
        audit_record(workspace=workspace, actor=actor, address=address, action=AUDIT_IMPORT,
                     obj=made, summary=f"Imported {made.name} from a file (a draft)",
                     changes=_changes(_summary(made)))  # fmt: skip
    return made


def _changes(details: dict) -> dict:
    changes = {}
    for key in ("forms", "calendars"):
        if details[key]:
            changes[f"{key}_copied"] = {"before": None, "after": ", ".join(details[key])}
    if details["to_choose"]:
        left = "; ".join(f"{r}: {', '.join(w)}" for r, w in details["to_choose"].items())
        changes["to_choose"] = {"before": None, "after": left}
    return changes
