"""The only code that talks to Stripe.

Modules per concern take keyword arguments (and an `idempotency_key` on every creating call)
and return small dataclasses; every Stripe error comes out as `GatewayError` with a code from
the table in `errors`.
"""
