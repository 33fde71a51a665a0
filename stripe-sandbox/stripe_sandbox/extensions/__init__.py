"""Small patches to localstripe's resource classes, applied once by ``apply()``.

Each patch says why. They make localstripe behave like today's Stripe where the portal relies
on it: per-account storage, events and webhook delivery, PaymentIntent fields, off-session
confirmation, decline codes, test PaymentMethod ids, ``latest_charge`` as an id, ``charge.*``
events, newest-first lists, PaymentIntent/Charge list filters (customer, payment_intent,
created), deleted-customer stubs and live-mode objects for live keys, the PaymentMethod of a
succeeded intent with ``setup_future_usage`` attached to its customer,
``payment_intent.requires_action`` events, Stripe's amount bounds on PaymentIntents and charges
(``amounts``: minimums, also after conversion at fixed rates, eight digits, three-decimal
amounts), refunds of what remains, test tokens (``tok_visa``), card errors naming their
PaymentMethod, and 4000002500003155 charged off-session only once set up. The Stripe.js side
(client secrets, 3-D Secure outcomes, SetupIntents) is patched by ``stripe_js``.

Modules: ``objects`` (every object and event), ``payment_methods``, ``payment_intents``,
``charges`` (and refunds) and ``lists`` (and customers).
"""

from __future__ import annotations

from localstripe import resources as ls

from stripe_sandbox import context, webhooks
from stripe_sandbox.extensions.charges import patch_charges
from stripe_sandbox.extensions.lists import patch_customers, patch_lists
from stripe_sandbox.extensions.objects import patch_base
from stripe_sandbox.extensions.payment_intents import patch_payment_intents
from stripe_sandbox.extensions.payment_methods import patch_payment_methods
from stripe_sandbox.store import STORE

_applied = False


def apply() -> None:
    """Apply every patch (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    # localstripe's global dict pickles itself to /tmp/localstripe.pickle on every write
    # (parallel test processes would clobber each other) and is shared by all API keys.
    ls.store = STORE
    # localstripe sleeps 1 s before delivering to endpoints set through /_config.
    ls.schedule_webhook = webhooks.on_event
    # Ids from the system's randomness: localstripe draws them from the global `random`, which
    # tests (hypothesis) reseed, so two objects could get the same id.
    ls.random_id = context.random_token
    patch_base()
    patch_payment_methods()
    patch_payment_intents()
    patch_charges()
    patch_customers()
    patch_lists()
