"""Two separate secrets: the connection's secret key (calls Stripe) and a Stripe trigger's
webhook signing secret (verifies the events sent to the trigger's own endpoint).

A key pasted where the signing secret goes, or a signing secret pasted where the key goes, is
refused with a message naming the mix-up, never shown back, and nothing is saved. A trigger's
own endpoint has its URL (from SITE_URL) and its secret; deliveries to it are verified with
that secret only, and start only that workflow."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.db import connection as db
from django.urls import reverse

from automation.models import Run
from automation.services import workflows as services
from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint
from integrations.services import webhook_secret_set
from tests.automation.conftest import publish
from tests.integrations.webhook_helpers import signature

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wf-builder"}
TRIGGER_SECRET = "whsec_triggerOwnSecret0001"
CONNECTION_SECRET = "whsec_connectionSecret0001"
# Keys of the right shape, pasted in the wrong place.
KEYS = {
    "sk_test_": ("sk_test_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe secret key"),
    "sk_live_": ("sk_live_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe secret key"),
    "rk_test_": ("rk_test_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe restricted key"),
    "rk_live_": ("rk_live_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe restricted key"),
    "pk_test_": ("pk_test_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe publishable key"),
    "pk_live_": ("pk_live_51AbCdEfGhIjKlMnOpQrStUv", "a Stripe publishable key"),
}
WHERE = "The signing secret starts with whsec_ and is under Developers → Webhooks → your"


@pytest.fixture
def workflow(workspace):
    return services.workflow_create(workspace=workspace, name="Charges to CRM")


def _trigger_url(workflow):
    return reverse("workflow_trigger", args=[workflow.workspace.slug, workflow.uuid])


def _own(connection, **more):
    return {"type": "stripe_charge_event", "connection": str(connection.uuid),
            "endpoint": "own", **more}  # fmt: skip


def _trigger_endpoint(workflow):
    return WebhookEndpoint.objects.filter(trigger_key=f"workflow:{workflow.uuid}").first()


def _raw_secret_column(endpoint) -> str:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM integrations_webhookendpoint WHERE id = %s", [endpoint.pk]
        )
        value = cursor.fetchone()[0]
    return value.decode() if isinstance(value, bytes | memoryview) else str(value)


# --- a key pasted where the signing secret goes ---------------------------------------------


@pytest.mark.parametrize("prefix", list(KEYS))
def test_the_trigger_panel_refuses_a_key_as_signing_secret_and_saves_nothing(
    prefix, workflow, connection, staff, as_user, caplog
):
    key, kind = KEYS[prefix]
    client = as_user(staff)
    client.post(_trigger_url(workflow), _own(connection), **HTMX)  # the URL, no secret yet
    endpoint = _trigger_endpoint(workflow)
    assert endpoint is not None and not endpoint.has_secret
    caplog.set_level(logging.DEBUG)

    response = client.post(_trigger_url(workflow), _own(connection, signing_secret=key), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"This is {kind} ({prefix}…), not a webhook signing secret." in html
    assert WHERE in html
    assert key not in html and key[len(prefix) :] not in html
    assert key not in caplog.text
    endpoint.refresh_from_db()
    assert endpoint.secret == "" and endpoint.previous_secret == ""


def test_a_refused_paste_keeps_the_saved_secret_and_the_saved_trigger(
    workflow, connection, staff, as_user
):
    client = as_user(staff)
    client.post(_trigger_url(workflow), _own(connection, signing_secret=TRIGGER_SECRET))
    workflow.refresh_from_db()
    saved = workflow.definition["trigger"]
    response = client.post(
        _trigger_url(workflow),
        {"type": "stripe_charge_event", "connection": "", "signing_secret": KEYS["sk_live_"][0]},
    )
    assert "This is a Stripe secret key (sk_live_…)" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition["trigger"] == saved
    endpoint = _trigger_endpoint(workflow)
    assert endpoint.secret == TRIGGER_SECRET and endpoint.previous_secret == ""


def test_the_webhooks_page_refuses_a_key_as_signing_secret(connection, owner, as_user, caplog):
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    key = KEYS["sk_test_"][0]
    caplog.set_level(logging.DEBUG)
    response = as_user(owner).post(url, {"action": "paste", "secret": key})
    html = response.content.decode()
    assert "This is a Stripe secret key (sk_test_…), not a webhook signing secret." in html
    assert key not in html and key not in caplog.text
    assert not any(endpoint.secret for endpoint in WebhookEndpoint.objects.all())


def test_the_service_refuses_a_key_as_signing_secret(connection):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        webhook_secret_set(connection=connection, secret=KEYS["rk_live_"][0])
    assert "This is a Stripe restricted key (rk_live_…)" in str(refused.value)
    assert not WebhookEndpoint.objects.exists()


# --- a signing secret pasted where the secret key goes ---------------------------------------


def test_connecting_refuses_a_signing_secret_as_secret_key(
    sandbox, workspace, owner, as_user, caplog
):
    _, publishable, _ = sandbox.new_account(name="Acme Dental")
    caplog.set_level(logging.DEBUG)
    response = as_user(owner).post(
        reverse("stripe_connection_create", args=["acme"]),
        {"secret_key": TRIGGER_SECRET, "publishable_key": publishable, "make_default": "on"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is a webhook signing secret (whsec_…), not a Stripe secret key." in html
    assert "Developers → API keys" in html
    assert TRIGGER_SECRET not in html and TRIGGER_SECRET not in caplog.text
    assert not StripeConnection.objects.exists()
    assert sandbox.control.requests(path="/v1/account") == []  # not even sent to Stripe


def test_replacing_the_key_with_a_signing_secret_keeps_the_stored_key(connection, owner, as_user):
    before = connection.secret_key
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    response = as_user(owner).post(
        url, {"secret_key": TRIGGER_SECRET, "publishable_key": connection.publishable_key}
    )
    html = response.content.decode()
    assert "This is a webhook signing secret (whsec_…), not a Stripe secret key." in html
    assert TRIGGER_SECRET not in html
    connection.refresh_from_db()
    assert connection.secret_key == before


def test_a_secret_pasted_in_the_publishable_key_field_is_refused_and_not_shown(
    sandbox, workspace, owner, as_user
):
    secret, _, _ = sandbox.new_account(name="Acme Dental")
    response = as_user(owner).post(
        reverse("stripe_connection_create", args=["acme"]),
        {"secret_key": secret, "publishable_key": CONNECTION_SECRET},
    )
    html = response.content.decode()
    assert "This is a webhook signing secret (whsec_…), not the publishable key" in html
    assert CONNECTION_SECRET not in html and secret not in html
    assert not StripeConnection.objects.exists()


def test_the_forms_say_which_secret_goes_where(workflow, connection, owner, as_user):
    client = as_user(owner)
    connect = client.get(reverse("stripe_connection_create", args=["acme"])).content.decode()
    assert "does not go here: paste it on each Stripe trigger" in connect
    panel = client.get(_trigger_url(workflow) + "?type=stripe_payment_event").content.decode()
    assert "Paste only the signing secret here." in panel
    client.post(_trigger_url(workflow), {**_own(connection), "type": "stripe_payment_event"})
    panel = client.get(_trigger_url(workflow) + "?type=stripe_payment_event").content.decode()
    assert "Not the secret key (sk_…): that one is on the connection" in panel


# --- the trigger's own endpoint ---------------------------------------------------------------


def test_saving_its_own_endpoint_shows_the_absolute_url_and_keeps_the_panel_open(
    workflow, connection, staff, as_user, settings
):
    settings.SITE_URL = "https://portal.agency.example"
    response = as_user(staff).post(_trigger_url(workflow), _own(connection), **HTMX)
    html = response.content.decode()
    endpoint = _trigger_endpoint(workflow)
    assert endpoint.connection == connection and endpoint.enabled_events
    assert all(event.startswith("charge.") for event in endpoint.enabled_events)
    assert f'value="https://portal.agency.example/hooks/stripe/{endpoint.uuid}/"' in html
    assert 'data-copy="wf-endpoint-url"' in html
    assert "Trigger saved: Stripe charge event." in html and "no signing secret yet" in html
    assert "Signing secret" in html  # the panel is still open, asking for it
    workflow.refresh_from_db()
    assert workflow.definition["trigger"]["config"] == {
        "connection": str(connection.uuid),
        "endpoint": "own",
    }
    assert "its own webhook endpoint" in html  # the trigger card says so


def test_the_pasted_secret_is_stored_encrypted_and_shown_masked(
    workflow, connection, staff, as_user
):
    client = as_user(staff)
    response = client.post(_trigger_url(workflow), _own(connection, signing_secret=TRIGGER_SECRET))
    assert "The signing secret is saved." in response.content.decode()
    endpoint = _trigger_endpoint(workflow)
    assert endpoint.secret == TRIGGER_SECRET
    assert TRIGGER_SECRET not in _raw_secret_column(endpoint)  # Fernet at rest
    panel = client.get(_trigger_url(workflow) + "?type=stripe_charge_event").content.decode()
    assert TRIGGER_SECRET not in panel
    assert "whsec_••••••••" in panel and "Replace the signing secret" in panel
    # Saving again without pasting keeps the secret.
    client.post(_trigger_url(workflow), _own(connection))
    endpoint.refresh_from_db()
    assert endpoint.secret == TRIGGER_SECRET


def test_its_own_endpoint_needs_a_chosen_account(workflow, connection, staff, as_user):
    response = as_user(staff).post(
        _trigger_url(workflow),
        {"type": "stripe_charge_event", "connection": "", "endpoint": "own"},  # fmt: skip
    )
    assert "own endpoint belongs to one account" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition["trigger"] is None and not WebhookEndpoint.objects.exists()


def test_the_connections_endpoint_is_the_default(workflow, connection, staff, as_user):
    response = as_user(staff).post(
        _trigger_url(workflow),
        {"type": "stripe_charge_event", "connection": str(connection.uuid)},
        **HTMX,
    )
    assert "Trigger saved" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition["trigger"]["config"] == {"connection": str(connection.uuid)}
    assert not WebhookEndpoint.objects.exists()


def test_register_with_stripe_creates_the_endpoint_once_and_keeps_its_secret(
    sandbox, workflow, connection, owner, as_user
):
    client = as_user(owner)
    panel = client.get(_trigger_url(workflow) + "?type=stripe_charge_event")
    client.post(_trigger_url(workflow), _own(connection))
    panel = client.get(_trigger_url(workflow) + "?type=stripe_charge_event").content.decode()
    assert "uses <strong>0 of Stripe's 16</strong> webhook endpoints" in panel
    assert "Register with Stripe" in panel
    for _ in range(2):
        client.post(_trigger_url(workflow), _own(connection, endpoint_action="register"))
    endpoint = _trigger_endpoint(workflow)
    assert endpoint.stripe_endpoint_id.startswith("we_")
    assert endpoint.secret.startswith("whsec_")
    (created,) = sandbox.control.requests(path="/v1/webhook_endpoints", method="POST")
    assert created["params"]["url"].endswith(f"/hooks/stripe/{endpoint.uuid}/")
    assert all(e.startswith("charge.") for e in created["params"]["enabled_events"])
    panel = client.get(_trigger_url(workflow) + "?type=stripe_charge_event").content.decode()
    assert "uses <strong>1 of Stripe's 16</strong> webhook endpoints" in panel
    assert endpoint.stripe_endpoint_id in panel and endpoint.secret not in panel
    assert "Register with Stripe" not in panel


def test_staff_without_stripe_management_cannot_register(
    sandbox, workflow, connection, staff, as_user
):
    client = as_user(staff)
    client.post(_trigger_url(workflow), _own(connection))
    panel = client.get(_trigger_url(workflow) + "?type=stripe_charge_event").content.decode()
    assert "Register with Stripe" not in panel
    response = client.post(_trigger_url(workflow), _own(connection, endpoint_action="register"))
    assert "needs the permission to manage Stripe" in response.content.decode()
    assert sandbox.control.requests(path="/v1/webhook_endpoints", method="POST") == []
    assert not _trigger_endpoint(workflow).stripe_endpoint_id


def test_the_trigger_panel_is_404_for_another_workspace_and_403_without_edit(
    workflow, outsider, viewer, as_user
):
    url = _trigger_url(workflow) + "?type=stripe_charge_event"
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(viewer).get(url).status_code == 403


# --- deliveries to the trigger's own endpoint ---------------------------------------------


def _event(event_id: str) -> bytes:
    return json.dumps({
        "id": event_id, "object": "event", "type": "charge.succeeded",
        "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
        "request": {"id": None},
        "data": {"object": {"id": "ch_1", "object": "charge", "amount": 4999,
                            "currency": "usd", "customer": None}},
    }).encode()  # fmt: skip


@pytest.fixture
def post_event(client, django_capture_on_commit_callbacks):
    def post(endpoint, body: bytes, secret: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("stripe_webhook", args=[endpoint.uuid]),
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature(body, secret),
            )

    return post


@pytest.fixture
def two_workflows(workspace, connection):
    """One trigger on its own endpoint, one on the connection's; each with a passing step."""
    step = {"key": "pass", "type": "filter", "name": "Charges only",
            "config": {"left": "{{ trigger.type }}", "operator": "equals",
                       "right": "charge.succeeded"}}  # fmt: skip
    chosen = str(connection.uuid)
    own = publish(workspace, [step], trigger="stripe_charge_event", name="Own endpoint",
                  trigger_config={"connection": chosen, "endpoint": "own"})  # fmt: skip
    shared = publish(workspace, [step], trigger="stripe_charge_event", name="Shared",
                     trigger_config={"connection": chosen})  # fmt: skip
    trigger_endpoint = webhook_secret_set(
        connection=connection, secret=TRIGGER_SECRET, trigger_key=f"workflow:{own.uuid}"
    )
    connection_endpoint = webhook_secret_set(connection=connection, secret=CONNECTION_SECRET)
    return own, shared, trigger_endpoint, connection_endpoint


def test_a_delivery_signed_with_the_triggers_secret_starts_only_that_workflow(
    two_workflows, post_event
):
    own, shared, trigger_endpoint, _ = two_workflows
    response = post_event(trigger_endpoint, _event("evt_own"), TRIGGER_SECRET)
    assert response.status_code == 200
    (run,) = Run.objects.all()
    assert run.workflow == own and run.status == "succeeded"
    assert run.trigger["type"] == "charge.succeeded"


def test_the_connections_secret_is_refused_at_the_triggers_url(two_workflows, post_event):
    _, _, trigger_endpoint, _ = two_workflows
    response = post_event(trigger_endpoint, _event("evt_wrong"), CONNECTION_SECRET)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and not Run.objects.exists()


def test_the_connections_endpoint_does_not_start_a_trigger_with_its_own(two_workflows, post_event):
    own, shared, _, connection_endpoint = two_workflows
    response = post_event(connection_endpoint, _event("evt_shared"), CONNECTION_SECRET)
    assert response.status_code == 200
    assert [run.workflow for run in Run.objects.all()] == [shared]


def test_the_same_event_through_both_endpoints_starts_each_workflow_once(two_workflows, post_event):
    own, shared, trigger_endpoint, connection_endpoint = two_workflows
    body = _event("evt_both")
    assert post_event(connection_endpoint, body, CONNECTION_SECRET).status_code == 200
    assert post_event(trigger_endpoint, body, TRIGGER_SECRET).status_code == 200
    assert sorted(run.workflow.name for run in Run.objects.all()) == ["Own endpoint", "Shared"]


# --- the Webhooks page ------------------------------------------------------------------------


def test_the_webhooks_page_shows_the_url_before_referring_to_it(
    workflow, connection, owner, as_user, settings
):
    settings.SITE_URL = "https://portal.agency.example"
    as_user(owner).post(_trigger_url(workflow), _own(connection, signing_secret=TRIGGER_SECRET))
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    html = as_user(owner).get(url).content.decode()
    endpoint = WebhookEndpoint.objects.get(connection=connection, trigger_key="")
    shown = html.index(f"https://portal.agency.example/hooks/stripe/{endpoint.uuid}/")
    assert shown < html.index("give it the URL above")
    assert "Triggers' own endpoints" in html
    assert f"https://portal.agency.example/hooks/stripe/{_trigger_endpoint(workflow).uuid}/" in html
    assert TRIGGER_SECRET not in html


def test_the_webhooks_page_url_stays_the_same(connection, owner, as_user):
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    as_user(owner).get(url)
    as_user(owner).get(url)
    assert WebhookEndpoint.objects.filter(connection=connection, trigger_key="").count() == 1


def test_publishing_waits_for_the_own_endpoints_signing_secret(workflow, connection, staff):
    """Without its secret every delivery to the trigger's own endpoint is refused: a workflow
    published like that would silently never start, so publishing says what is missing."""
    from django.core.exceptions import ValidationError

    config = {k: v for k, v in _own(connection).items() if k != "type"}
    workflow.definition = {
        "trigger": {"type": "stripe_charge_event", "config": config},
        "steps": [{"key": "mail", "type": "send_email", "name": "Tell the team",
                   "config": {"to": "team@acme.test", "subject": "Charge", "body": "Seen."}}],
    }  # fmt: skip
    workflow.save()
    endpoint = webhook_secret_set(
        connection=connection, secret=TRIGGER_SECRET, trigger_key=f"workflow:{workflow.uuid}"
    )
    endpoint.secret = ""
    endpoint.save()

    with pytest.raises(ValidationError, match="own webhook endpoint has no signing secret yet"):
        services.workflow_publish(workflow=workflow)

    webhook_secret_set(
        connection=connection, secret=TRIGGER_SECRET, trigger_key=f"workflow:{workflow.uuid}"
    )
    assert services.workflow_publish(workflow=workflow).number == 1
