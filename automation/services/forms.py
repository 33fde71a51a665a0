"""Writes for forms: building a form, and receiving a submission (contact upsert + runs)."""

from __future__ import annotations

import hashlib
import json
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from automation.models import Form, FormField, Submission
from automation.services.runs import runs_start_for_trigger
from portal.models import Contact, Workspace

CONTACT_FIELDS = (FormField.MapsTo.NAME, FormField.MapsTo.EMAIL, FormField.MapsTo.PHONE)
NAME_LENGTH = Contact._meta.get_field("name").max_length


def form_save(
    *,
    workspace: Workspace,
    form: Form | None = None,
    name: str,
    slug: str,
    intro: str = "",
    success_message: str = "",
    is_active: bool = True,
    submission_limit: int | None = None,
    submission_window_minutes: int | None = None,
    fields: list[dict],
) -> Form:
    """Create a form or update one, with its fields in the given order.

    `fields` are dicts of FormField attributes (label, key, kind, maps_to, required, choices);
    existing fields are matched by key, those not listed are deleted. The submission limit
    (per address, per window) is kept when not given (a new form: 5 in 10 minutes).
    """
    form = form or Form(workspace=workspace)
    form.name, form.slug, form.intro, form.is_active = name.strip(), slug, intro, is_active
    form.success_message = success_message or Form._meta.get_field("success_message").default
    if submission_limit is not None:
        form.submission_limit = submission_limit
    if submission_window_minutes is not None:
        form.submission_window_minutes = submission_window_minutes
    _check_fields(fields)
    form.full_clean(exclude=["workspace"], validate_constraints=False)
    try:
        with transaction.atomic():
            if Form.objects.filter(slug=form.slug).exclude(pk=form.pk).exists():
                raise ValidationError({"slug": "Another form uses this address; pick another."})
            form.save()
            keep = []
            for position, data in enumerate(fields):
                field, _ = FormField.objects.update_or_create(
                    form=form, key=data["key"], defaults={**data, "position": position}
                )
                keep.append(field.pk)
            form.fields.exclude(pk__in=keep).delete()
    except IntegrityError:  # the same slug saved at the same moment elsewhere
        raise ValidationError({"slug": "Another form uses this address; pick another."}) from None
    return form


def _check_fields(fields: list[dict]) -> None:
    if not fields:
        raise ValidationError("Add at least one field.")
    keys = [f["key"] for f in fields]
    if len(set(keys)) != len(keys):
        raise ValidationError("Two fields have the same key; keys must differ.")
    for target in CONTACT_FIELDS:
        mapped = [f for f in fields if f["maps_to"] == target]
        if len(mapped) > 1:
            raise ValidationError(f"Only one field can fill the contact's {target}.")
    email = [f for f in fields if f["maps_to"] == FormField.MapsTo.EMAIL]
    if not email or not email[0]["required"] or email[0]["kind"] != FormField.Kind.EMAIL:
        raise ValidationError(
            "A form needs a required e-mail field mapped to the contact's e-mail: "
            "submissions find or create the contact by it."
        )


def contact_for_public_input(
    *, workspace: Workspace, email: str, name: str = "", phone: str = "", custom: dict | None = None
) -> Contact:
    """The workspace's contact with this e-mail (any case), or a new one made of what was typed.

    Anyone can type anyone's e-mail on a public page, so an existing contact is never changed
    by it: its name, phone, custom fields and Stripe customer stay as staff know them, and what
    the visitor claimed stays on the submission or booking (staff see it on the contact's page;
    workflows read it as `trigger.fields.*`). Call inside a transaction.
    """
    email = email.strip()
    if not email:  # nothing to match by (a form built in the admin without an e-mail field)
        return Contact.objects.create(
            workspace=workspace, name=name or "Anonymous", phone=phone, custom_fields=custom or {}
        )
    contacts = Contact.objects.alias(email_lower=Lower("email"))
    contact = contacts.filter(workspace=workspace, email_lower=email.lower()).first()
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            return Contact.objects.create(
                workspace=workspace,
                email=email,
                name=name or email[:NAME_LENGTH],  # an e-mail may be longer than a name
                phone=phone,
                custom_fields=dict(custom or {}),
            )
    except IntegrityError:  # created at the same moment by another request
        return contacts.get(workspace=workspace, email_lower=email.lower())


def form_submitted_payload(submission: Submission) -> dict:
    """The `form_submitted` trigger payload (JSON-safe)."""
    form = submission.form
    return {
        "type": "form_submitted",
        "form": {"id": str(form.uuid), "name": form.name, "slug": form.slug},
        "submission": {
            "id": str(submission.uuid),
            "submitted_at": submission.submitted_at.isoformat(),
        },
        "fields": dict(submission.data),
    }


# A client that sends no page token: the same values to the same form within this many seconds
# are the same submission (a resent request), not a second lead.
FINGERPRINT_WINDOW = 10 * 60


def _dedupe_keys(form: Form, data: dict, token) -> list[str]:
    """The key this submission is stored under, then the keys it may already be stored under."""
    if token:
        return [f"token:{token}"]
    canonical = json.dumps(data, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{form.uuid}:{canonical}".encode()).hexdigest()[:40]
    window = int(time.time()) // FINGERPRINT_WINDOW
    return [f"values:{digest}:{window}", f"values:{digest}:{window - 1}"]


def submission_create(*, form: Form, data: dict, token=None) -> Submission:
    """Record a submission of cleaned values (keyed by field key), find or create its contact,
    and start the matching workflows' runs, all in one transaction.

    `token` is the page's one-time token: the same page sent twice (a double click, a resend)
    returns the first submission and starts nothing more. Without one, the same values sent
    to the same form within FINGERPRINT_WINDOW are the same submission.
    """
    keys = _dedupe_keys(form, data, token)
    earlier = Submission.objects.filter(form=form, dedupe_key__in=keys).first()
    if earlier is not None:
        return earlier
    try:
        return _submission_create(form=form, data=data, dedupe_key=keys[0])
    except IntegrityError:  # the same page sent twice at the same moment
        return Submission.objects.get(form=form, dedupe_key=keys[0])


def _submission_create(*, form: Form, data: dict, dedupe_key: str) -> Submission:
    values = {target: "" for target in CONTACT_FIELDS}
    custom = {}
    for field in form.fields.all():
        value = data.get(field.key)
        if field.maps_to in CONTACT_FIELDS:
            values[field.maps_to] = "" if value is None else str(value)
        elif value not in (None, ""):
            custom[field.key] = value
    with transaction.atomic():
        contact = contact_for_public_input(
            workspace=form.workspace,
            email=values["email"],
            name=values["name"],
            phone=values["phone"],
            custom=custom,
        )
        submission = Submission.objects.create(
            workspace=form.workspace,
            form=form,
            contact=contact,
            data=data,
            submitted_at=timezone.now(),
            dedupe_key=dedupe_key,
        )
        runs_start_for_trigger(
            workspace=form.workspace,
            trigger_type="form_submitted",
            trigger=form_submitted_payload(submission),
            cause=f"form_submission:{submission.uuid}",
            contact=contact,
        )
    return submission
