"""The ledger in the admin: read mostly. Amounts and Stripe ids are Stripe's truth, so they are
read-only; operators fix data through the services, not by editing a charge's amount."""

from __future__ import annotations

from django.contrib import admin

from billing.models import Payment, PaymentEvent, PaymentLink, ReconciliationRun, Refund
from portal.money import format_amount


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "message"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["uuid", "amount", "reason", "status", "stripe_refund_id", "failure_message",
                       "created_by", "created_at"]  # fmt: skip


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["uuid", "workspace", "contact", "money", "status", "source", "created_at"]
    list_filter = ["status", "source", "currency", "workspace"]
    search_fields = ["uuid", "stripe_payment_intent_id", "stripe_charge_id",
                     "stripe_customer_id", "idempotency_key", "contact__name", "contact__email",
                     "description"]  # fmt: skip
    date_hierarchy = "created_at"
    list_select_related = ["workspace", "contact"]
    raw_id_fields = ["contact", "started_by", "connection", "appointments"]
    readonly_fields = ["uuid", "workspace", "idempotency_key", "source", "origin", "amount",
                       "currency", "amount_refunded", "stripe_payment_intent_id",
                       "stripe_charge_id", "stripe_customer_id", "payment_method_id",
                       "created_at", "updated_at", "succeeded_at"]  # fmt: skip
    inlines = [PaymentEventInline, RefundInline]

    @admin.display(description="Amount", ordering="amount")
    def money(self, obj: Payment) -> str:
        return format_amount(obj.amount, obj.currency)


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = ["payment", "kind", "message", "created_at"]
    list_filter = ["kind"]
    search_fields = ["payment__uuid", "message"]
    list_select_related = ["payment"]
    readonly_fields = ["payment", "kind", "message", "created_at"]


@admin.register(PaymentLink)
class PaymentLinkAdmin(admin.ModelAdmin):
    """The token is what the customer's URL holds: shown, never editable."""

    list_display = ["uuid", "workspace", "contact", "money", "status", "sent_count", "expires_at",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "currency", "workspace"]
    search_fields = ["uuid", "description", "contact__name", "contact__email", "origin"]
    date_hierarchy = "created_at"
    list_select_related = ["workspace", "contact"]
    raw_id_fields = ["contact", "created_by", "connection", "payment", "appointments"]
    readonly_fields = ["uuid", "token", "workspace", "amount", "currency", "sent_at", "sent_count",
                       "paid_at", "payment", "created_at"]  # fmt: skip

    @admin.display(description="Amount", ordering="amount")
    def money(self, obj: PaymentLink) -> str:
        return format_amount(obj.amount, obj.currency)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["uuid", "payment", "money", "status", "reason", "created_at"]
    list_filter = ["status"]
    search_fields = ["uuid", "stripe_refund_id", "payment__uuid", "reason"]
    list_select_related = ["payment"]
    readonly_fields = ["uuid", "payment", "amount", "stripe_refund_id", "status", "failure_message",
                       "created_by", "created_at"]  # fmt: skip

    @admin.display(description="Amount", ordering="amount")
    def money(self, obj: Refund) -> str:
        return format_amount(obj.amount, obj.payment.currency)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    """A record of what the job saw and did: read-only."""

    list_display = ["started_at", "workspace", "connection", "intents_checked", "payments_updated",
                    "refunds_recorded", "error"]  # fmt: skip
    list_filter = ["workspace"]
    search_fields = ["uuid", "origin", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["workspace", "connection"]
    readonly_fields = ["uuid", "workspace", "connection", "origin", "since", "started_at",
                       "finished_at", "events_taken_in", "intents_checked", "payments_updated",
                       "refunds_recorded", "differences", "error"]  # fmt: skip
