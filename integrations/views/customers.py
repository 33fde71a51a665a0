"""The Stripe customers of a workspace's connection: search, one customer, delete one."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from integrations.gateway import customers as gateway
from integrations.gateway.client import credentials_for
from integrations.gateway.errors import NOT_FOUND, GatewayError
from integrations.views.dashboard import (
    connection_for,
    connection_query,
    from_unix,
    stripe_problem,
)
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.services import contacts_stripe_customer_forget

# Only ids of this shape reach Stripe: anything else in the URL is a 404 here.
CUSTOMER_ID_RE = re.compile(r"cus_[A-Za-z0-9]+")


class CustomerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    # Opaque to us: the `next_cursor` of the page before (a customer id or a search token).
    cursor = forms.CharField(required=False, max_length=500)

    def clean_q(self) -> str:
        query = self.cleaned_data["q"].strip()
        if 0 < len(query) < 3:  # Stripe's substring search refuses shorter text
            raise forms.ValidationError("Type at least 3 characters to search.")
        return query


def _valid_customer_id(customer_id: str) -> str:
    if not CUSTOMER_ID_RE.fullmatch(customer_id) or len(customer_id) > 255:
        raise Http404("No such customer.")
    return customer_id


def _base_context(request: PortalRequest) -> dict:
    connection = connection_for(request)
    return {"connection": connection, "connection_query": connection_query(request, connection)}


@workspace_view(perms.STRIPE_READ)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")  # the same URL answers a page or a partial
def customer_list(request: PortalRequest):
    search = CustomerSearchForm(request.GET)
    search.is_valid()
    query = search.cleaned_data.get("q", "")
    cursor = search.cleaned_data.get("cursor", "").strip()
    context = {**_base_context(request), "search": search, "query": query, "cursor": cursor}
    connection = context["connection"]
    if connection is None:
        context.update(stripe_problem(None))
    elif search.errors:
        context["search_error"] = next(iter(search.errors.values()))[0]
    else:
        try:
            page = gateway.customers_page(credentials_for(connection), query=query, cursor=cursor)
        except GatewayError as error:
            connection.refresh_from_db()
            context.update(stripe_problem(connection, error))
        else:
            rows = [(customer, from_unix(customer.created)) for customer in page.customers]
            context.update(page=page, rows=rows)
    template = "integrations/customers/list.html"
    if request.htmx and request.htmx.target == "customer-results":
        template += "#results"
    return render(request, template, context)


@workspace_view(perms.STRIPE_READ)
@require_GET
def customer_detail(request: PortalRequest, customer_id: str):
    customer_id = _valid_customer_id(customer_id)
    context = _base_context(request)
    connection = context["connection"]
    if connection is None:
        context.update(stripe_problem(None))
        return render(request, "integrations/customers/detail.html", context)
    credentials = credentials_for(connection)
    try:
        customer = gateway.customer_retrieve(credentials, customer_id=customer_id)
        if customer.deleted:
            raise Http404("This customer was deleted.")
        cards = gateway.cards_list(credentials, customer_id=customer_id)
        payments = gateway.payments_list(credentials, customer_id=customer_id, limit=10)
    except GatewayError as error:
        if error.code == NOT_FOUND:
            raise Http404("No such customer.") from None
        connection.refresh_from_db()
        context.update(stripe_problem(connection, error))
    else:
        context.update(
            customer=customer,
            created=from_unix(customer.created),
            cards=cards,
            payments=[
                (payment, from_unix(payment.created), payment.status.replace("_", " ").capitalize())
                for payment in payments
            ],
        )
    return render(request, "integrations/customers/detail.html", context)


@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
def customer_delete(request: PortalRequest, customer_id: str):
    """GET asks for confirmation; POST deletes the customer in Stripe (its saved cards go with
    it, its payments stay) and returns to the list."""
    customer_id = _valid_customer_id(customer_id)
    context = _base_context(request)
    connection = context["connection"]
    if connection is None:
        context.update(stripe_problem(None))
        return render(request, "integrations/customers/delete.html", context)
    credentials = credentials_for(connection)
    list_url = reverse("stripe_customer_list", args=[request.workspace.slug])
    list_url += context["connection_query"]
    deleted = False
    try:
        customer = gateway.customer_retrieve(credentials, customer_id=customer_id)
        if customer.deleted:
            deleted = True
            raise GatewayError(NOT_FOUND, "This customer was deleted.")
        if request.method == "POST":
            gateway.customer_delete(credentials, customer_id=customer_id)
            contacts_stripe_customer_forget(
                workspace_id=request.workspace.pk, customer_id=customer_id
            )
            messages.success(request, f"Customer {customer.name or customer.id} deleted in Stripe.")
            return redirect(list_url)
    except GatewayError as error:
        if error.code != NOT_FOUND:
            connection.refresh_from_db()
            context.update(stripe_problem(connection, error))
            return render(request, "integrations/customers/delete.html", context)
        if request.method == "GET" or not deleted:  # unknown to this account: another's, say
            raise Http404("No such customer.") from None
        # A second click, or someone deleted it meanwhile: the outcome asked for holds.
        messages.info(request, f"Customer {customer_id} was already deleted.")
        return redirect(list_url)
    context["customer"] = customer
    return render(request, "integrations/customers/delete.html", context)
