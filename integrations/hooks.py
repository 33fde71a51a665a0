"""What integrations tells the apps above it (the convention: portal/hooks.py)."""

from __future__ import annotations

from portal.hooks import Hook

# A Stripe event, once per event, inside the transaction that marks it processed
# (receivers take the StripeEvent). The order matters:
# - "ledger" (billing) first: a workflow started by a payment event sees the payment recorded;
# - "workflows" (automation) before "contacts": a `customer.deleted` trigger still finds the
#   contact whose Stripe customer is about to be forgotten;
# - "payers" (invoices) forget the deleted customer on their payer profiles;
# - "contacts" (integrations, for portal's contacts) last.
stripe_event = Hook("stripe_event", stages=("ledger", "workflows", "payers", "contacts"))

# Before a connection is removed: what uses it. Receivers take the StripeConnection and answer
# a list of (label, url).
connection_usage = Hook("connection_usage", stages=("workflows",))
