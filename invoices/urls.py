"""Invoice pages under `w/<ws>/`: invoices and the payment process (staff), "To pay" (payers)."""

from __future__ import annotations

from django.urls import path

from invoices.views import customer, invoices, pay, process, work_items

urlpatterns = [
    # The customer page, at the contact's URL (portal's contacts list links to it).
    path("contacts/<uuid:contact_uuid>/", customer.contact_detail, name="contact_detail"),
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("invoices/new/", invoices.invoice_edit, name="invoice_create"),
    path("invoices/payment-process/", process.payment_process_edit, name="payment_process_edit"),
    path("invoices/<uuid:invoice_uuid>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<uuid:invoice_uuid>/edit/", invoices.invoice_edit, name="invoice_edit"),
    path("invoices/<uuid:invoice_uuid>/issue/", invoices.invoice_issue_view, name="invoice_issue"),
    path(
        "invoices/<uuid:invoice_uuid>/process/",
        invoices.invoice_process_view,
        name="invoice_process",
    ),
    path("invoices/<uuid:invoice_uuid>/void/", invoices.invoice_void_view, name="invoice_void"),
    path("invoices/<uuid:invoice_uuid>/print/", invoices.invoice_print, name="invoice_print"),
    path("to-pay/", work_items.work_item_list, name="work_item_list"),
    path("to-pay/<uuid:item_uuid>/", work_items.work_item_detail, name="work_item_detail"),
    path("to-pay/<uuid:item_uuid>/pay/", pay.work_item_pay, name="work_item_pay"),
    path(
        "to-pay/<uuid:item_uuid>/payments/<uuid:attempt_uuid>/return/",
        pay.work_item_pay_return,
        name="work_item_pay_return",
    ),
]
