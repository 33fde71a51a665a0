"""What billing tells the apps above it (the convention: portal/hooks.py)."""

from __future__ import annotations

from portal.hooks import Hook

# A payment's status changed; receivers take the Payment, inside the transaction that
# records the change (invoices follow their payments).
payment_status_changed = Hook("payment_status_changed", stages=("invoices",))
