"""Run history a person can read (issue 16, item 3): amounts in their currency beside the raw
minor units, inputs and outputs as tables with the raw JSON behind a toggle, the runs list
with the trigger's event, the contact, the amount charged and filters by status, trigger and
period; a run stopped by a filter is "Stopped", never among the failed; times in the viewer's
zone with the zone named."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from automation.models import Run, StepRun
from automation.views.runs import value_rows
from tests.automation.conftest import charge_step, publish
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
CSS = django_settings.BASE_DIR / "static" / "css" / "portal.css"


def _text(html: str) -> str:
    """The page as read: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _rows(html: str) -> str:
    """The list's rows, as read ("" when the list is empty)."""
    return _text(html.split("<tbody>")[1].split("</tbody>")[0]) if "<tbody>" in html else ""


def _list(workflow):
    return reverse("run_list", args=[workflow.workspace.slug, workflow.uuid])


@pytest.fixture
def workflow(workspace):
    step = {"key": "check", "type": "filter", "name": "Only paying leads", "config": {}}
    return publish(workspace, [step], trigger="form_submitted")


def _run(workflow, *, event="form_submitted", trigger_type="form_submitted", **fields):
    fields.setdefault("cause", f"c:{Run.objects.count()}")
    return Run.objects.create(
        workspace=workflow.workspace, workflow=workflow, version=workflow.published_version,
        trigger_type=trigger_type, trigger={"type": event}, **fields,
    )  # fmt: skip


def _charge(run, amount, currency="usd", *, key="charge", status="succeeded", intent="pi_1"):
    return StepRun.objects.create(
        run=run, step_key=key, step_type="stripe_one_time_charge", name="Charge", status=status,
        inputs={"amount": amount, "currency": currency},
        outputs={"id": intent, "status": "succeeded" if status == "succeeded" else "failed",
                 "amount": amount, "currency": currency, "latest_charge": "ch_1"},
    )  # fmt: skip


def _created(run, when: dt.datetime) -> None:
    Run.objects.filter(pk=run.pk).update(created_at=when)


# --- the run page ------------------------------------------------------------------------


def test_a_charge_step_shows_75_usd_beside_7500_in_tables_with_the_raw_json_behind_a_toggle(
    workspace, connection, contact, trigger_run, owner, as_user
):
    """A real run through the sandbox: the charge's amount reads as money on the run page."""
    publish(workspace, [charge_step(connection, amount=7500)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded"
    html = as_user(owner).get(run.get_absolute_url()).content.decode()

    outputs = html.split("<caption>Outputs</caption>")[1].split("</table>")[0]
    amount_row = next(row for row in outputs.split("<tr>") if "<code>amount</code>" in row)
    assert "$75.00" in amount_row and "7500 in minor units" in amount_row
    assert "<code>latest_charge</code>" in outputs  # each output a row of its own
    inputs = html.split("<caption>Inputs (variables resolved)</caption>")[1].split("</table>")[0]
    assert "$75.00" in inputs and "<code>customer_id</code>" in inputs
    assert contact.stripe_customer_id in inputs  # the variable, resolved
    toggle = '<details class="wf-raw"><summary>Raw JSON</summary>'
    raw = html.split(toggle)[1].split("</details>")[0]
    assert '"amount": 7500' in unescape(raw) and '<pre class="payload">' in raw
    assert "Charged $75.00" in _text(html)


def test_values_flatten_to_dotted_keys_and_amounts_take_the_currency_beside_them():
    rows = value_rows(
        {
            "amount": 7500,
            "currency": "usd",
            "amount_in_minor_units": True,  # a yes/no, not an amount
            "refund": {"amount_refunded": 1250, "currency": "jpy"},
            "line": {"amount": 990},  # no currency of its own: the one above it
            "typed": {"amount": "49.99"},  # an amount typed in major units stays as typed
            "tags": ["vip", "lead"],
            "note": None,
        }
    )
    shown = {row["key"]: (row["value"], row["money"]) for row in rows}
    assert shown["amount"] == ("7500", "$75.00")
    assert shown["amount_in_minor_units"] == ("true", "")
    assert shown["refund.amount_refunded"] == ("1250", "¥1,250")
    assert shown["line.amount"] == ("990", "$9.90")
    assert shown["typed.amount"] == ("49.99", "")
    assert shown["tags.0"] == ("vip", "") and shown["tags.1"] == ("lead", "")
    assert shown["note"] == ("null", "")
    # Without a currency beside it, the step's configured one; digits the step calls minor units.
    rows = value_rows({"amount": "2500", "amount_in_minor_units": True}, "eur")
    assert rows[0] == {"key": "amount", "value": "2500", "money": "€25.00"}
    assert value_rows({}) == [] and value_rows({"amount": 5}) == [
        {"key": "amount", "value": "5", "money": ""}
    ]


def test_long_values_wrap_in_the_values_table(workflow, owner, as_user):
    run = _run(workflow, status="succeeded")
    long = "https://x.test/" + "a" * 300
    StepRun.objects.create(run=run, step_key="mail", step_type="send_email", name="Mail",
                           status="succeeded", outputs={"url": long})  # fmt: skip
    html = as_user(owner).get(run.get_absolute_url()).content.decode()
    assert '<table class="table wf-values">' in html
    css = CSS.read_text()
    assert re.search(r"\.wf-values th, \.wf-values td \{[^}]*overflow-wrap: anywhere", css)


def test_the_run_page_names_the_event_and_shows_times_in_the_viewer_s_zone(
    workflow, owner, as_user
):
    run = _run(workflow, status="succeeded", event="charge.succeeded",
               trigger_type="stripe_charge_event")  # fmt: skip
    _created(run, dt.datetime(2030, 1, 8, 3, 30, tzinfo=dt.UTC))
    client = as_user(owner)
    client.cookies["tz"] = NEW_YORK
    html = client.get(run.get_absolute_url()).content.decode()
    text = _text(html)
    assert "Run of Jan. 7, 2030, 10:30 p.m. EST" in text  # 03:30 UTC is the evening before
    assert '<time datetime="2030-01-08T03:30:00+00:00">' in html
    assert "Stripe charge event · charge.succeeded" in text


def test_the_run_pages_show_unpublished_changes_in_the_header(workflow, owner, as_user):
    run = _run(workflow, status="succeeded")
    client = as_user(owner)
    assert "Unpublished changes" not in client.get(run.get_absolute_url()).content.decode()
    workflow.definition["steps"][0]["name"] = "Only leads who pay"
    workflow.save()
    for url in (run.get_absolute_url(), _list(workflow)):
        html = client.get(url).content.decode()
        assert "Unpublished changes" in html and "Publish changes" in html


# --- the runs list -----------------------------------------------------------------------


def test_the_list_shows_event_contact_and_amount_charged(workflow, workspace, owner, as_user):
    jane = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    paid = _run(workflow, status="succeeded", contact=jane)
    _charge(paid, 7500, key="fee", intent="pi_fee")
    _charge(paid, 2500, key="extra", intent="pi_extra")
    _charge(paid, 9900, key="declined", status="failed", intent="pi_declined")  # took nothing
    dry = _run(workflow, status="succeeded", event="charge.succeeded",
               trigger_type="stripe_charge_event")  # fmt: skip
    StepRun.objects.create(run=dry, step_key="charge", step_type="stripe_one_time_charge",
                           name="Charge", status="succeeded",
                           outputs={"id": "(test run: not sent)", "status": "not_sent",
                                    "amount": 500, "currency": "usd"})  # fmt: skip
    html = as_user(owner).get(_list(workflow)).content.decode()
    rows = {("jane" if "Jane Cooper" in row else "dry"): _text(row)
            for row in html.split("<tbody>")[1].split("<tr>")[1:]}  # fmt: skip
    assert "Form submitted" in rows["jane"] and "$100.00" in rows["jane"]
    assert "charge.succeeded" in rows["dry"] and "$5.00" not in rows["dry"]
    contact_url = reverse("contact_detail", args=["acme", jane.uuid])
    assert f'<a href="{contact_url}">Jane Cooper</a>' in html
    for heading in ("Trigger", "Contact", "Status", "Charged"):
        assert f"<th>{heading}</th>" in html


def test_the_list_filters_by_status_trigger_and_period_with_an_empty_state_each(
    workflow, owner, as_user
):
    failed = _run(workflow, status="failed", error_code="PAYMENT_REQUIRED",
                  error_message="Card declined")  # fmt: skip
    _run(workflow, status="succeeded", event="charge.succeeded", trigger_type="stripe_charge_event")
    old = _run(workflow, status="failed", error_code="PROVIDER_ERROR")
    _created(old, timezone.now() - dt.timedelta(days=30))
    client = as_user(owner)

    def listed(**params) -> str:
        return client.get(_list(workflow), params).content.decode()

    rows = _rows(listed(status="failed"))
    assert "PAYMENT_REQUIRED" in rows and "PROVIDER_ERROR" in rows
    assert "charge.succeeded" not in rows
    html = listed(trigger="charge.succeeded")
    assert "charge.succeeded" in _rows(html) and "PAYMENT_REQUIRED" not in html
    assert '<option value="charge.succeeded" selected>charge.succeeded</option>' in html
    assert '<option value="form_submitted">Form submitted</option>' in html
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    html = listed(status="failed", since=week_ago)
    assert "PAYMENT_REQUIRED" in html and "PROVIDER_ERROR" not in html
    assert failed.get_absolute_url() in html

    assert "No failed runs in this period." in listed(status="failed", until="2000-01-31")
    assert "No runs stopped by a filter." in listed(status="stopped")
    assert "No succeeded runs started by “Form submitted”." in listed(
        status="succeeded", trigger="form_submitted"
    )
    html = listed(status="cancelled")
    assert f'href="{_list(workflow)}">Clear filters</a>' in html


def test_the_trigger_filter_offers_an_event_as_soon_as_a_run_is_started_by_it(
    workflow, owner, as_user
):
    _run(workflow)
    client = as_user(owner)
    assert '<option value="charge.refunded">' not in client.get(_list(workflow)).content.decode()
    _run(workflow, event="charge.refunded", trigger_type="stripe_charge_event")
    html = client.get(_list(workflow)).content.decode()
    assert '<option value="charge.refunded">charge.refunded</option>' in html
    assert '<option value="form_submitted">Form submitted</option>' in html


def test_a_period_ending_before_it_starts_is_refused_next_to_the_field(workflow, owner, as_user):
    _run(workflow, status="failed", error_code="PAYMENT_REQUIRED")
    html = as_user(owner).get(_list(workflow), {"since": "2030-01-10", "until": "2030-01-01"})
    html = html.content.decode()
    assert "The end of the period must be on or after its start." in html
    assert "PAYMENT_REQUIRED" not in html  # nothing listed under a filter that cannot apply


def test_the_period_is_in_the_viewer_s_days(workflow, owner, as_user):
    """03:30 UTC on 8 January is still 7 January in New York."""
    run = _run(workflow, status="succeeded")
    _created(run, dt.datetime(2030, 1, 8, 3, 30, tzinfo=dt.UTC))
    client = as_user(owner)
    day = {"since": "2030-01-07", "until": "2030-01-07"}
    assert run.get_absolute_url() not in client.get(_list(workflow), day).content.decode()
    client.cookies["tz"] = NEW_YORK
    html = client.get(_list(workflow), day).content.decode()
    assert run.get_absolute_url() in html
    assert "Jan. 7, 2030, 10:30 p.m. EST" in _text(html)
    assert '<time datetime="2030-01-08T03:30:00+00:00">' in html


def test_a_run_stopped_by_a_filter_is_stopped_never_among_the_failed(workflow, owner, as_user):
    stopped = _run(workflow, status="stopped", error_message="The lead has no e-mail address.")
    client = as_user(owner)
    html = client.get(_list(workflow)).content.decode()
    row = html.split("<tbody>")[1]
    assert 'class="wf-status wf-status-stopped">Stopped by a filter<' in row
    assert '<span class="muted">The lead has no e-mail address.</span>' in row
    assert "error-text" not in row
    failed_only = client.get(_list(workflow), {"status": "failed"}).content.decode()
    assert stopped.get_absolute_url() not in failed_only
    assert "No failed runs." in failed_only
    stopped_only = client.get(_list(workflow), {"status": "stopped"}).content.decode()
    assert stopped.get_absolute_url() in stopped_only
    css = CSS.read_text()
    rules = dict(re.findall(r"\.wf-status-([a-z]+) \{([^}]*)\}", css))
    assert rules["stopped"] != rules["failed"]
    assert "waiting" in rules and "cancelled" in css


def test_the_filters_survive_pagination(workflow, owner, as_user, settings):
    settings.PORTAL_PAGE_SIZE = 2
    for _ in range(3):
        _run(workflow, status="succeeded", event="charge.succeeded",
             trigger_type="stripe_charge_event")  # fmt: skip
    _run(workflow, status="succeeded")
    html = as_user(owner).get(_list(workflow), {"trigger": "charge.succeeded"}).content.decode()
    assert "Page 1 of 2 (3 in all)" in html
    assert "trigger=charge.succeeded&amp;page=2" in html


def test_the_list_needs_workflow_edit_and_the_workspace(workflow, viewer, outsider, as_user):
    assert as_user(viewer).get(_list(workflow)).status_code == 403
    assert as_user(outsider).get(_list(workflow)).status_code == 404
