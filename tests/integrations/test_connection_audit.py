"""The audit trail of Stripe connections: connecting (key or Connect), replacing a key,
removing; with who, from where, the keys masked, and nothing for a refused key."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import reverse

from integrations.models import StripeConnection
from integrations.services import connection_create_from_key
from portal.models import AuditEntry
from tests.audit_helpers import CLIENT_ADDRESS, entries, everything_stored, only, shows_part_of
from tests.integrations.test_oauth import platform  # noqa: F401  (a fixture)

Action = AuditEntry.Action


def _connect(client, secret, publishable):
    url = reverse("stripe_connection_create", args=["acme"])
    return client.post(url, {"secret_key": secret, "publishable_key": publishable,
                             "make_default": "on"})  # fmt: skip


def test_connecting_by_key_records_who_from_where_with_the_keys_masked(sandbox, owner, as_user):
    secret, publishable, account = sandbox.new_account(name="Acme Dental")
    assert _connect(as_user(owner), secret, publishable).status_code == 302

    entry = only(Action.STRIPE_CONNECT)
    assert (entry.actor, entry.actor_label, entry.address) == (owner, owner.email, CLIENT_ADDRESS)
    assert entry.workspace.slug == "acme" and entry.workspace_name == "Acme"
    assert entry.summary == "Connected Stripe account Acme Dental (test mode)"
    assert entry.changes["secret_key"] == {"before": None, "after": f"sk_test_...{secret[-4:]}"}
    assert entry.changes["publishable_key"]["after"] == f"pk_test_...{publishable[-4:]}"
    assert entry.changes["account"]["after"] == account["id"]
    stored = everything_stored()
    assert not shows_part_of(stored, secret) and not shows_part_of(stored, publishable)


def test_a_refused_key_records_nothing(sandbox, owner, as_user):
    response = _connect(as_user(owner), "sk_test_notKnownToStripe12345", "pk_test_abcdefgh123")
    assert response.status_code == 200 and not StripeConnection.objects.exists()
    assert entries() == []


def test_replacing_the_key_records_the_masked_keys_before_and_after(
    sandbox, workspace, owner, as_user
):
    secret, publishable, account = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    new_secret, new_publishable, _ = sandbox.new_account(id=account["id"])
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    client = as_user(owner)
    assert client.post(url, {"secret_key": new_secret, "publishable_key": new_publishable})

    entry = only(Action.STRIPE_KEY_REPLACE)
    assert entry.actor == owner and entry.address == CLIENT_ADDRESS
    assert entry.summary.startswith("Replaced the secret key and publishable key of ")
    assert entry.changes["secret_key"] == {
        "before": f"sk_test_...{secret[-4:]}", "after": f"sk_test_...{new_secret[-4:]}"
    }  # fmt: skip
    stored = everything_stored()
    for key in (secret, publishable, new_secret, new_publishable):
        assert not shows_part_of(stored, key)
    # Saving the form again without a new key changes nothing and records nothing more.
    client.post(url, {"secret_key": "", "publishable_key": new_publishable})
    assert len(entries(Action.STRIPE_KEY_REPLACE)) == 1


def test_a_key_of_another_account_records_nothing(sandbox, workspace, owner, as_user):
    secret, publishable, _ = sandbox.new_account()
    other, other_pk, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    as_user(owner).post(url, {"secret_key": other, "publishable_key": other_pk})
    assert entries(Action.STRIPE_KEY_REPLACE) == []


def test_removing_records_it_and_the_entries_outlive_the_connection(
    sandbox, workspace, owner, as_user
):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    client = as_user(owner)
    _connect(client, secret, publishable)
    connection = StripeConnection.objects.get()
    url = reverse("stripe_connection_remove", args=["acme", connection.uuid])
    assert client.post(url).status_code == 302
    assert not StripeConnection.objects.exists()

    removed = only(Action.STRIPE_REMOVE)
    assert removed.actor == owner and removed.address == CLIENT_ADDRESS
    assert removed.summary == "Removed the connection to Acme Dental"
    assert removed.changes["secret_key"] == {"before": f"sk_test_...{secret[-4:]}", "after": None}
    connected = only(Action.STRIPE_CONNECT)  # still there, naming what is gone
    assert connected.object_type == "integrations.stripeconnection"
    assert connected.object_id == str(connection.uuid) == removed.object_id
    assert not shows_part_of(everything_stored(), secret)


def test_connecting_through_stripe_connect_records_it(sandbox, platform, owner, as_user):  # noqa: F811
    client = as_user(owner)
    authorize = client.post(reverse("stripe_oauth_start", args=["acme"]))["Location"]
    back = urlsplit(sandbox.control.oauth_decide(authorize, grant=True))
    client.get(f"{back.path}?{back.query}")

    entry = only(Action.STRIPE_CONNECT)
    assert entry.actor == owner and entry.address == CLIENT_ADDRESS
    assert entry.summary.endswith("through Stripe Connect")
    assert "secret_key" not in entry.changes  # no key is stored: the platform's is used
    assert not shows_part_of(everything_stored(), platform)
