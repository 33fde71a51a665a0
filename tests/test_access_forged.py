"""Forged POSTs to another workspace's objects change nothing.

The outsider owns workspace "globex" and holds every permission there. It sends each page of
"acme" the form that page shows acme's owner, filled in, and gets 404; the same to its own
workspace's URLs naming acme's objects, and gets 404 again. Every table of the project is the
same after each request. The same forms sent by acme's owner (undone after) show that they
would have changed something: the forged requests were not refused for being malformed.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import transaction

from integrations.services import connection_create_from_key
from tests.test_access import PAGES, _objects, _url, changed_models, db_snapshot

# Pages whose form, filled in and sent by acme's owner, changes data (the control).
MUST_CHANGE = {
    "contact_create", "contact_edit", "calendar_create", "calendar_edit", "form_create",
    "form_edit", "invoice_edit", "member_invitation_resend", "member_invitation_revoke",
    "member_remove", "org_unit_create", "org_unit_edit",
    "payment_link_cancel", "payment_link_send", "reconciliation_run", "role_create",
    "role_edit", "run_retry", "stripe_connection_check", "stripe_connection_edit",
    "stripe_connection_remove", "stripe_events_fetch", "workflow_create", "workflow_delete",
    "workflow_duplicate", "workflow_publish", "workflow_rename", "workflow_settings",
    "workflow_step", "workflow_step_remove",
}  # fmt: skip
# Changed in every form that has them, so that sending the form changes something.
RENAMED = ("name", "notes", "description")


def _plausible(name: str, kind: str) -> str:
    if kind == "email" or "email" in name:
        return "forged@example.com"
    if kind == "number" or "amount" in name or "price" in name:
        return "10"
    return "Forged"


class FormFields(HTMLParser):
    """The fields of a page's POST forms that submit to the page itself, as the browser would
    send them: values shown, selected options, checked boxes; required blanks filled in."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.fields = url, {}
        self.inside, self.select, self.textarea = False, None, None
        self.options: list[tuple[str, bool]] = []

    def _add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if tag == "form":
            target = attrs.get("hx-post") or attrs.get("action") or ""
            posts = attrs.get("method", "").lower() == "post" or "hx-post" in attrs
            self.inside = posts and target in ("", self.url)
        elif tag == "option" and self.select:
            self.options.append((attrs.get("value") or "", "selected" in attrs))
        elif not (self.inside and name):
            return
        elif tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self._add(name, attrs.get("value", "on"))
        elif tag == "input" and kind not in ("submit", "button", "file", "image", "reset"):
            blank = _plausible(name, kind) if "required" in attrs else ""
            self._add(name, attrs.get("value") or blank)
        elif tag == "select":
            self.select, self.options = name, []
        elif tag == "textarea":
            self.textarea = name
            self._add(name, _plausible(name, "text") if "required" in attrs else "")

    def handle_data(self, data):
        if self.textarea and data.strip():
            self.fields[self.textarea] = [data.strip()]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.options if selected]
            self.fields[self.select] = chosen or [value for value, _ in self.options[:1]]
            self.select = None


def _form_data(client, url: str) -> dict[str, list[str]]:
    with transaction.atomic():  # some pages write when shown (a payment's return, say)
        response = client.get(url)
        transaction.set_rollback(True)
    parser = FormFields(url)
    if response.status_code == 200:
        parser.feed(response.text)
    for name in RENAMED:
        if name in parser.fields:
            parser.fields[name] = [f"Forged {parser.fields[name][0]}".strip()]
    return parser.fields


def _changes_as_owner(client, url: str, data: dict) -> bool:
    """Whether acme's owner sending `data` to `url` changes any table (undone after)."""
    with transaction.atomic():
        before = db_snapshot()
        client.post(url, data)
        changed = changed_models(before) != []
        transaction.set_rollback(True)
    return changed


@pytest.fixture
def objects(workspace, org_units, staff, owner, sandbox, settings, other_workspace):
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_access_matrix"
    # Globex has a Stripe account of its own: acme's customers must not be found through it.
    secret, publishable, _ = sandbox.new_account(name="Globex")
    connection_create_from_key(
        workspace=other_workspace, secret_key=secret, publishable_key=publishable
    )
    return _objects(workspace, org_units, staff, sandbox)


def test_forged_posts_to_another_workspaces_objects_are_404_and_change_nothing(
    objects, workspace, owner, outsider, as_user, sandbox
):
    acme, forger = as_user(owner), as_user(outsider)
    forms = {name: _form_data(acme, _url(name, needs, objects)) if post_status != 405 else {}
             for name, (_, needs, _, post_status) in PAGES.items()}  # fmt: skip

    wrong = []
    before = db_snapshot()
    for name, (_, needs, _, post_status) in sorted(PAGES.items()):
        sends = [(forger.post, _url(name, needs, objects))]  # acme's page
        if needs:  # globex's own page naming acme's object; read it where it takes no POST
            send = forger.get if post_status == 405 else forger.post
            sends.append((send, _url(name, needs, objects, slug="globex")))
        for send, url in sends:
            if (status := send(url, forms[name]).status_code) != 404:
                wrong.append(f"{send.__name__.upper()} {url}: {status}")
    assert wrong == []
    assert changed_models(before) == []
    stripe = sandbox.client(workspace.stripe_connections.get().secret_key).v1.customers
    for key in ("customer", "doomed_customer"):  # nor anything in acme's Stripe account
        assert not stripe.retrieve(objects[key][1]).to_dict().get("deleted"), key

    # The control, last (Stripe keeps what it is told): acme's owner sending the same forms.
    for name in sorted(MUST_CHANGE):
        url = _url(name, PAGES[name][1], objects)
        assert _changes_as_owner(acme, url, forms[name]), f"{name}: the form changes nothing"
