from __future__ import annotations

from django.contrib import admin

from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint


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


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Signing secrets are never shown: excluded from every form."""

    list_display = ["uuid", "connection", "trigger_key", "stripe_endpoint_id", "created_at"]
    list_filter = ["connection__workspace"]
    search_fields = ["uuid", "stripe_endpoint_id", "trigger_key"]
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["uuid", "connection", "stripe_endpoint_id", "has_secret", "created_at"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "status", "livemode", "created", "attempts", "source"]
    list_filter = ["status", "type", "livemode", "source"]
    search_fields = ["event_id", "type"]
    date_hierarchy = "created"
    readonly_fields = [f.name for f in StripeEvent._meta.concrete_fields]
    list_select_related = ["endpoint"]
