"""Reading a request's Stripe parameters once (form-encoded, JSON or query string)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from stripe_sandbox import request_keys as keys
from stripe_sandbox.ls_server import get_post_data, unflatten_data


async def read_params(request: web.Request) -> dict[str, Any]:
    """The request's parameters as nested dicts/lists, as localstripe parses them.

    POST bodies may be form-encoded (stripe-python) or JSON (localstripe's fake Stripe.js); other
    methods use the query string. The result is cached on the request; aiohttp caches the body,
    so localstripe's handlers can still read it afterwards.
    """
    if keys.PARAMS not in request:
        if request.method == "POST":
            data = await get_post_data(request, remove_auth=False)
        else:
            data = unflatten_data(request.query)
        request[keys.PARAMS] = dict(data) if data else {}
    return request[keys.PARAMS]


# What Stripe checks before executing, for the creating calls the portal makes: required
# parameters and integer ones. localstripe refuses such requests with a bare "Bad request";
# ``diagnose`` names the parameter and Stripe's error code instead.
REQUIRED = {
    "/v1/payment_intents": ("amount", "currency"),
    "/v1/refunds": (),
    "/v1/payment_methods": ("type",),
    "/v1/webhook_endpoints": ("url", "enabled_events"),
}
INTEGERS = frozenset(
    {"amount", "amount_to_capture", "application_fee_amount", "balance", "exp_month", "exp_year"}
)
DOC_URL = "https://stripe.com/docs/error-codes/"


def _flatten(params: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            out += _flatten(value, name)
        else:
            out.append((name, value))
    return out


def problem(code: str, param: str, message: str) -> dict[str, Any]:
    """An ``error`` body for a parameter Stripe refuses before executing."""
    return {
        "type": "invalid_request_error",
        "code": code,
        "param": param,
        "message": message,
        "doc_url": DOC_URL + code.replace("_", "-"),
    }


def unknown(param: str) -> dict[str, Any]:
    return problem("parameter_unknown", param, f"Received unknown parameter: {param}")


def diagnose(method: str, path: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Which parameter Stripe would refuse in this request, as an ``error`` body, or None."""
    if method != "POST":
        return None
    for name in REQUIRED.get(path, ()):
        if name not in params:
            return problem("parameter_missing", name, f"Missing required param: {name}.")
    for name, value in _flatten(params):
        leaf = name.rsplit("[", 1)[-1].rstrip("]")
        if value == "" and not name.startswith("metadata["):
            return problem(
                "parameter_invalid_empty",
                name,
                f"You passed an empty string for '{name}'. We assume empty values are an "
                f"attempt to unset a parameter; however '{name}' cannot be unset. You should "
                f"remove '{name}' from your request or supply a non-empty value.",
            )
        if leaf in INTEGERS and not _is_integer(value):
            return problem("parameter_invalid_integer", name, f"Invalid integer: {value}")
    return None


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.lstrip("-").isdigit()
