"""Invoices, work items and payers' payments in the admin. Amounts and Stripe ids are read-only:
operators fix data through the services, not by editing what was paid."""

from __future__ import annotations

from django.contrib import admin

from invoices.models import (
    BankAccount,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    PayerProfile,
    PaymentProcess,
    WorkItem,
)
from portal.money import format_amount


@admin.register(PaymentProcess)
class PaymentProcessAdmin(admin.ModelAdmin):
    list_display = ["workspace", "assignee_name", "org_unit", "scope_type", "role"]
    list_select_related = ["workspace", "org_unit", "role"]
    search_fields = ["workspace__name", "assignee_name", "org_unit__path"]
    raw_id_fields = ["workspace", "org_unit", "role"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["display_number", "workspace", "contact", "status", "money", "paid", "due_date"]
    list_filter = ["status", "currency", "workspace"]
    search_fields = ["uuid", "number", "contact__name", "contact__email", "notes"]
    list_select_related = ["workspace", "contact"]
    raw_id_fields = ["workspace", "contact", "org_unit"]
    readonly_fields = ["uuid", "number", "total", "amount_paid", "created_at", "updated_at"]
    inlines = [InvoiceLineInline]

    @admin.display(description="Total", ordering="total")
    def money(self, obj: Invoice) -> str:
        return format_amount(obj.total, obj.currency)

    @admin.display(description="Paid", ordering="amount_paid")
    def paid(self, obj: Invoice) -> str:
        return format_amount(obj.amount_paid, obj.currency)


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["uuid", "invoice", "status", "assignee_name", "org_unit", "role", "created_at"]
    list_filter = ["status", "scope_type", "workspace"]
    search_fields = ["uuid", "invoice__number", "assignee_name", "org_unit__path"]
    list_select_related = ["invoice", "org_unit", "role"]
    raw_id_fields = ["workspace", "invoice", "org_unit", "role"]
    readonly_fields = ["uuid", "created_at", "closed_at"]


@admin.register(PayerProfile)
class PayerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "connection", "stripe_customer_id"]
    list_select_related = ["user", "connection"]
    search_fields = ["user__username", "user__email", "stripe_customer_id"]
    raw_id_fields = ["user", "connection"]
    readonly_fields = ["stripe_customer_id"]


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ["uuid", "payer", "bank_name", "last4", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["payer__user", "payer__connection"]
    search_fields = ["uuid", "bank_name", "last4", "payer__user__username", "payment_method_id"]
    raw_id_fields = ["payer"]
    readonly_fields = ["uuid", "setup_intent_id", "payment_method_id", "bank_name", "last4",
                       "created_at"]  # fmt: skip


@admin.register(InvoicePayment)
class InvoicePaymentAdmin(admin.ModelAdmin):
    list_display = ["uuid", "invoice", "payer", "method", "money", "status", "created_at"]
    list_filter = ["status", "method"]
    list_select_related = ["invoice", "payer"]
    search_fields = ["uuid", "invoice__number", "payer__username", "failure_message"]
    raw_id_fields = ["invoice", "work_item", "payer", "payment"]
    readonly_fields = ["uuid", "invoice", "work_item", "number", "payer", "method", "amount",
                       "payment", "created_at"]  # fmt: skip

    @admin.display(description="Amount", ordering="amount")
    def money(self, obj: InvoicePayment) -> str:
        return format_amount(obj.amount, obj.invoice.currency)
