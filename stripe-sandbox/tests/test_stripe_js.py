"""The sandbox's fake Stripe.js driven in Chromium: the Card Element, confirmCardPayment (test
cards, declines, 3-D Secure, saving cards), confirmCardSetup, createPaymentMethod, Connect.

The test page is served by a tiny ``http.server`` on another port (another origin, like the
portal's pages); it loads ``<sandbox>/js.stripe.com/v3/``, mounts the card Element and, on a
button click, runs the call named by ``mode`` and writes the JSON result into ``#result``.

Without /usr/bin/chromium the tests skip with a message, unless REQUIRE_BROWSER=1 (CI), in
which case they fail.
"""

from __future__ import annotations

import html
import http.server
import json
import os
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# No machine here reaches the internet: keep Chromium from phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Stripe.js sandbox test page</title>
<script src="{js}"></script></head>
<body>
<h1>Pay</h1>
<div id="card-element"></div>
<p id="card-errors" role="alert"></p>
<button type="button" id="go">Go</button>
<pre id="change"></pre>
<pre id="result" data-state="idle"></pre>
<script>
const CONFIG = {config};
const stripe = Stripe(CONFIG.pk, CONFIG.account ? {{stripeAccount: CONFIG.account}} : undefined);
const elements = stripe.elements();
const card = elements.create("card");
card.mount("#card-element");
card.on("change", (e) => {{
  document.getElementById("change").textContent =
    JSON.stringify({{complete: e.complete, error: e.error || null, brand: e.brand}});
  document.getElementById("card-errors").textContent = e.error ? e.error.message : "";
}});
const billing = {{name: "Jane Cooper", email: "jane@example.com"}};
async function run() {{
  switch (CONFIG.mode) {{
    case "pay": {{
      const data = {{payment_method: {{card, billing_details: billing}}}};
      if (CONFIG.sfu) data.setup_future_usage = CONFIG.sfu;
      return stripe.confirmCardPayment(CONFIG.secret, data);
    }}
    case "saved":
      return stripe.confirmCardPayment(CONFIG.secret, {{payment_method: CONFIG.pm}});
    case "setup":
      return stripe.confirmCardSetup(CONFIG.secret, {{payment_method: {{card}}}});
    case "action":
      return stripe.confirmCardPayment(CONFIG.secret);
    case "pm":
      return stripe.createPaymentMethod({{type: "card", card, billing_details: billing}});
  }}
}}
document.getElementById("go").addEventListener("click", async () => {{
  const out = document.getElementById("result");
  out.dataset.state = "pending";
  out.textContent = "";
  let result;
  try {{
    result = await run();
  }} catch (err) {{
    result = {{exception: String(err)}};
  }}
  out.textContent = JSON.stringify(result);
  out.dataset.state = "done";
}});
</script>
</body>
</html>
"""


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, shared by the tests of this module. Without
    /usr/bin/chromium they skip with a message, unless REQUIRE_BROWSER=1 (CI)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; REQUIRE_BROWSER=1 forbids skipping browser tests")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page_server() -> Iterator[str]:
    """Serves the test page: ``/?js=<stripe.js url>&config=<json>``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            config = json.loads(query["config"][0]) if "config" in query else {}
            body = PAGE.format(
                js=html.escape(query.get("js", [""])[0]),
                config=json.dumps(config).replace("</", "<\\/"),
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def account(stripe_sandbox: Any) -> dict[str, Any]:
    secret, publishable, acct = stripe_sandbox.new_account(name="Acme Dental")
    return {
        "secret": secret,
        "pk": publishable,
        "id": acct["id"],
        "client": stripe_sandbox.client(secret),
    }


@pytest.fixture
def open_page(browser_page: Any, page_server: str, stripe_sandbox: Any, account: dict[str, Any]):
    """``open_page(mode, secret=..., pk=..., account=..., sfu=..., pm=...)``: the loaded page."""

    def open_(mode: str, **config: Any) -> Any:
        config.setdefault("pk", account["pk"])
        config["mode"] = mode
        query = urllib.parse.urlencode(
            {"js": stripe_sandbox.url + "/js.stripe.com/v3/", "config": json.dumps(config)}
        )
        browser_page.goto(page_server + "?" + query)
        browser_page.get_by_label("Card number").wait_for()
        return browser_page

    return open_


# --- helpers ----------------------------------------------------------------------------
def fill_card(page: Any, number: str, expiry: str = "12 / 34", cvc: str = "123", zip_="94107"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill(expiry)
    page.get_by_label("CVC").fill(cvc)
    page.get_by_label("ZIP").fill(zip_)


def click_go(page: Any, *, challenge: str | None = None) -> dict[str, Any]:
    """Click Go; answer the 3-D Secure dialog with ``challenge`` (its button's name) if given;
    return the JSON result."""
    page.get_by_role("button", name="Go").click()
    if challenge is not None:
        dialog = page.get_by_role("dialog", name="3D Secure authentication")
        dialog.get_by_role("button", name=challenge).click()
        dialog.wait_for(state="detached")
    page.wait_for_selector("#result[data-state=done]")
    return json.loads(page.locator("#result").text_content())


def new_intent(client: Any, amount: int = 4200, **params: Any) -> Any:
    return client.v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "payment_method_types": ["card"], **params}
    )


def event_types(client: Any) -> list[str]:
    return [e.type for e in client.v1.events.list(params={"limit": 100}).data]


# --- the Card Element -------------------------------------------------------------------
def test_card_element_inputs_and_change_events(open_page, account):
    intent = new_intent(account["client"])
    page = open_page("pay", secret=intent.client_secret)
    mount = page.locator("#card-element")
    for label in ("Card number", "Expiration date", "CVC", "ZIP"):
        assert mount.get_by_label(label).is_visible()

    page.get_by_label("Card number").fill("4242 4242")
    page.get_by_label("Expiration date").focus()  # blurring an incomplete number
    change = json.loads(page.locator("#change").text_content())
    assert change["complete"] is False
    assert change["error"]["message"] == "Your card number is incomplete."
    assert change["error"]["code"] == "incomplete_number"
    assert page.locator("#card-errors").text_content() == "Your card number is incomplete."

    page.get_by_label("Card number").fill("4242424242424241")  # fails the Luhn check
    change = json.loads(page.locator("#change").text_content())
    assert change["error"]["message"] == "Your card number is invalid."

    fill_card(page, "4242424242424242")
    assert page.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    change = json.loads(page.locator("#change").text_content())
    assert change == {"complete": True, "error": None, "brand": "visa"}
    assert "StripeElement--complete" in (mount.get_attribute("class") or "")

    page.get_by_label("Expiration date").fill("01 / 20")
    change = json.loads(page.locator("#change").text_content())
    assert change["error"]["message"] == "Your card's expiration year is in the past."


def test_submitting_an_incomplete_card_is_a_validation_error(open_page, account, stripe_sandbox):
    intent = new_intent(account["client"])
    page = open_page("pay", secret=intent.client_secret)
    page.get_by_label("Card number").fill("4242424242424242")
    result = click_go(page)
    assert result["error"]["type"] == "validation_error"
    assert result["error"]["code"] == "incomplete_expiry"
    assert stripe_sandbox.control.requests(path="/v1/payment_methods") == []
    assert account["client"].v1.payment_intents.retrieve(intent.id).status == (
        "requires_payment_method"
    )


# --- confirmCardPayment -----------------------------------------------------------------
def test_confirm_card_payment_succeeds(open_page, account):
    client = account["client"]
    intent = new_intent(client, description="Invoice INV-7")
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, "4242 4242 4242 4242")
    result = click_go(page)

    assert "error" not in result
    assert result["paymentIntent"]["id"] == intent.id
    assert result["paymentIntent"]["status"] == "succeeded"
    paid = client.v1.payment_intents.retrieve(intent.id)
    assert paid.status == "succeeded" and paid.amount_received == 4200
    pm = client.v1.payment_methods.retrieve(paid.payment_method)
    assert pm.card.brand == "visa" and pm.card.last4 == "4242"
    assert (pm.card.exp_month, pm.card.exp_year) == (12, 2034)
    assert pm.billing_details.name == "Jane Cooper"
    assert pm.billing_details.email == "jane@example.com"
    assert pm.billing_details.address.postal_code == "94107"
    assert pm.customer is None
    charge = client.v1.charges.retrieve(paid.latest_charge)
    assert charge.status == "succeeded" and charge.description == "Invoice INV-7"
    types = event_types(client)
    assert "payment_intent.succeeded" in types and "charge.succeeded" in types

    retrieved = page.evaluate(
        "(secret) => stripe.retrievePaymentIntent(secret)", intent.client_secret
    )
    assert retrieved["paymentIntent"]["status"] == "succeeded"


BRANDS = [
    ("4242424242424242", "visa", "123"),
    ("4000056655665556", "visa", "123"),
    ("5555555555554444", "mastercard", "123"),
    ("2223003122003222", "mastercard", "123"),
    ("378282246310005", "amex", "1234"),
    ("6011111111111117", "discover", "123"),
    ("3056930009020004", "diners", "123"),
    ("36227206271667", "diners", "123"),
    ("3566002020360505", "jcb", "123"),
]


@pytest.mark.parametrize(("number", "brand", "cvc"), BRANDS, ids=[f"{b}-{n}" for n, b, _ in BRANDS])
def test_each_brand_pays(open_page, account, number, brand, cvc):
    client = account["client"]
    intent = new_intent(client)
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, number, cvc=cvc)
    change = json.loads(page.locator("#change").text_content())
    assert change["brand"] == brand and change["complete"] is True

    result = click_go(page)
    assert result["paymentIntent"]["status"] == "succeeded", result
    pm = client.v1.payment_methods.retrieve(result["paymentIntent"]["payment_method"])
    assert pm.card.brand == brand
    assert pm.card.last4 == number[-4:]


DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
    (
        "4000000000009995",
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    ("4000000000000069", "expired_card", "expired_card", "Your card has expired."),
    (
        "4000000000000127",
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
]


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINES)
def test_decline_then_retry_with_a_good_card(
    open_page, account, number, code, decline_code, message
):
    client = account["client"]
    intent = new_intent(client)
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, number)
    result = click_go(page)

    error = result["error"]
    assert error["type"] == "card_error"
    assert (error["code"], error["decline_code"], error["message"]) == (code, decline_code, message)
    assert error["payment_intent"]["id"] == intent.id
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_intent"]["last_payment_error"]["decline_code"] == decline_code
    types = event_types(client)
    assert "payment_intent.payment_failed" in types and "charge.failed" in types

    fill_card(page, "4242424242424242")
    result = click_go(page)
    assert result["paymentIntent"]["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert len(client.v1.charges.list(params={"payment_intent": intent.id}).data) == 2


@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184"])
def test_3ds_complete_authentication(open_page, account, number):
    client = account["client"]
    intent = new_intent(client)
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, number)
    result = click_go(page, challenge="Complete authentication")

    assert result["paymentIntent"]["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    types = event_types(client)
    for expected in (
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "charge.succeeded",
    ):
        assert expected in types


def test_3ds_fail_authentication(open_page, account):
    client = account["client"]
    intent = new_intent(client)
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, "4000002760003184")
    result = click_go(page, challenge="Fail authentication")

    error = result["error"]
    assert error["code"] == "payment_intent_authentication_failure"
    assert error["message"].startswith("We are unable to authenticate your payment method.")
    assert error["payment_intent"]["status"] == "requires_payment_method"
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    assert "payment_intent.payment_failed" in event_types(client)

    fill_card(page, "4242424242424242")  # another card on the same intent
    assert click_go(page)["paymentIntent"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("number", "off_session_succeeds"),
    [("4242424242424242", True), ("4000002500003155", True), ("4000002760003184", False)],
)
def test_save_the_card_for_later(open_page, account, number, off_session_succeeds):
    client = account["client"]
    customer = client.v1.customers.create(params={"email": "jane@example.com"})
    intent = new_intent(client, customer=customer.id)
    page = open_page("pay", secret=intent.client_secret, sfu="off_session")
    fill_card(page, number)
    needs_3ds = number != "4242424242424242"
    result = click_go(page, challenge="Complete authentication" if needs_3ds else None)
    assert result["paymentIntent"]["status"] == "succeeded"
    assert result["paymentIntent"]["setup_future_usage"] == "off_session"

    pm_id = result["paymentIntent"]["payment_method"]
    saved = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data
    assert [pm.id for pm in saved] == [pm_id]
    assert saved[0].customer == customer.id

    params = {
        "amount": 1500,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": pm_id,
        "off_session": True,
        "confirm": True,
    }
    if off_session_succeeds:
        assert client.v1.payment_intents.create(params=params).status == "succeeded"
    else:
        with pytest.raises(stripe.CardError) as info:
            client.v1.payment_intents.create(params=params)
        assert info.value.code == "authentication_required"


def test_without_setup_future_usage_the_card_is_not_saved(open_page, account):
    client = account["client"]
    customer = client.v1.customers.create(params={"email": "jane@example.com"})
    intent = new_intent(client, customer=customer.id)
    page = open_page("pay", secret=intent.client_secret)
    fill_card(page, "4242424242424242")
    assert click_go(page)["paymentIntent"]["status"] == "succeeded"
    assert (
        client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data == []
    )


@pytest.mark.parametrize("card", ["pm_card_visa", "pm_card_authenticationRequired"])
def test_confirm_with_a_saved_card(open_page, account, card):
    client = account["client"]
    customer = client.v1.customers.create(params={"email": "jane@example.com"})
    pm = client.v1.payment_methods.attach(card, params={"customer": customer.id})
    intent = new_intent(client, customer=customer.id)
    page = open_page("saved", secret=intent.client_secret, pm=pm.id)
    needs_3ds = card == "pm_card_authenticationRequired"
    result = click_go(page, challenge="Complete authentication" if needs_3ds else None)
    assert result["paymentIntent"]["status"] == "succeeded"
    assert result["paymentIntent"]["payment_method"] == pm.id
    assert client.v1.charges.list(params={"payment_intent": intent.id}).data[0].customer == (
        customer.id
    )


@pytest.mark.parametrize("challenge", ["Complete authentication", "Fail authentication"])
def test_authenticate_an_intent_confirmed_on_the_server(open_page, account, challenge):
    # The server confirmed with a 3-D Secure card; the page only runs the challenge.
    client = account["client"]
    intent = new_intent(client, payment_method="pm_card_authenticationRequired", confirm=True)
    assert intent.status == "requires_action"
    page = open_page("action", secret=intent.client_secret)
    result = click_go(page, challenge=challenge)
    status = client.v1.payment_intents.retrieve(intent.id).status
    if challenge == "Complete authentication":
        assert result["paymentIntent"]["status"] == status == "succeeded"
    else:
        assert result["error"]["code"] == "payment_intent_authentication_failure"
        assert status == "requires_payment_method"


# --- confirmCardSetup, createPaymentMethod ----------------------------------------------
@pytest.mark.parametrize(
    ("number", "challenge", "outcome"),
    [
        ("4242424242424242", None, "succeeded"),
        ("4000002500003155", "Complete authentication", "succeeded"),
        ("4000002500003155", "Fail authentication", "setup_intent_authentication_failure"),
        ("4000000000000002", None, "card_declined"),
    ],
)
def test_confirm_card_setup(open_page, account, number, challenge, outcome):
    client = account["client"]
    customer = client.v1.customers.create(params={"email": "jane@example.com"})
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    page = open_page("setup", secret=setup.client_secret)
    fill_card(page, number)
    result = click_go(page, challenge=challenge)

    saved = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data
    if outcome == "succeeded":
        assert result["setupIntent"]["status"] == "succeeded"
        assert [pm.id for pm in saved] == [result["setupIntent"]["payment_method"]]
        assert "setup_intent.succeeded" in event_types(client)
    else:
        assert result["error"]["code"] == outcome
        assert result["error"]["setup_intent"]["status"] == "requires_payment_method"
        assert saved == []
        assert client.v1.setup_intents.retrieve(setup.id).status == "requires_payment_method"


def test_create_payment_method(open_page, account):
    client = account["client"]
    page = open_page("pm")
    fill_card(page, "3782 822463 10005", expiry="04 / 31", cvc="1234")
    assert page.get_by_label("Card number").input_value() == "3782 822463 10005"
    result = click_go(page)

    pm = result["paymentMethod"]
    assert pm["id"].startswith("pm_") and pm["type"] == "card"
    assert pm["card"]["brand"] == "amex" and pm["card"]["last4"] == "0005"
    assert (pm["card"]["exp_month"], pm["card"]["exp_year"]) == (4, 2031)
    assert pm["billing_details"]["name"] == "Jane Cooper"
    assert client.v1.payment_methods.retrieve(pm["id"]).card.brand == "amex"


# --- refusals, Connect ------------------------------------------------------------------
def test_a_wrong_client_secret_is_refused(open_page, account, stripe_sandbox):
    client = account["client"]
    intent = new_intent(client)
    page = open_page("pay", secret=intent.id + "_secret_wrongwrongwrong")
    fill_card(page, "4242424242424242")
    error = click_go(page)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "client_secret"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"

    # The right secret with another account's publishable key: no such intent there.
    _, other_pk, _ = stripe_sandbox.new_account()
    page = open_page("pay", secret=intent.client_secret, pk=other_pk)
    fill_card(page, "4242424242424242")
    error = click_go(page)["error"]
    assert error["code"] == "resource_missing"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"

    # Not even a client secret: Stripe.js refuses it before any call.
    page = open_page("pay", secret="nonsense")
    fill_card(page, "4242424242424242")
    assert "Invalid value for confirmCardPayment intent secret" in click_go(page)["exception"]


def test_connect_stripe_account_option(open_page, stripe_sandbox):
    secret, publishable, _ = stripe_sandbox.new_account(name="Acme Portal")
    client_id = "ca_" + "S" * 28
    stripe_sandbox.control.register_platform(client_id, secret)
    platform = stripe_sandbox.client(secret, client_id=client_id)
    url = platform.oauth.authorize_url(
        params={"scope": "read_write", "redirect_uri": "https://portal.example/cb"}
    )
    location = stripe_sandbox.control.oauth_decide(url, grant=True)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    acct_id = platform.oauth.token(
        params={"grant_type": "authorization_code", "code": code}
    ).stripe_user_id
    on_behalf = {"stripe_account": acct_id}
    intent = platform.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd"}, options=on_behalf
    )

    page = open_page("pay", secret=intent.client_secret, pk=publishable, account=acct_id)
    fill_card(page, "5555555555554444")
    assert click_go(page)["paymentIntent"]["status"] == "succeeded"
    paid = platform.v1.payment_intents.retrieve(intent.id, options=on_behalf)
    assert paid.status == "succeeded"
    pm = platform.v1.payment_methods.retrieve(paid.payment_method, options=on_behalf)
    assert pm.card.brand == "mastercard"

    # Without the option the platform's own account has no such intent.
    page = open_page("pay", secret=intent.client_secret, pk=publishable)
    fill_card(page, "4242424242424242")
    assert click_go(page)["error"]["code"] == "resource_missing"
