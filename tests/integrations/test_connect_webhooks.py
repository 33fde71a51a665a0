"""The platform's Connect endpoint: events of accounts connected through OAuth reach their
workspaces' workflows, and only theirs."""

from __future__ import annotations

import logging
import time

import pytest
from django.urls import reverse

from automation.models import Run
from integrations.gateway.connect import authorize_url
from integrations.models import StripeConnection, StripeEvent
from integrations.services import WEBHOOK_EVENTS, connection_create_from_oauth
from tests.automation.conftest import publish
from tests.factories import StripeConnectionFactory
from tests.integrations.webhook_helpers import event_body, signature

CLIENT_ID = "ca_testPlatformConnectHooks1"
SECRET = "whsec_connect_current_secret"
OLD_SECRET = "whsec_connect_previous_secret"


# --- against the sandbox: a charge on the connected account runs the workflow -----------------


@pytest.fixture
def platform(sandbox, settings):
    """The portal's Connect platform in the sandbox (its secret key)."""
    secret, _, _ = sandbox.new_account(name="The Agency Platform")
    sandbox.control.register_platform(CLIENT_ID, secret)
    settings.STRIPE_CONNECT_CLIENT_ID = CLIENT_ID
    settings.STRIPE_CONNECT_SECRET_KEY = secret
    return secret


def oauth_connect(sandbox, workspace, name: str) -> StripeConnection:
    """Connect a fresh account `name` to `workspace` through Connect OAuth."""
    sandbox.control.set_next_connected_account(CLIENT_ID, {"name": name, "country": "US"})
    location = sandbox.control.oauth_decide(
        authorize_url(state="s", redirect_uri="http://testserver/stripe/oauth/callback/"),
        grant=True,
    )
    code = location.split("code=")[1].split("&")[0]
    return connection_create_from_oauth(workspace=workspace, code=code)


@pytest.fixture
def connect_endpoint(sandbox, platform, live_server, settings):
    """The platform's Connect endpoint registered in the sandbox, its secret configured."""
    settings.SITE_URL = live_server.url
    created = sandbox.client(platform).v1.webhook_endpoints.create(
        params={
            "url": live_server.url + reverse("stripe_connect_webhook"),
            "enabled_events": WEBHOOK_EVENTS,
            "connect": True,
        }
    )
    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = [created.secret]
    return created


def charge_workflow(workspace, connection=None, name="Charge seen"):
    """A published workflow started by Stripe charge events (of `connection`, or of any)."""
    step = {
        "key": "big",
        "type": "if_else",
        "name": "Big charge?",
        "config": {
            "left": "{{ trigger.data.object.amount }}",
            "operator": "equals",
            "right": "1500",
        },
        "then": [],
        "else": [],
    }
    config = {"connection": str(connection.uuid) if connection else ""}
    return publish(
        workspace, [step], trigger="stripe_charge_event", trigger_config=config, name=name
    )


def charge(sandbox, platform, connection, amount=1500):
    """A card payment on the connected account, made with the platform key + Stripe-Account."""
    return sandbox.client(platform).v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options={"stripe_account": connection.account_id},
    )


def wait_for_runs(count: int, seconds: float = 10.0) -> list[Run]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        finished = list(Run.objects.filter(status__in=["succeeded", "failed"]))
        if len(finished) >= count:
            return finished
        time.sleep(0.1)
    return list(Run.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_charge_on_the_connected_account_runs_the_workspaces_workflow(
    sandbox, platform, connect_endpoint, workspace
):
    connection = oauth_connect(sandbox, workspace, "Acme Dental Connected")
    workflow = charge_workflow(workspace, connection)
    intent = charge(sandbox, platform, connection)

    [run] = wait_for_runs(1)
    assert run.workflow == workflow and run.status == "succeeded", run.error_message
    assert run.trigger["type"] == "charge.succeeded"
    assert run.trigger["data"]["object"]["payment_intent"] == intent.id
    assert run.trigger["_connection"] == str(connection.uuid)
    assert list(run.steps.values_list("step_key", "outputs__branch")) == [("big", "then")]
    event = StripeEvent.objects.get(type="charge.succeeded")
    assert event.source == "connect" and event.status == "processed"
    assert event.endpoint.connection == connection and event.endpoint.stripe_endpoint_id == ""
    deliveries = sandbox.control.deliveries(wait=5)
    assert deliveries and all(d["status"] == 200 and d["connect"] for d in deliveries)

    # Stripe delivers again (a retry, a resend): stored once, run once.
    sandbox.control.resend_event(event.event_id)
    assert len(sandbox.control.deliveries(wait=5)) == len(deliveries) + 1
    assert StripeEvent.objects.filter(event_id=event.event_id).count() == 1
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_charge_on_account_a_never_starts_workflows_of_workspace_b(
    sandbox, platform, connect_endpoint, workspace, other_workspace
):
    acme = oauth_connect(sandbox, workspace, "Acme Dental Connected")
    globex = oauth_connect(sandbox, other_workspace, "Globex Connected")
    acme_flow = charge_workflow(workspace)  # "any connected account" of its workspace
    globex_flow = charge_workflow(other_workspace)

    charge(sandbox, platform, acme)
    [run] = wait_for_runs(1)
    sandbox.control.deliveries(wait=5)
    assert run.workflow == acme_flow and run.workspace == workspace
    assert not Run.objects.filter(workspace=other_workspace).exists()
    assert not StripeEvent.objects.filter(endpoint__connection=globex).exists()

    charge(sandbox, platform, globex)
    wait_for_runs(2)
    # The charge's other events are still being delivered (and processed by the live server's
    # threads): let them finish before the test's database is emptied.
    sandbox.control.deliveries(wait=5)
    assert Run.objects.filter(workflow=globex_flow).count() == 1
    assert Run.objects.filter(workflow=acme_flow).count() == 1


# --- deliveries made by hand, signed like Stripe -----------------------------------------


@pytest.fixture
def configured(settings):
    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = [SECRET]


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST to the Connect endpoint; work enqueued on commit runs (django-q2 sync mode)."""

    def post(body: bytes, secret: str | None = SECRET, *, header: str | None = None):
        if header is None and secret is not None:
            header = signature(body, secret)
        headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("stripe_connect_webhook"),
                data=body,
                content_type="application/json",
                **headers,
            )

    return post


def oauth_row(workspace, account_id="acct_connectedA", mode="test", **fields):
    return StripeConnectionFactory(
        workspace=workspace,
        connected_via=StripeConnection.Via.OAUTH,
        account_id=account_id,
        mode=mode,
        secret_key="",
        **fields,
    )


def test_a_replayed_delivery_is_stored_and_run_once(configured, deliver, workspace):
    charge_workflow(workspace, oauth_row(workspace))
    body = event_body("evt_replayed", account="acct_connectedA")
    answers = [deliver(body).json() for _ in range(5)]
    assert answers[0] == {"received": True, "new": 1}
    assert answers[1:] == [{"received": True, "new": 0}] * 4
    assert StripeEvent.objects.filter(event_id="evt_replayed").count() == 1
    assert Run.objects.get().status == "succeeded"


@pytest.mark.parametrize("case", ["no header", "wrong secret", "tampered body"])
def test_a_bad_signature_is_400_and_nothing_is_stored(configured, deliver, workspace, case):
    charge_workflow(workspace, oauth_row(workspace))
    body = event_body("evt_forged", account="acct_connectedA")
    if case == "no header":
        response = deliver(body, None)
    elif case == "wrong secret":
        response = deliver(body, "whsec_someone_else")
    else:
        response = deliver(body.replace(b"4999", b"1"), header=signature(body, SECRET))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and not Run.objects.exists()


def test_an_event_of_an_unknown_account_is_answered_200_logged_and_not_stored(
    configured, deliver, workspace, caplog
):
    charge_workflow(workspace, oauth_row(workspace))
    # A connection of that account id made by pasting a key is not a Connect one.
    StripeConnectionFactory(workspace=workspace, account_id="acct_pastedKey", is_default=False)
    for account in ("acct_nobodyConnected", "acct_pastedKey"):
        with caplog.at_level(logging.WARNING, logger="integrations.events"):
            response = deliver(event_body(f"evt_{account}", account=account))
        assert response.status_code == 200 and response.json()["new"] == 0
        assert account in caplog.text
    assert not StripeEvent.objects.exists() and not Run.objects.exists()


def test_an_event_without_account_is_400(configured, deliver, workspace):
    oauth_row(workspace)
    assert deliver(event_body("evt_no_account")).status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_account_connected_in_two_workspaces_runs_each_workspaces_workflows_once(
    configured, deliver, workspace, other_workspace
):
    charge_workflow(workspace, oauth_row(workspace))
    charge_workflow(other_workspace, oauth_row(other_workspace))
    body = event_body("evt_shared", account="acct_connectedA")
    assert deliver(body).json()["new"] == 2
    assert deliver(body).json()["new"] == 0
    assert StripeEvent.objects.filter(event_id="evt_shared").count() == 2
    assert sorted(Run.objects.values_list("workspace__slug", flat=True)) == ["acme", "globex"]


def test_modes_a_live_event_for_a_test_connection_is_400_a_test_one_for_a_live_one_ignored(
    configured, deliver, workspace, other_workspace
):
    oauth_row(workspace, account_id="acct_testOnly", mode="test")
    oauth_row(other_workspace, account_id="acct_liveOnly", mode="live")
    live = event_body("evt_live", account="acct_testOnly", livemode=True)
    assert deliver(live).status_code == 400
    # Stripe sends the test events of an account connected in live mode to the live endpoint.
    test = event_body("evt_test", account="acct_liveOnly", livemode=False)
    assert deliver(test).status_code == 200
    assert not StripeEvent.objects.exists()


def test_the_previous_secret_still_verifies_during_rotation(settings, deliver, workspace):
    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = ["whsec_connect_brand_new", OLD_SECRET]
    oauth_row(workspace)
    response = deliver(event_body("evt_rotated", account="acct_connectedA"), OLD_SECRET)
    assert response.status_code == 200 and StripeEvent.objects.count() == 1


def test_without_a_secret_configured_the_endpoint_is_404(settings, deliver, workspace):
    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = []
    oauth_row(workspace)
    response = deliver(event_body("evt_unconfigured", account="acct_connectedA"))
    assert response.status_code == 404
    assert "not configured" in response.content.decode()
    assert not StripeEvent.objects.exists()


def test_the_webhooks_page_of_an_oauth_connection_points_at_the_connect_endpoint(
    settings, workspace, owner, as_user
):
    settings.SITE_URL = "https://portal.agency.example"
    connection = oauth_row(workspace)
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])

    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = []
    unset = as_user(owner).get(url).content.decode()
    settings.STRIPE_CONNECT_WEBHOOK_SECRETS = [SECRET]
    ready = as_user(owner).get(url).content.decode()

    for html in (unset, ready):
        assert 'value="https://portal.agency.example/hooks/stripe/connect/"' in html
        assert "Register in Stripe" not in html and "Save secret" not in html
        assert SECRET not in html
    assert "not configured" in unset and "STRIPE_CONNECT_WEBHOOK_SECRET" in unset
    assert "Nothing to set up for this account." in ready
