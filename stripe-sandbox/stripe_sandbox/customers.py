"""Customers as Stripe creates them today (API version ``extensions.objects.API_VERSION``).

localstripe's customer predates several API changes; ``apply()`` patches it so that:

- ``balance`` is kept as given (a negative balance is a credit) and the legacy
  ``account_balance`` (renamed in 2019) and ``business_vat_id`` are not in responses;
- ``currency`` is null until the customer's first successful charge, then that charge's currency
  (localstripe always says ``eur``);
- ``tax_id_data`` takes any of Stripe's tax ID types, each entry needing ``type`` and ``value``
  (localstripe knows four types and answers a bare "Bad request");
- a malformed ``email`` is ``email_invalid``;
- ``coupon`` (removed from customers in 2025-03-31.basil, replaced by discounts on
  subscriptions and invoices), ``default_source`` (an update parameter) and ``business_vat_id``
  are unknown parameters on create;
- ``source`` takes test tokens (``tok_visa``): the card becomes the customer's default source,
  and, as on Stripe, the customer's card sources are listed and charged as PaymentMethods;
- an update's ``default_source`` must be one of the customer's sources.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import Card, Customer, PaymentMethod, StripeObject, TaxId

from stripe_sandbox import cards
from stripe_sandbox.params import problem, unknown

# Stripe's tax ID types (stripe-python 16's CustomerCreateParamsTaxIdDatum).
TAX_ID_TYPES = frozenset(
    "ad_nrt ae_trn al_tin am_tin ao_tin ar_cuit au_abn au_acn au_arn au_wpn aw_tin az_tin "
    "ba_tin bb_tin bd_bin bf_ifu bg_uic bh_vat bj_ifu bo_tin br_cnpj br_cpf bs_tin bw_vat "
    "by_tin ca_bn ca_gst_hst ca_pst_bc ca_pst_mb ca_pst_sk ca_qst cd_nif ch_uid ch_vat ci_vat "
    "cl_tin cm_niu cn_tin co_nit cr_tin cv_nif cz_dic de_stn do_rcn ec_ruc eg_tin es_cif "
    "et_tin eu_oss_vat eu_vat fo_vat fr_siren fr_siret fr_spi gb_vat ge_vat gh_tin gi_tin "
    "gn_nif hk_br hr_oib hu_tin ic_nif id_npwp il_vat in_gst is_kt is_vat it_cf jp_cn jp_rn "
    "jp_trn ke_pin kg_tin kh_tin kr_brn kz_bin la_tin li_uid li_vat lk_vat ma_vat md_cf md_vat "
    "me_pib mk_vat mr_nif mu_vat mx_rfc my_frp my_itn my_sst mz_nuit ng_tin no_vat no_voec "
    "np_pan nz_bn nz_gst om_vat pe_ruc ph_tin pl_nip pt_nif py_ruc ro_tin rs_pib ru_inn ru_kpp "
    "sa_vat sg_gst sg_uen si_tin sm_coe sn_ninea sr_fin sv_nit th_vat tj_tin tr_tin tt_bir "
    "tt_vat tw_vat tz_vat ua_vat ug_tin us_ein uy_ruc uz_tin uz_vat ve_rif vn_tin za_vat "
    "zm_tin zw_tin".split()
)
# Parameters Stripe's customer create no longer (or never) takes.
_NOT_ON_CREATE = ("coupon", "default_source", "business_vat_id")
# Types whose country is the value's prefix (e.g. DE123456789).
_PREFIXED = ("eu_vat", "eu_oss_vat")
# A plausible address: one @, no spaces, a dot in the domain (Stripe's check is similar).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Cards Stripe refuses to save (localstripe's ``_attaching_is_declined``).
_DECLINED_ON_ATTACH = frozenset(
    {
        "4000000000000002",
        "4000000000009995",
        "4000000000009987",
        "4000000000009979",
        "4000000000000069",
        "4000000000000127",
        "4000000000000119",
    }
)
_CARD_BRANDS = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "mastercard": "MasterCard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


def apply() -> None:
    """Patch localstripe's Customer (called once by ``extensions.apply``)."""
    _patch_create()
    _patch_fields()
    _patch_sources()
    _patch_payment_method_list()


def _refuse(error: dict[str, Any], status: int = 400) -> UserError:
    return UserError(status, error["message"], {k: v for k, v in error.items() if k != "type"})


def _check_create(data: dict[str, Any]) -> None:
    for name in _NOT_ON_CREATE:
        if name in data:
            raise _refuse(unknown(name))
    email = data.get("email")
    # An empty value leaves the e-mail unset, as on Stripe.
    if email not in (None, "") and not (isinstance(email, str) and _EMAIL.match(email)):
        raise _refuse(problem("email_invalid", "email", f"Invalid email address: {email}"))
    _check_tax_id_data(data.get("tax_id_data"))


def _check_tax_id_data(entries: Any) -> None:
    if entries is None:
        return
    if not isinstance(entries, list):
        raise _refuse(problem("parameter_invalid", "tax_id_data", "Invalid array"))
    for i, entry in enumerate(entries):
        prefix = f"tax_id_data[{i}]"
        if not isinstance(entry, dict):
            raise _refuse(problem("parameter_invalid", prefix, f"Invalid hash: {prefix}"))
        for name in ("type", "value"):
            if not entry.get(name):
                param = f"{prefix}[{name}]"
                raise _refuse(
                    problem("parameter_missing", param, f"Missing required param: {param}.")
                )
        extra = set(entry) - {"type", "value"}
        if extra:
            raise _refuse(unknown(f"{prefix}[{sorted(extra)[0]}]"))
        if entry["type"] not in TAX_ID_TYPES:
            param = f"{prefix}[type]"
            raise _refuse(
                problem(
                    "parameter_invalid",
                    param,
                    f"Invalid {param}: must be one of {', '.join(sorted(TAX_ID_TYPES))}",
                )
            )


def _tax_id(customer: str, type: str, value: str) -> Any:
    """A TaxId of any of Stripe's types (localstripe's constructor takes four)."""
    obj = TaxId.__new__(TaxId)
    StripeObject.__init__(obj)
    obj.country = value[:2].upper() if type in _PREFIXED else type[:2].upper()
    obj.customer = customer
    obj.type = type
    obj.value = value
    obj.verification = {"status": "pending", "verified_address": None, "verified_name": None}
    return obj


def _patch_create() -> None:
    orig_init = Customer.__init__

    def customer_init(self: Any, *args: Any, shipping: Any = None, **kw: Any) -> None:
        # ``source`` is taken by ``_api_create`` before this; the rest are checked here.
        _check_create(kw)
        if shipping is not None and not (isinstance(shipping, dict) and "address" in shipping):
            raise UserError(400, "shipping requires an address", {"param": "shipping"})
        tax_id_data = kw.pop("tax_id_data", None)
        orig_init(self, *args, **kw)
        self.shipping = shipping
        self.balance = ls.try_convert_to_int(kw.get("balance", 0))
        self.tax_ids._list = [_tax_id(self.id, d["type"], d["value"]) for d in tax_id_data or []]

    Customer.__init__ = customer_init  # type: ignore[method-assign]

    orig_update = Customer._api_update.__func__  # type: ignore[attr-defined]

    def customer_update(cls: Any, id: str, **data: Any) -> Any:
        obj = cls._api_retrieve(id)
        default = data.get("default_source")
        if default is not None and default not in (s.id for s in obj.sources._list):
            raise UserError(
                400,
                f"No such source: '{default}'",
                {"code": "resource_missing", "param": "default_source"},
            )
        if "email" in data:
            _check_create({"email": data["email"]})
        if "balance" in data:
            data["balance"] = ls.try_convert_to_int(data["balance"])
        return orig_update(cls, id, **data)

    Customer._api_update = classmethod(customer_update)  # type: ignore[assignment]


def _patch_fields() -> None:
    def currency(self: Any) -> Any:
        # Null until the first successful charge, then that charge's currency.
        if getattr(self, "_currency", None) is None:
            charges = [
                c
                for key, c in ls.store.items()
                if key.startswith("charge:")
                and getattr(c, "customer", None) == self.id
                and getattr(c, "status", None) == "succeeded"
            ]
            if charges:
                self._currency = min(charges, key=lambda c: c.created).currency
        return getattr(self, "_currency", None)

    Customer.currency = property(currency)  # type: ignore[assignment]

    orig_export = Customer._export

    def _export(self: Any, expand: Any = None) -> dict[str, Any]:
        obj = orig_export(self, expand)
        # Legacy fields localstripe keeps for its own invoices.
        obj.pop("account_balance", None)
        obj.pop("business_vat_id", None)
        obj.setdefault("balance", 0)
        return obj

    Customer._export = _export  # type: ignore[method-assign]


def _card_of_test_token(token: str) -> Any:
    """A card source for a test token, like the one Stripe makes for ``source=tok_visa``."""
    number = cards.TEST_TOKENS[token]
    # localstripe's Card takes 16-digit numbers only: validate with a stand-in.
    card = Card(
        source={
            "object": "card",
            "number": "4242424242424242",
            "exp_month": "12",
            "exp_year": str(datetime.date.today().year + 5),
            "cvc": "123",
        }
    )
    card._card_number = number
    card.brand = _CARD_BRANDS.get(cards.brand(number), "Unknown")
    card.fingerprint = ls.fingerprint(number)
    return card


def _check_source(source: Any) -> None:
    """Stripe refuses the create, and creates no customer, for an unknown or declined token."""
    if not isinstance(source, str) or not source.startswith("tok_"):
        return
    number = cards.TEST_TOKENS.get(source)
    if number is None and ls.store.get("token:" + source) is None:
        raise UserError(
            400, f"No such token: '{source}'", {"code": "resource_missing", "param": "source"}
        )
    if number in _DECLINED_ON_ATTACH:
        decline = cards.decline_for(number) or cards.GENERIC_DECLINE
        raise UserError(
            402,
            decline.message,
            {"code": decline.code, "decline_code": decline.decline_code, "param": "source"},
        )


def _patch_sources() -> None:
    def _api_create(cls: Any, source: Any = None, **data: Any) -> Any:
        _check_source(source)
        obj = cls(**data)
        if source:
            cls._api_add_source(obj.id, source)
        return obj

    Customer._api_create = classmethod(_api_create)  # type: ignore[assignment]

    orig_add = Customer._api_add_source.__func__  # type: ignore[attr-defined]

    def _api_add_source(cls: Any, id: str, source: Any = None, **kw: Any) -> Any:
        if not (isinstance(source, str) and source in cards.TEST_TOKENS):
            return orig_add(cls, id, source=source, **kw)
        if kw:
            raise _refuse(unknown(sorted(kw)[0]))
        _check_source(source)
        obj = cls._api_retrieve(id)
        card = _card_of_test_token(source)
        card.customer = id
        obj.sources._list.append(card)
        if obj.default_source is None:
            obj.default_source = card.id
        ls.schedule_webhook(ls.Event("customer.source.created", card))
        return card

    Customer._api_add_source = classmethod(_api_add_source)  # type: ignore[assignment]


class _CardAsPaymentMethod:
    """A customer's card source in a PaymentMethod list, shaped as Stripe lists it there."""

    def __init__(self, card: Any) -> None:
        self.id = card.id
        self.created = card.created
        self._card = card

    def _export(self, expand: Any = None) -> dict[str, Any]:
        card = self._card
        number = card._card_number
        return {
            "id": card.id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {
                    "city": card.address_city,
                    "country": card.address_country,
                    "line1": card.address_line1,
                    "line2": card.address_line2,
                    "postal_code": card.address_zip,
                    "state": card.address_state,
                },
                "email": None,
                "name": card.name,
                "phone": None,
            },
            "card": {
                "brand": cards.brand(number),
                "checks": {"cvc_check": "pass"},
                "country": card.country,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": card.funding,
                "last4": number[-4:],
                "networks": {"available": [cards.brand(number)], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": card.created,
            "customer": card.customer,
            "livemode": card.livemode,
            "metadata": {},
            "type": "card",
        }


def _patch_payment_method_list() -> None:
    orig_list = PaymentMethod._api_list_all.__func__  # type: ignore[attr-defined]

    def _api_list_all(cls: Any, url: Any, customer: Any = None, type: Any = None, **kw: Any):
        # Stripe lists a customer's card sources among its card PaymentMethods.
        li = orig_list(cls, url, customer=customer, type=type, **kw)
        obj = ls.store.get("customer:" + customer) if isinstance(customer, str) else None
        if obj is not None and type in (None, "card"):
            sources = [s for s in obj.sources._list if isinstance(s, Card)]
            li._list = [_CardAsPaymentMethod(s) for s in reversed(sources)] + li._list
        return li

    PaymentMethod._api_list_all = classmethod(_api_list_all)  # type: ignore[assignment]
