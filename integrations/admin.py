from __future__ import annotations

from django.contrib import admin

from integrations.models import StripeConnection


@admin.register(StripeConnection)
class StripeConnectionAdmin(admin.ModelAdmin):
    """The secret key is never shown: the field is excluded; its mask is read-only."""

    list_display = [
        "__str__", "workspace", "mode", "connected_via", "is_default", "health", "last_checked_at",
    ]  # fmt: skip
    list_filter = ["mode", "connected_via", "health", "workspace"]
    search_fields = ["account_id", "account_name", "workspace__name"]
    exclude = ["secret_key"]
    readonly_fields = ["masked_secret_key", "account_id", "mode", "connected_via", "health",
                       "last_checked_at", "key_prefix", "key_last4"]  # fmt: skip
