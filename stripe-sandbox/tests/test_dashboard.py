"""What a dashboard reads: balance, payout bank accounts, customers and their payments."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox.control import SandboxControlError


@pytest.fixture
def account(stripe_sandbox):
    secret, _, acct = stripe_sandbox.new_account(name="Shop")
    return stripe_sandbox.client(secret), secret, acct


def _pay(client, amount, currency="usd", customer=None, pm="pm_card_visa"):
    params = {"amount": amount, "currency": currency, "payment_method": pm, "confirm": True}
    if customer:
        params["customer"] = customer
    return client.v1.payment_intents.create(params=params)


# Balance -------------------------------------------------------------------------------------
def test_balance_starts_empty_in_the_default_currency(account):
    client, _, _ = account
    balance = client.v1.balance.retrieve()
    assert balance.object == "balance"
    assert balance.livemode is False
    assert [(b.amount, b.currency, b.source_types.card) for b in balance.available] == [
        (0, "usd", 0)
    ]
    assert [(b.amount, b.currency) for b in balance.pending] == [(0, "usd")]


def test_pending_grows_with_charges_net_of_refunds(stripe_sandbox, account):
    client, secret, _ = account
    paid = _pay(client, 2000)
    _pay(client, 500, "eur")
    with pytest.raises(stripe.CardError):
        _pay(client, 999, pm="pm_card_chargeDeclined")
    client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 300})
    stripe_sandbox.control.set_balance(secret, available=[{"amount": 12345, "currency": "usd"}])

    balance = client.v1.balance.retrieve()
    assert {b.currency: b.amount for b in balance.pending} == {"usd": 1700, "eur": 500}
    assert {b.currency: b.amount for b in balance.available} == {"usd": 12345, "eur": 0}
    assert balance.pending[0].source_types.card == 1700

    # Another account's balance is its own.
    other_secret, _, _ = stripe_sandbox.new_account()
    other = stripe_sandbox.client(other_secret).v1.balance.retrieve()
    assert [b.amount for b in other.available + other.pending] == [0, 0]


def test_set_balance_by_account_id_with_pending(stripe_sandbox, account):
    client, _, acct = account
    stripe_sandbox.control.set_balance(
        account=acct["id"],
        available=[{"amount": 10, "currency": "USD"}],
        pending=[{"amount": 42, "currency": "gbp"}],
    )
    balance = client.v1.balance.retrieve()
    assert {b.currency: b.amount for b in balance.available} == {"usd": 10, "gbp": 0}
    assert {b.currency: b.amount for b in balance.pending} == {"usd": 0, "gbp": 42}
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.set_balance("sk_test_unknown", available=[])
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.set_balance(account=acct["id"], available=[{"amount": "1"}])


# Payout bank accounts --------------------------------------------------------------------------
def test_external_accounts(stripe_sandbox, account):
    client, secret, acct = account
    first = stripe_sandbox.control.add_external_account(secret)
    second = stripe_sandbox.control.add_external_account(
        secret, bank_name="OTHER BANK", last4="1116", status="errored", currency="eur"
    )
    third = stripe_sandbox.control.add_external_account(secret, last4="0000", status="new")
    assert first["id"].startswith("ba_")

    listed = client.v1.accounts.external_accounts.list(
        acct["id"], params={"object": "bank_account"}
    )
    assert [b.id for b in listed.data] == [first["id"], second["id"], third["id"]]
    bank = listed.data[0]
    assert bank.object == "bank_account"
    assert (bank.bank_name, bank.last4, bank.status) == ("STRIPE TEST BANK", "6789", "verified")
    assert (bank.currency, bank.country, bank.routing_number) == ("usd", "US", "110000000")
    assert bank.default_for_currency is True
    assert listed.data[1].default_for_currency is True  # first in eur
    assert listed.data[2].default_for_currency is False
    assert listed.data[1].status == "errored"
    assert (
        client.v1.accounts.external_accounts.list(acct["id"], params={"object": "card"}).data == []
    )

    page = client.v1.accounts.external_accounts.list(acct["id"], params={"limit": 2})
    assert page.has_more is True and len(page.data) == 2

    me = client.v1.accounts.retrieve_current()
    assert [b.id for b in me.external_accounts.data] == [first["id"], second["id"], third["id"]]
    assert me.external_accounts.url == f"/v1/accounts/{acct['id']}/external_accounts"
    retrieved = client.v1.accounts.external_accounts.retrieve(acct["id"], second["id"])
    assert retrieved.last4 == "1116"

    other_secret, _, _ = stripe_sandbox.new_account()
    with pytest.raises(stripe.PermissionError):
        stripe_sandbox.client(other_secret).v1.accounts.external_accounts.list(acct["id"])
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.add_external_account(secret, status="bogus")


# Customers -----------------------------------------------------------------------------------
def _customers(client, n, **fields):
    return [
        client.v1.customers.create(
            params={"email": f"c{i}@x.example", "name": f"Customer {i}", **fields}
        )
        for i in range(n)
    ]


def test_customer_list_pagination_newest_first(account):
    client, _, _ = account
    created = _customers(client, 5)
    newest_first = [c.id for c in reversed(created)]

    page1 = client.v1.customers.list(params={"limit": 2})
    assert [c.id for c in page1.data] == newest_first[:2] and page1.has_more is True
    page2 = client.v1.customers.list(params={"limit": 2, "starting_after": page1.data[-1].id})
    assert [c.id for c in page2.data] == newest_first[2:4] and page2.has_more is True
    page3 = client.v1.customers.list(params={"limit": 2, "starting_after": page2.data[-1].id})
    assert [c.id for c in page3.data] == newest_first[4:] and page3.has_more is False

    back = client.v1.customers.list(params={"limit": 2, "ending_before": page3.data[0].id})
    assert [c.id for c in back.data] == newest_first[2:4] and back.has_more is True
    first = client.v1.customers.list(params={"limit": 2, "ending_before": back.data[0].id})
    assert [c.id for c in first.data] == newest_first[:2] and first.has_more is False

    by_email = client.v1.customers.list(params={"email": "c3@x.example"})
    assert [c.id for c in by_email.data] == [created[3].id]
    assert [c.id for c in client.v1.customers.list(params={"limit": 100}).data] == newest_first
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(params={"limit": 101})


def test_customer_search(account):
    client, _, _ = account
    alice = client.v1.customers.create(
        params={"email": "alice@acme.example", "name": "Alice Smith"}
    )
    bob = client.v1.customers.create(params={"email": "bob@beta.example", "name": "Bob Jones"})
    carol = client.v1.customers.create(
        params={
            "email": "carol@acme.example",
            "name": "Carol Smithers",
            "metadata": {"tier": "gold"},
        }
    )

    def ids(query, **params):
        result = client.v1.customers.search(params={"query": query, **params})
        assert result.object == "search_result"
        assert result.url == "/v1/customers/search"
        return [c.id for c in result.data]

    assert ids("email:'bob@beta.example'") == [bob.id]
    assert ids("email:'BOB@beta.example'") == [bob.id]
    assert ids("name:'Alice Smith'") == [alice.id]
    assert ids("name~'smith'") == [carol.id, alice.id]  # newest first
    assert ids("email~'acme'") == [carol.id, alice.id]
    assert ids("email~'acme' AND name~'carol'") == [carol.id]
    assert ids("name:'Bob Jones' OR email:'alice@acme.example'") == [bob.id, alice.id]
    assert ids('email:"bob@beta.example"') == [bob.id]
    assert ids("metadata['tier']:'gold'") == [carol.id]
    assert ids("name~'nobody'") == []

    page = client.v1.customers.search(params={"query": "email~'example'", "limit": 2})
    assert [c.id for c in page.data] == [carol.id, bob.id]
    assert page.has_more is True and page.next_page
    rest = client.v1.customers.search(
        params={"query": "email~'example'", "limit": 2, "page": page.next_page}
    )
    assert [c.id for c in rest.data] == [alice.id]
    assert rest.has_more is False and rest.next_page is None

    for bad in ("nonsense", "email:'a' AND name:'b' OR name:'c'", "name~'ab'", "city:'x'"):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.search(params={"query": bad})


def test_customer_delete(stripe_sandbox, account):
    client, _, _ = account
    keep, gone = _customers(client, 2)
    deleted = client.v1.customers.delete(gone.id)
    assert deleted.id == gone.id and deleted.deleted is True and deleted.object == "customer"

    stub = client.v1.customers.retrieve(gone.id)
    assert stub.id == gone.id and stub.deleted is True
    assert [c.id for c in client.v1.customers.list().data] == [keep.id]
    assert client.v1.customers.search(params={"query": "email~'x.example'"}).data[0].id == keep.id
    [event] = client.v1.events.list(params={"type": "customer.deleted"}).data
    assert event.data.object.id == gone.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve("cus_doesnotexist")


# A customer page ----------------------------------------------------------------------------
def test_customer_payment_methods_intents_and_charges(account):
    client, _, _ = account
    customer = client.v1.customers.create(params={"email": "p@x.example"})
    other = client.v1.customers.create(params={"email": "q@x.example"})
    visa = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    master = client.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id}
    )
    client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})

    cards = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [pm.id for pm in cards.data] == [master.id, visa.id]
    card = cards.data[1].card
    assert (card.brand, card.last4) == ("visa", "4242")
    assert isinstance(card.exp_month, int) and isinstance(card.exp_year, int)
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [pm.id for pm in listed.data] == [master.id, visa.id]
    assert listed.data[0].card.brand == "mastercard"

    intents = [_pay(client, 100 * (i + 1), customer=customer.id) for i in range(3)]
    _pay(client, 999, customer=other.id)
    _pay(client, 555)
    pis = client.v1.payment_intents.list(params={"customer": customer.id, "limit": 10})
    assert [pi.id for pi in pis.data] == [pi.id for pi in reversed(intents)]
    charges = client.v1.charges.list(params={"customer": customer.id, "limit": 10})
    assert [ch.amount for ch in charges.data] == [300, 200, 100]
    assert [ch.payment_intent for ch in charges.data] == [pi.id for pi in reversed(intents)]
    by_pi = client.v1.charges.list(params={"payment_intent": intents[0].id})
    assert [ch.id for ch in by_pi.data] == [intents[0].latest_charge]
    two = client.v1.payment_intents.list(params={"customer": customer.id, "limit": 2})
    assert two.has_more is True and len(two.data) == 2
