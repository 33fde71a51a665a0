"""Connecting a Stripe account by pasting keys: checked with Stripe, encrypted, never shown."""

from __future__ import annotations

from django.core import mail
from django.db import connection as db_connection
from django.urls import reverse

from integrations.models import StripeConnection
from integrations.services import connection_create_from_key


def _create_url():
    return reverse("stripe_connection_create", args=["acme"])


def test_a_good_key_is_checked_with_stripe_and_saved_encrypted(sandbox, owner, as_user):
    secret, publishable, account = sandbox.new_account(name="Acme Dental", country="US")
    response = as_user(owner).post(
        _create_url(), {"secret_key": secret, "publishable_key": publishable, "make_default": "on"}
    )
    assert response.status_code == 302
    connection = StripeConnection.objects.get()
    assert (connection.account_id, connection.account_name) == (account["id"], "Acme Dental")
    assert connection.mode == "test" and connection.is_default and connection.health == "ok"
    assert connection.secret_key == secret
    assert connection.masked_secret_key == f"sk_test_...{secret[-4:]}"
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT secret_key FROM integrations_stripeconnection")
        stored = bytes(cursor.fetchone()[0])
    assert secret.encode() not in stored  # encrypted at rest
    page = as_user(owner).get(response["Location"])
    assert secret not in page.content.decode()
    assert "sk_test_..." in page.content.decode() and "Test mode" in page.content.decode()


def test_a_wrong_key_is_refused_next_to_the_field_and_nothing_is_saved(sandbox, owner, as_user):
    response = as_user(owner).post(
        _create_url(),
        {"secret_key": "sk_test_notKnownToStripe12345", "publishable_key": "pk_test_abcdefgh123"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stripe rejected the API key" in html
    assert "sk_test_notKnownToStripe12345" not in html  # not even echoed back
    assert not StripeConnection.objects.exists()


def test_a_revoked_key_is_refused(sandbox, owner, as_user):
    secret, publishable, _ = sandbox.new_account()
    sandbox.control.revoke_key(secret)
    response = as_user(owner).post(
        _create_url(), {"secret_key": secret, "publishable_key": publishable}
    )
    assert (
        response.status_code == 200 and "Stripe rejected the API key" in response.content.decode()
    )
    assert not StripeConnection.objects.exists()


def test_mistyped_keys_are_refused_before_asking_stripe(sandbox, owner, as_user):
    cases = [
        ({"secret_key": "pk_test_abcdefgh1234", "publishable_key": "pk_test_abcdefgh1234"},
         "This is the publishable key"),
        ({"secret_key": "sk_test_ab", "publishable_key": "pk_test_abcdefgh1234"},
         "A secret key starts with"),
        ({"secret_key": "sk_test_abcdefgh1234", "publishable_key": "nope"},
         "A publishable key starts with"),
        ({"secret_key": "sk_test_abcdefgh1234", "publishable_key": "pk_live_abcdefgh1234"},
         "other mode"),
    ]  # fmt: skip
    for data, message in cases:
        response = as_user(owner).post(_create_url(), data)
        assert response.status_code == 200 and message in response.content.decode(), message
    assert sandbox.control.requests(path="/v1/account") == []
    assert not StripeConnection.objects.exists()


def test_restricted_and_live_keys_are_accepted_with_their_mode(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(live=True, name="Live Co")
    live = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    assert live.mode == "live"
    restricted, pk, _ = sandbox.new_account(permissions={"customers": "write", "account": "read"})
    rk = connection_create_from_key(workspace=workspace, secret_key=restricted, publishable_key=pk)
    assert rk.mode == "test" and rk.masked_secret_key.startswith("rk_test_")
    assert StripeConnection.objects.filter(is_default=True).get() == rk  # the newest default


def test_the_edit_form_never_shows_the_key_and_a_blank_field_keeps_it(
    sandbox, workspace, owner, as_user
):
    secret, publishable, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    page = as_user(owner).get(url).content.decode()
    assert secret not in page and connection.masked_secret_key in page
    response = as_user(owner).post(url, {"secret_key": "", "publishable_key": publishable})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.secret_key == secret


def test_replacing_the_key_with_one_of_another_account_is_refused(
    sandbox, workspace, owner, as_user
):
    secret, publishable, _ = sandbox.new_account()
    other, other_pk, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    response = as_user(owner).post(url, {"secret_key": other, "publishable_key": other_pk})
    assert "belongs to another Stripe account" in response.content.decode()
    connection.refresh_from_db()
    assert connection.secret_key == secret and connection.publishable_key == publishable


def test_a_rejected_key_anywhere_marks_the_connection_and_tells_the_owners_once(
    sandbox, workspace, owner, staff, as_user, django_capture_on_commit_callbacks
):
    secret, publishable, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    sandbox.control.revoke_key(secret)
    for _ in range(2):
        # The e-mail is a task queued after the commit (run at once by the test cluster).
        with django_capture_on_commit_callbacks(execute=True):
            as_user(owner).post(reverse("stripe_connection_check", args=["acme", connection.uuid]))
    connection.refresh_from_db()
    assert connection.health == "auth_failed" and connection.last_checked_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert secret not in mail.outbox[0].body
    dashboard = as_user(owner).get(reverse("stripe_dashboard", args=["acme"]))
    assert "Key rejected" in dashboard.content.decode() or "rejected" in dashboard.content.decode()


def test_several_connections_one_default(sandbox, workspace, owner, as_user):
    first = connection_create_from_key(workspace=workspace, **_keys(sandbox))
    second = connection_create_from_key(workspace=workspace, make_default=False, **_keys(sandbox))
    assert first.is_default and not second.is_default
    url = reverse("stripe_connection_edit", args=["acme", second.uuid])
    as_user(owner).post(url, {"publishable_key": second.publishable_key, "make_default": "on"})
    assert StripeConnection.objects.get(is_default=True) == second


def _keys(sandbox):
    secret, publishable, _ = sandbox.new_account()
    return {"secret_key": secret, "publishable_key": publishable}


def test_removing_asks_first_then_forgets_the_connection_only(sandbox, workspace, owner, as_user):
    keys = _keys(sandbox)
    first = connection_create_from_key(workspace=workspace, **keys)
    second = connection_create_from_key(workspace=workspace, make_default=False, **_keys(sandbox))
    url = reverse("stripe_connection_remove", args=["acme", first.uuid])
    confirm = as_user(owner).get(url)
    assert "not touched" in confirm.content.decode()
    assert StripeConnection.objects.count() == 2
    assert as_user(owner).post(url).status_code == 302
    assert list(StripeConnection.objects.all()) == [second]
    second.refresh_from_db()
    assert second.is_default
    # The Stripe account is untouched: its key still works.
    assert sandbox.client(keys["secret_key"]).v1.accounts.retrieve_current().id


def test_staff_without_stripe_star_cannot_connect_or_remove(sandbox, workspace, staff, as_user):
    keys = _keys(sandbox)
    connection = connection_create_from_key(workspace=workspace, **keys)
    assert as_user(staff).post(_create_url(), keys).status_code == 403
    url = reverse("stripe_connection_remove", args=["acme", connection.uuid])
    assert as_user(staff).post(url).status_code == 403
    assert StripeConnection.objects.count() == 1


def test_an_outsider_cannot_touch_the_connection(sandbox, workspace, outsider, as_user):
    connection = connection_create_from_key(workspace=workspace, **_keys(sandbox))
    for name in ("stripe_connection_edit", "stripe_connection_remove", "stripe_connection_check"):
        url = reverse(name, args=["acme", connection.uuid])
        assert as_user(outsider).post(url, {"publishable_key": "pk_test_x"}).status_code == 404
        # ...nor through their own workspace's URL
        url = reverse(name, args=["globex", connection.uuid])
        assert as_user(outsider).post(url, {"publishable_key": "pk_test_x"}).status_code == 404
    assert StripeConnection.objects.get() == connection


def test_connecting_and_replacing_the_key_keep_the_accounts_country_and_currency(
    sandbox, workspace, owner, as_user
):
    secret, publishable, account = sandbox.new_account(country="DE", default_currency="eur")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    assert (connection.country, connection.default_currency) == ("DE", "eur")
    # As a connection made before the row kept them: a new key of the account fills them in.
    StripeConnection.objects.filter(pk=connection.pk).update(country="", default_currency="")
    new_secret, new_publishable, _ = sandbox.new_account(id=account["id"])
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    response = as_user(owner).post(
        url, {"secret_key": new_secret, "publishable_key": new_publishable}
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.secret_key == new_secret
    assert (connection.country, connection.default_currency) == ("DE", "eur")
