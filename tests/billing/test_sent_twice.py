"""A page sent twice pays once: the same form token answers with its first result, and a
fresh token repeating a charge made moments ago (a page restored by Back) must be meant."""

from __future__ import annotations

import uuid

from billing.models import Payment
from tests.billing.conftest import card_on_file, charge_url, default_card


def _intents(stripe_client) -> list:
    return stripe_client.v1.payment_intents.list().data


def test_the_same_card_on_file_form_sent_twice_charges_once_and_says_so(
    staff_client, contact, stripe_client
):
    card, token = default_card(stripe_client, contact), uuid.uuid4()
    card_on_file(staff_client, contact, card, attempt=token, amount="1.00")
    again = card_on_file(staff_client, contact, card, attempt=token, amount="1.00")
    assert "This charge was already made" in again.text
    assert Payment.objects.get().get_absolute_url() in again.text
    assert len(_intents(stripe_client)) == 1


def test_a_fresh_form_repeating_a_charge_asks_before_charging_again(
    staff_client, contact, stripe_client
):
    card = default_card(stripe_client, contact)
    card_on_file(staff_client, contact, card, amount="1.00")
    # Back re-fetched the form: a new token, the same amount.
    asked = card_on_file(staff_client, contact, card, amount="1.00")
    assert "$1.00 was charged to Jane Cooper at" in asked.text
    assert "Yes, charge again" in asked.text and "Charge again</button>" in asked.text
    assert len(_intents(stripe_client)) == 1 and Payment.objects.count() == 1
    # Meant: ticked.
    card_on_file(staff_client, contact, card, amount="1.00", repeat="on")
    assert len(_intents(stripe_client)) == 2
    # Another amount is another charge: no question.
    done = card_on_file(staff_client, contact, card, amount="2.00")
    assert "Payment succeeded" in done.text and len(_intents(stripe_client)) == 3


def _new_card(client, contact, *, attempt, amount="1.00", **extra):
    data = {"tab": "new", "attempt": str(attempt), "amount": amount, "currency": "USD",
            "description": "Whitening", **extra}  # fmt: skip
    return client.post(charge_url(contact, "new"), data, HTTP_ACCEPT="application/json")


def _confirm(stripe_client, secret: str) -> None:
    intent_id = secret.split("_secret_")[0]
    stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})


def test_the_same_new_card_form_sent_after_paying_shows_the_payment(
    staff_client, contact, stripe_client
):
    token = uuid.uuid4()
    first = _new_card(staff_client, contact, attempt=token).json()
    _confirm(stripe_client, first["client_secret"])
    staff_client.get(first["return_url"])  # the return page records the success
    again = _new_card(staff_client, contact, attempt=token).json()
    assert again == {"done": True, "return_url": first["return_url"]}  # no secret to confirm
    assert len(_intents(stripe_client)) == 1


def test_a_fresh_new_card_form_repeating_a_payment_asks_first(staff_client, contact, stripe_client):
    first = _new_card(staff_client, contact, attempt=uuid.uuid4()).json()
    _confirm(stripe_client, first["client_secret"])
    staff_client.get(first["return_url"])
    asked = _new_card(staff_client, contact, attempt=uuid.uuid4())
    assert asked.status_code == 400
    assert "was charged to Jane Cooper" in asked.json()["errors"]["repeat"][0]["message"]
    assert len(_intents(stripe_client)) == 1
    meant = _new_card(staff_client, contact, attempt=uuid.uuid4(), repeat="on").json()
    assert meant["client_secret"] and len(_intents(stripe_client)) == 2


def test_the_new_card_tab_renders_the_hidden_repeat_question(staff_client, contact):
    page = staff_client.get(charge_url(contact, "new")).text
    assert "data-repeat hidden" in page and 'name="repeat"' in page


def _link_form(client, contact, **extra):
    data = {"tab": "link", "attempt": str(uuid.uuid4()), "amount": "1.00", "currency": "USD",
            "description": "Your visit", "expires_days": "7", **extra}  # fmt: skip
    return client.post(charge_url(contact, "link"), data)


def test_a_fresh_link_form_repeating_an_open_link_asks_first(staff_client, contact, connection):
    from billing.models import PaymentLink

    assert _link_form(staff_client, contact).status_code == 302
    asked = _link_form(staff_client, contact)
    assert asked.status_code == 200 and "A link for $1.00 was made for Jane Cooper" in asked.text
    assert PaymentLink.objects.count() == 1
    assert _link_form(staff_client, contact, repeat="on").status_code == 302
    assert PaymentLink.objects.count() == 2


def _posted_keys(sandbox) -> list:
    return [r["idempotency_key"] for r in sandbox.control.requests("/v1/payment_intents", "POST")]


def test_a_new_card_intent_made_before_a_500_is_adopted(
    staff_client, contact, stripe_client, sandbox
):
    sandbox.control.inject_fault(
        method="POST", path="/v1/payment_intents", kind="500_after_execution"
    )
    answer = _new_card(staff_client, contact, attempt=uuid.uuid4()).json()
    (intent,) = _intents(stripe_client)
    assert answer["client_secret"] == intent.client_secret
    assert Payment.objects.get().stripe_payment_intent_id == intent.id


def test_a_new_card_500_is_sent_again_under_its_key_until_a_replay_proves_nothing_was_made(
    staff_client, contact, stripe_client, sandbox
):
    token = uuid.uuid4()
    key = f"payment:{token}:intent"
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500")
    assert _new_card(staff_client, contact, attempt=token).status_code == 400
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500_in_execution")
    assert _new_card(staff_client, contact, attempt=token).status_code == 400  # saved 500
    assert not _intents(stripe_client)
    # "Try again", the same form: its replay proves nothing was made; a new key at once.
    answer = _new_card(staff_client, contact, attempt=token).json()
    (intent,) = _intents(stripe_client)
    assert answer["client_secret"] == intent.client_secret
    assert _posted_keys(sandbox) == [key, key, key, f"{key}:attempt:2"]
