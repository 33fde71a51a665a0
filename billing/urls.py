"""Billing pages under `w/<ws>/`: charge a customer, payment links, payments, settings."""

from __future__ import annotations

from django.urls import path

from billing.views import cards, charge, links, payments, reconciliation, settings

urlpatterns = [
    path("contacts/<uuid:contact_uuid>/charge/", charge.contact_charge, name="contact_charge"),
    path(
        "contacts/<uuid:contact_uuid>/cards/<str:payment_method_id>/remove/",
        cards.contact_card_remove_view,
        name="contact_card_remove",
    ),
    path("payments/", payments.payment_list, name="payment_list"),
    path(
        "payments/reconciliation/",
        reconciliation.reconciliation_list,
        name="reconciliation_list",
    ),
    path(
        "payments/reconciliation/run/",
        reconciliation.reconciliation_run,
        name="reconciliation_run",
    ),
    path("payments/<uuid:payment_uuid>/", payments.payment_detail, name="payment_detail"),
    path(
        "payments/<uuid:payment_uuid>/refund/",
        payments.payment_refund_view,
        name="payment_refund",
    ),
    path("payments/<uuid:payment_uuid>/return/", charge.payment_return, name="payment_return"),
    path("payment-links/", links.payment_link_list, name="payment_link_list"),
    path("payment-links/<uuid:link_uuid>/", links.payment_link_detail, name="payment_link_detail"),
    path(
        "payment-links/<uuid:link_uuid>/email.html",
        links.payment_link_email_html,
        name="payment_link_email_html",
    ),
    path(
        "payment-links/<uuid:link_uuid>/send/",
        links.payment_link_send_view,
        name="payment_link_send",
    ),
    path(
        "payment-links/<uuid:link_uuid>/cancel/",
        links.payment_link_cancel_view,
        name="payment_link_cancel",
    ),
    path("settings/", settings.workspace_settings, name="workspace_settings"),
]
