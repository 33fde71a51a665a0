"""ACH Direct Debit (``us_bank_account``) as Stripe does it, on top of localstripe.

Applied once by ``apply()`` (after ``extensions`` and ``stripe_js``, whose patches it wraps);
``add_routes`` mounts the control endpoints. Modules: ``bank_accounts`` (PaymentMethods),
``mandates``, ``setup_intents`` (microdeposits), ``payments`` (PaymentIntents, charges) and
``settlement``. Facts from Stripe's published test bank accounts (routing 110000000 and
the account numbers below).

- ``POST /v1/payment_methods`` ``type=us_bank_account``: routing number (9 digits, a test one),
  account number (4-17 digits), holder type, ``billing_details[name]`` required. Unverified.
- SetupIntents: ``payment_method_types[]=us_bank_account``, ``payment_method_options
  [us_bank_account][verification_method]``, ``payment_method``/``payment_method_data``,
  ``mandate_data`` and ``confirm=true`` on create (or ``POST /v1/setup_intents/{id}/confirm``).
  An unverified account answers ``requires_action`` with ``verify_with_microdeposits``; an already
  verified one succeeds at once.
- ``POST /v1/setup_intents/{id}/verify_microdeposits`` ``amounts[]=32&amounts[]=45`` or
  ``descriptor_code=SM11AA``: the SetupIntent succeeds, a mandate is created and the
  PaymentMethod is attached to the customer. Wrong values count as attempts; after
  ``MAX_ATTEMPTS`` the PaymentMethod is locked and the SetupIntent goes back to
  ``requires_payment_method`` with ``last_setup_error``.
- ``GET /v1/mandates/{id}``.
- PaymentIntents with a verified ``us_bank_account`` PaymentMethod (``usd`` only, with
  ``mandate_data``, ``mandate`` or ``off_session=true``) go to ``processing`` with a pending
  charge (``charge.pending``, ``payment_intent.processing``) and stay there until the control API
  settles them.
- Control API: ``POST /_sandbox/ach/settle`` ``{"payment_intent", "failure_code"?}`` and
  ``POST /_sandbox/ach/settle_all`` ``{"secret_key" | "account"}``. Success emits
  ``charge.succeeded`` and ``payment_intent.succeeded``; the failure test accounts (or a forced
  ``failure_code``) emit ``charge.failed`` and ``payment_intent.payment_failed`` and leave the
  intent in ``requires_payment_method`` with ``last_payment_error``.
"""

from __future__ import annotations

import re

from localstripe import resources as ls

from stripe_sandbox import auth
from stripe_sandbox.ach.bank_accounts import BankVerification, patch_payment_methods
from stripe_sandbox.ach.mandates import Mandate
from stripe_sandbox.ach.payments import patch_charges, patch_payment_intents
from stripe_sandbox.ach.settlement import add_routes
from stripe_sandbox.ach.setup_intents import patch_setup_intents, verify_microdeposits

__all__ = ["Mandate", "add_routes", "apply"]

# Data files saved before the split name these classes here (persistence).
_Verification = BankVerification

_applied = False


def apply() -> None:
    """Apply the patches (idempotent; after ``extensions.apply`` and ``stripe_js.apply``)."""
    global _applied
    if _applied:
        return
    _applied = True
    patch_payment_methods()
    patch_setup_intents()
    patch_payment_intents()
    patch_charges()
    ls.extra_apis.append(
        ("POST", "/v1/setup_intents/{id}/verify_microdeposits", verify_microdeposits)
    )
    ls.extra_apis.append(("GET", "/v1/mandates/{id}", Mandate._api_get))
    # Stripe.js's verifyMicrodepositsForSetup calls it with the publishable key (and the
    # SetupIntent's client_secret, checked below).
    auth._PUBLISHABLE_OK.append(
        ("POST", re.compile(r"^/v1/setup_intents/\w+/verify_microdeposits$"))
    )
