"""Workflows: create, rename, duplicate, delete; builder edits of the draft; publish; test runs.

The draft `definition` is saved on every builder edit (read-modify-write under a row lock, so
two tabs editing at once never lose each other's step). Publishing validates the whole draft
and snapshots it into a new `WorkflowVersion`, or stores nothing.
"""

from __future__ import annotations

import copy
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from automation import definition as tree
from automation import registry, versions
from automation.actions import safety
from automation.models import Run, Workflow, WorkflowVersion
from automation.portable import choices_pending
from automation.services.runs import run_enqueue, runs_cancel_waiting
from automation.variables import variables_in
from portal.audit import audit_record
from portal.models import AuditEntry
from portal.money import format_amount

# How many contacts are read to find the custom keys the variable picker offers.
CUSTOM_KEYS_SAMPLE = 500


# --- steps' settings, the draft's row (the tree itself: automation.definition) -----------------


def config_initial(action, config: dict) -> dict:
    """The step's stored config as the config form's initial data.

    Actions store a typed amount in minor units next to its currency; the form is typed in
    major units, so those are turned back into text ("49.99"). An action whose config differs
    from its form otherwise declares `initial_from_config(config)` on its form.
    """
    form_class = action.config_form
    convert = getattr(form_class, "initial_from_config", None)
    if convert is not None:
        return convert(config)
    initial = dict(config)
    currency = config.get("currency")
    for name, value in config.items():
        if "amount" in name and currency and isinstance(value, int) and not isinstance(value, bool):
            initial[name] = format_amount(value, currency, with_code=False)
    return initial


def _default_config(action, workspace) -> dict:
    """What the settings form shows a new step with (the default Integration, the suggested
    variables, USD), stored so the step is as complete as it looks."""
    form = action.config_form(workspace=workspace)
    config = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value not in (None, "", False) and not callable(value):
            config[name] = value
    return config


def step_config_errors(*, workspace, step: dict) -> list[str]:
    """What is missing or wrong in a step's stored config (empty when complete)."""
    action = registry.action(step["type"])
    form = action.config_form(data=config_initial(action, step.get("config") or {}),
                              workspace=workspace)  # fmt: skip
    if form.is_valid():
        return []
    messages = []
    for field, errors in form.errors.items():
        label = ""
        if field in form.fields:
            label = form.fields[field].label or field.replace("_", " ").capitalize()
        for error in errors:
            messages.append(f"{label}: {error}" if label else error)
    return messages


def _locked(workflow: Workflow) -> Workflow:
    """The workflow's row, locked for a read-modify-write of its draft (inside atomic)."""
    return Workflow.objects.select_for_update().get(pk=workflow.pk)


def _save_definition(workflow: Workflow, locked: Workflow) -> None:
    locked.save(update_fields=["definition", "updated_at"])
    workflow.definition = locked.definition
    workflow.updated_at = locked.updated_at


# --- workflows ---------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the workflow a name."})
    return name[:120]


# A new workflow caps each charge (in USD, the default safety currency) until staff choose.
NEW_WORKFLOW_MAX_PER_CHARGE = 100_00


def workflow_create(*, workspace, name: str) -> Workflow:
    return Workflow.objects.create(
        workspace=workspace,
        name=_clean_name(name),
        definition=tree.empty_definition(),
        max_amount_per_charge=NEW_WORKFLOW_MAX_PER_CHARGE,
    )


def workflow_rename(*, workflow: Workflow, name: str) -> Workflow:
    workflow.name = _clean_name(name)
    workflow.save(update_fields=["name", "updated_at"])
    return workflow


def workflow_duplicate(*, workflow: Workflow) -> Workflow:
    """A draft copy named "Copy of X": same trigger, steps and safety settings; no versions
    and no runs."""
    return Workflow.objects.create(
        workspace=workflow.workspace,
        name=f"Copy of {workflow.name}"[:120],
        definition=copy.deepcopy(workflow.definition or tree.empty_definition()),
        max_amount_per_charge=workflow.max_amount_per_charge,
        max_amount_per_day=workflow.max_amount_per_day,
        safety_currency=workflow.safety_currency,
        allow_reentry=workflow.allow_reentry,
    )


@transaction.atomic
def workflow_delete(*, workflow: Workflow, actor=None, address: str | None = None) -> None:
    """Delete the workflow with its versions and its run history. The audit trail keeps
    who deleted it (`actor`, `address`), and its publications, after it is gone."""
    if workflow.status == Workflow.Status.PUBLISHED:
        _audit(
            workflow,
            AuditEntry.Action.WORKFLOW_DELETE,
            "Deleted the published workflow",
            actor=actor,
            address=address,
            before=Workflow.Status.PUBLISHED,
            after=None,
        )
    # Runs protect their version: they go first.
    Run.objects.filter(workflow=workflow).delete()
    workflow.delete()


def _audit(workflow: Workflow, action: str, verb: str, *, actor, address, before, after) -> None:
    audit_record(
        workspace=workflow.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=f"{verb} {workflow.name}",
        changes={"status": {"before": before, "after": after}},
        obj=workflow,
    )


def workflow_settings_save(
    *,
    workflow: Workflow,
    max_amount_per_charge: int | None,
    max_amount_per_day: int | None,
    safety_currency: str,
    allow_reentry: bool,
) -> Workflow:
    """Safety settings, amounts in minor units of `safety_currency` (None: no limit). They
    reach runs when the workflow is next published (test runs use them at once)."""
    for value in (max_amount_per_charge, max_amount_per_day):
        if value is not None and value <= 0:
            raise ValidationError("A limit must be greater than zero (leave it blank for none).")
    workflow.max_amount_per_charge = max_amount_per_charge
    workflow.max_amount_per_day = max_amount_per_day
    workflow.safety_currency = safety_currency.lower()
    workflow.allow_reentry = allow_reentry
    workflow.save(
        update_fields=["max_amount_per_charge", "max_amount_per_day", "safety_currency",
                       "allow_reentry", "updated_at"]
    )  # fmt: skip
    return workflow


def workflow_settings(workflow: Workflow) -> dict:
    return {
        "max_amount_per_charge": workflow.max_amount_per_charge,
        "max_amount_per_day": workflow.max_amount_per_day,
        "safety_currency": workflow.safety_currency,
        "allow_reentry": workflow.allow_reentry,
    }


# --- builder edits of the draft --------------------------------------------------------------


@transaction.atomic
def trigger_set(*, workflow: Workflow, type: str, config: dict) -> Workflow:
    if type not in registry.TRIGGERS:
        raise ValidationError(f"There is no trigger {type!r}.")
    locked = _locked(workflow)
    locked.definition = {**(locked.definition or tree.empty_definition()),
                         "trigger": {"type": type, "config": config}}  # fmt: skip
    _save_definition(workflow, locked)
    return workflow


@transaction.atomic
def step_add(
    *,
    workflow: Workflow,
    type: str,
    branch: tuple[str, str] | None = None,
    after: str | None = None,
) -> dict:
    """Add a step of action `type`, named after the action, with its form's defaults.

    `branch` is (if/else step key, "then" or "else") for a step inside a branch, None for the
    main line. `after` is the key of the step to insert after; "" inserts first; None appends.
    """
    if type not in registry.ACTIONS:
        raise ValidationError(f"There is no action {type!r}.")
    action = registry.action(type)
    locked = _locked(workflow)
    definition = locked.definition or tree.empty_definition()
    step = tree.step_new(
        key=tree.step_key_new(definition, type),
        type=type,
        name=action.label,
        config=_default_config(action, workflow.workspace),
        branching=action.kind == "branch",
    )
    tree.step_insert(definition, step, branch=branch, after=after)
    locked.definition = definition
    _save_definition(workflow, locked)
    return step


@transaction.atomic
def step_update(*, workflow: Workflow, key: str, name: str, config: dict) -> dict:
    """Rename a step and replace its config (validated by the action's config form)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the step a name."})
    locked = _locked(workflow)
    step = {**tree.step_find(locked.definition, key).step, "name": name[:120], "config": config}
    tree.step_replace(locked.definition, key, step)
    _save_definition(workflow, locked)
    return step


@transaction.atomic
def step_remove(*, workflow: Workflow, key: str) -> dict:
    """Remove a step (an if/else step with its branches)."""
    locked = _locked(workflow)
    removed = tree.step_remove(locked.definition, key)
    _save_definition(workflow, locked)
    return removed


@transaction.atomic
def step_move(*, workflow: Workflow, key: str, direction: str) -> None:
    """Move a step one place "up" or "down" within its list (at an end: no change)."""
    if direction not in ("up", "down"):
        raise ValidationError("Move a step up or down.")
    locked = _locked(workflow)
    if tree.step_move(locked.definition, key, -1 if direction == "up" else 1):
        _save_definition(workflow, locked)


# --- checks, publishing, test runs ------------------------------------------------------------


def step_safety_problem(*, workflow: Workflow, step: dict) -> str:
    """Why a charging step may not be published with the workflow's safety settings as they
    are ("" when it may): see automation.actions.safety."""
    trigger = (workflow.definition or {}).get("trigger") or {}
    return safety.uncapped_problem(
        trigger_type=trigger.get("type"), step=step, settings=workflow_settings(workflow)
    )


def workflow_problems(workflow: Workflow) -> list[str]:
    """Why the draft cannot run yet, one clear sentence each (empty: ready to publish)."""
    definition = workflow.definition or {}
    problems = []
    trigger = definition.get("trigger") or {}
    if trigger.get("type") not in registry.TRIGGERS:
        problems.append("Add a trigger: what starts this workflow.")
    else:
        trigger_class = registry.trigger(trigger["type"])
        problems += trigger_class.publish_problems(trigger.get("config") or {}, workflow)
    # What a copy from another workspace (or an import) left for the member to choose.
    problems += choices_pending(definition)
    steps = [placed.step for placed in tree.steps_walk(definition)]
    if not steps:
        problems.append("Add at least one action.")
    for step in steps:
        name = step.get("name") or step["key"]
        if step.get("type") not in registry.ACTIONS:
            problems.append(f"Step “{name}”: the action {step.get('type')!r} no longer exists.")
            continue
        errors = step_config_errors(workspace=workflow.workspace, step=step)
        if errors:
            problems.append(f"Step “{name}” is incomplete: {' '.join(errors)}")
        uncapped = step_safety_problem(workflow=workflow, step=step)
        if uncapped:
            problems.append(f"Step “{name}”: {uncapped}")
        above = {s["key"] for s in tree.steps_above(definition, step["key"])}
        for path in sorted(variables_in(step.get("config") or {})):
            parts = path.split(".")
            if parts[0] == "steps" and (len(parts) < 2 or parts[1] not in above):
                problems.append(
                    f"Step “{name}” uses {{{{ {path} }}}}, but that step does not run before it."
                )
    return problems


# What a member who restores a version does, in the audit trail.
AUDIT_VERSION_RESTORE = AuditEntry.Action.WORKFLOW_RESTORE


def _labels() -> dict[str, str]:
    """Type key -> label of every trigger and action, for `automation.versions`."""
    return {key: label for key, (label, _path) in {**registry.TRIGGERS, **registry.ACTIONS}.items()}


def _field_label(step_type: str, field: str) -> str:
    """The label a step's config field has in its settings form."""
    if step_type in registry.ACTIONS:
        form_field = registry.action(step_type).config_form.base_fields.get(field)
        if form_field is not None and form_field.label:
            return str(form_field.label)
    return versions.humanize(field)


def definition_changes(
    *, workspace, old: dict | None, new: dict | None, old_settings: dict, new_settings: dict
) -> list[versions.Change]:
    """What differs from `old` to `new` (definitions and safety settings), in words, with the
    workspace's forms and calendars named as the builder names them."""

    def trigger_text(trigger: dict) -> str:
        if trigger.get("type") not in registry.TRIGGERS:
            return trigger.get("type") or "?"
        return registry.trigger(trigger["type"]).describe(trigger.get("config") or {}, workspace)

    return versions.changes(
        old,
        new,
        old_settings=old_settings,
        new_settings=new_settings,
        labels=_labels(),
        trigger_text=trigger_text,
        field_label=_field_label,
    )


def version_settings(version: WorkflowVersion) -> dict:
    """A version's safety settings, with today's defaults for any it predates."""
    defaults = {"max_amount_per_charge": None, "max_amount_per_day": None,
                "safety_currency": "usd", "allow_reentry": True}  # fmt: skip
    return {**defaults, **(version.settings or {})}


def workflow_has_changes(workflow: Workflow) -> bool:
    """Whether the draft (steps, trigger, safety settings) differs from the live version. False
    for a workflow never published."""
    live = workflow.published_version
    if live is None:
        return False
    return versions.has_changes(
        live.definition,
        workflow.definition,
        old_settings=version_settings(live),
        new_settings=workflow_settings(workflow),
    )


def workflow_changes(workflow: Workflow) -> list[versions.Change]:
    """What "Publish changes" would put live: the draft against the published version."""
    live = workflow.published_version
    if live is None:
        return []
    return definition_changes(
        workspace=workflow.workspace,
        old=live.definition,
        new=workflow.definition,
        old_settings=version_settings(live),
        new_settings=workflow_settings(workflow),
    )


def workflow_publish(
    *, workflow: Workflow, actor=None, address: str | None = None, changes_only: bool = False
) -> WorkflowVersion:
    """Snapshot the draft into version n+1 and make it the one new runs use.

    Raises ValidationError listing every problem, and stores nothing, if the draft is not
    ready. Runs already started keep executing the version they started with. `actor` and
    `address` are who published, for the audit trail; the version keeps `actor` and a summary
    of what it changes from the version before.

    `changes_only` is "Publish changes" on a live workflow: refused (code "not_published") if
    the workflow is not published, and (code "no_changes") if the draft is the live version's.
    The version is made and switched to under the workflow's row lock, in one transaction: a
    trigger starts its run on the old version or the new one, never on none.
    """
    with transaction.atomic():
        locked = (
            Workflow.objects.select_for_update().select_related("workspace").get(pk=workflow.pk)
        )
        previous = locked.versions.order_by("-number").first()
        if changes_only:
            if locked.status != Workflow.Status.PUBLISHED or locked.published_version is None:
                raise ValidationError(
                    "The workflow is not published: switch Publish on to put it live.",
                    code="not_published",
                )
            if not workflow_has_changes(locked):
                raise ValidationError(
                    "Nothing to publish: the draft is the same as the live version "
                    f"{locked.published_version.number}.",
                    code="no_changes",
                )
        problems = workflow_problems(locked)
        if problems:
            raise ValidationError(problems)
        number = (previous.number if previous else 0) + 1
        settings = workflow_settings(locked)
        if previous is None:
            summary = "First version."
        else:
            found = definition_changes(
                workspace=locked.workspace, old=previous.definition, new=locked.definition,
                old_settings=version_settings(previous), new_settings=settings,
            )  # fmt: skip
            summary = versions.summary_text(found) or f"The same as version {previous.number}."
        user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        version = WorkflowVersion.objects.create(
            workflow=locked,
            number=number,
            definition=copy.deepcopy(locked.definition),
            settings=settings,
            trigger_type=locked.trigger_type,
            published_by=user,
            summary=summary,
        )
        before = (
            locked.status,
            locked.published_version.number if locked.published_version else None,
        )
        locked.status = Workflow.Status.PUBLISHED
        locked.published_version = version
        locked.save(update_fields=["status", "published_version", "updated_at"])
        audit_record(
            workspace=locked.workspace,
            actor=actor,
            address=address,
            action=AuditEntry.Action.WORKFLOW_PUBLISH,
            summary=f"Published {locked.name} as version {number}",
            changes={
                "status": {"before": before[0], "after": locked.status},
                "version": {"before": before[1], "after": number},
            },
            obj=locked,
        )
    workflow.status, workflow.published_version = locked.status, version
    workflow.updated_at = locked.updated_at
    return version


def version_restore(
    *, workflow: Workflow, version: WorkflowVersion, actor=None, address: str | None = None
) -> Workflow:
    """Copy `version`'s definition and safety settings into the draft. Nothing goes live
    until the draft is published. ValidationError (code "same") if the draft is that already;
    audited otherwise."""
    if version.workflow_id != workflow.pk:
        raise ValidationError("That version belongs to another workflow.")
    with transaction.atomic():
        locked = _locked(workflow)
        settings = version_settings(version)
        if not versions.has_changes(
            version.definition, locked.definition,
            old_settings=settings, new_settings=workflow_settings(locked),
        ):  # fmt: skip
            raise ValidationError(
                f"The draft is already the same as version {version.number}.", code="same"
            )
        locked.definition = copy.deepcopy(version.definition)
        for field in ("max_amount_per_charge", "max_amount_per_day", "safety_currency",
                      "allow_reentry"):  # fmt: skip
            setattr(locked, field, settings[field])
        locked.save(
            update_fields=["definition", "max_amount_per_charge", "max_amount_per_day",
                           "safety_currency", "allow_reentry", "updated_at"]
        )  # fmt: skip
        audit_record(
            workspace=workflow.workspace,
            actor=actor,
            address=address,
            action=AUDIT_VERSION_RESTORE,
            summary=f"Restored version {version.number} of {locked.name} as the draft",
            changes={"draft": {"before": None, "after": f"version {version.number}"}},
            obj=locked,
        )
    for field in ("definition", "max_amount_per_charge", "max_amount_per_day",
                  "safety_currency", "allow_reentry", "updated_at"):  # fmt: skip
        setattr(workflow, field, getattr(locked, field))
    return workflow


def version_history(workflow: Workflow) -> list[dict]:
    """Each version, newest first: the version, what it changed from the one before (lines),
    and whether it is live. Versions published before summaries were kept get theirs now."""
    rows = list(workflow.versions.select_related("published_by").order_by("-number"))
    live = workflow.status == Workflow.Status.PUBLISHED
    live_id = workflow.published_version_id if live else None
    history = []
    for index, version in enumerate(rows):
        summary = version.summary
        if not summary:
            earlier = rows[index + 1] if index + 1 < len(rows) else None
            if earlier is None:
                summary = "First version."
            else:
                found = definition_changes(
                    workspace=workflow.workspace,
                    old=earlier.definition,
                    new=version.definition,
                    old_settings=version_settings(earlier),
                    new_settings=version_settings(version),
                )
                summary = versions.summary_text(found) or f"The same as version {earlier.number}."
        history.append({"version": version, "lines": summary.splitlines(),
                        "live": version.pk == live_id})  # fmt: skip
    return history


def workflow_unpublish(
    *, workflow: Workflow, cancel_waiting: bool = False, actor=None, address: str | None = None
) -> Workflow:
    """Stop starting runs. Runs in flight finish, and so do the runs waiting (on a Wait step
    or for a retry) unless `cancel_waiting`, which cancels them in the same transaction. The
    last version stays, for history. `actor` and `address` are who did it, for the audit
    trail, which records it only when the workflow was published."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        before = locked.status
        locked.status = Workflow.Status.DRAFT
        locked.save(update_fields=["status", "updated_at"])
        if before != locked.status:
            _audit(
                locked,
                AuditEntry.Action.WORKFLOW_UNPUBLISH,
                "Unpublished",
                actor=actor,
                address=address,
                before=before,
                after=locked.status,
            )
        if cancel_waiting:
            by = actor.get_username() if actor is not None else ""
            runs_cancel_waiting(workflow=locked, by=by)
    workflow.status = locked.status
    return workflow


def test_run_start(
    *, workflow: Workflow, contact=None, trigger: dict | None = None, started_by=None
) -> Run:
    """Run the draft as it is now, with `trigger` or the trigger's sample payload.

    The run executes a frozen copy of the draft (later edits do not change it). Stripe
    actions on a live-mode connection only validate (see ActionContext.test_run). E-mails go
    to `started_by`, the member running it, alone (none at all without one).
    """
    problems = workflow_problems(workflow)
    if problems:
        raise ValidationError(problems)
    if contact is not None and contact.workspace_id != workflow.workspace_id:
        raise ValidationError("That contact belongs to another workspace.")
    trigger_type = workflow.trigger_type
    if trigger is None:
        trigger = registry.trigger(trigger_type).sample(workflow.workspace)
    with transaction.atomic():
        run = Run.objects.create(
            workspace=workflow.workspace,
            workflow=workflow,
            version=None,
            is_test=True,
            started_by=started_by,
            test_definition=copy.deepcopy(workflow.definition),
            contact=contact,
            trigger_type=trigger_type,
            trigger=trigger,
            cause=f"test:{uuid.uuid4()}",
        )
        run_enqueue(run)
    return run


test_run_start.__test__ = False  # not a test, whatever pytest thinks of its name


# --- the variable picker -----------------------------------------------------------------------


def variables_for_step(*, workflow: Workflow, key: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the picker offers in step `key`: groups of (label, path), Contact, Trigger, Steps.

    Steps are only those that have run when this one starts (`definition.steps_above`).
    """
    definition = workflow.definition or {}
    contact = [
        ("Name", "contact.name"),
        ("E-mail", "contact.email"),
        ("Phone", "contact.phone"),
        ("Stripe customer ID", "contact.stripe_customer_id"),
    ]
    rows = workflow.workspace.contacts.order_by("-updated_at").values_list(
        "custom_fields", flat=True
    )[:CUSTOM_KEYS_SAMPLE]
    custom = sorted({k for fields in rows if isinstance(fields, dict) for k in fields})
    contact += [(k, f"contact.custom.{k}") for k in custom]
    groups = [("Contact", contact)]
    trigger_type = workflow.trigger_type
    if trigger_type in registry.TRIGGERS:
        outputs = registry.trigger(trigger_type).outputs
        groups.append(("Trigger", [(o, f"trigger.{o}") for o in outputs]))
    step_vars = []
    for step in tree.steps_above(definition, key):
        if step.get("type") not in registry.ACTIONS:
            continue
        for field in registry.action(step["type"]).output_fields():
            step_vars.append((f"{step.get('name') or step['key']}: {field}",
                              f"steps.{step['key']}.{field}"))  # fmt: skip
    if step_vars:
        groups.append(("Steps", step_vars))
    return groups
