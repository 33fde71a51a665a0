"""The Stripe customers of a workspace's connection: search, one customer, add one, delete one."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from integrations import services
from integrations.errors import (
    NOT_FOUND,
    PROVIDER_ERROR,
    RATE_LIMITED,
    VALIDATION_ERROR,
    GatewayError,
)
from integrations.selectors import customer_detail_load, customer_load, customers_page_load
from integrations.views.dashboard import (
    connection_for,
    connection_query,
    from_unix,
    stripe_problem,
)
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.labels import status_label

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


class CustomerAddForm(forms.Form):
    """ "+ Add customer" (the Actionera page): what Stripe needs to find the customer again.
    `attempt`, made when the form is shown, keys the create so that it happens once."""

    name = forms.CharField(required=False, max_length=256, label="Name")
    email = forms.EmailField(required=False, max_length=512, label="E-mail")
    description = forms.CharField(
        required=False,
        max_length=350,
        label="Description",
        help_text="Optional, shown in Stripe (for example the client's business name).",
    )
    attempt = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("attempt", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("name", "").strip() or cleaned.get("email")):
            raise forms.ValidationError(
                "Give a name or an e-mail: Stripe's customer list is searched by them."
            )
        return cleaned


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
            page = customers_page_load(connection, query=query, cursor=cursor)
        except GatewayError as error:
            context.update(stripe_problem(connection, error))
        else:
            rows = [(customer, from_unix(customer.created)) for customer in page.customers]
            context.update(page=page, rows=rows)
    template = "integrations/customers/list.html"
    if request.htmx and request.htmx.target == "customer-results":
        template += "#results"
    return render(request, template, context)


@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
def customer_add(request: PortalRequest):
    """GET shows the form; POST creates the customer in Stripe and opens it, its ID ready to
    copy. The same form sent twice creates one customer."""
    context = _base_context(request)
    connection = context["connection"]
    if connection is None:
        context.update(stripe_problem(None))
        return render(request, "integrations/customers/add.html", context)
    form = CustomerAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            customer = services.customer_add(
                connection=connection,
                attempt=str(data["attempt"]),
                name=data["name"].strip(),
                email=data["email"],
                description=data["description"].strip(),
            )
        except GatewayError as error:
            if error.code in (PROVIDER_ERROR, RATE_LIMITED):
                # Stripe may have made it: the same attempt, sent again, finds out.
                form.add_error(
                    None,
                    f"Stripe did not answer in time ({error.message}). "
                    "Send the form again: it will not make a second customer.",
                )
            elif error.code == VALIDATION_ERROR:
                # Nothing was made: the corrected form is a new attempt with a new key.
                fresh = request.POST.copy()
                fresh["attempt"] = str(uuid.uuid4())
                form = CustomerAddForm(fresh)
                form.is_valid()
                form.add_error(None, f"Stripe refused the customer: {error.message}")
            else:
                context.update(stripe_problem(connection, error))
        else:
            messages.success(request, f"Customer created in Stripe: {customer.id}.")
            detail = reverse("stripe_customer_detail", args=[request.workspace.slug, customer.id])
            return redirect(detail + context["connection_query"])
    context["form"] = form
    return render(request, "integrations/customers/add.html", context)


@workspace_view(perms.STRIPE_READ)
@require_GET
def customer_detail(request: PortalRequest, customer_id: str):
    customer_id = _valid_customer_id(customer_id)
    context = _base_context(request)
    connection = context["connection"]
    if connection is None:
        context.update(stripe_problem(None))
        return render(request, "integrations/customers/detail.html", context)
    try:
        detail = customer_detail_load(connection, customer_id=customer_id)
    except GatewayError as error:
        if error.code == NOT_FOUND:
            raise Http404("No such customer.") from None
        context.update(stripe_problem(connection, error))
    else:
        if detail.customer.deleted:
            raise Http404("This customer was deleted.")
        context.update(
            customer=detail.customer,
            created=from_unix(detail.customer.created),
            cards=detail.cards,
            payments=[
                (payment, from_unix(payment.created), status_label(payment.status))
                for payment in detail.payments
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
    list_url = reverse("stripe_customer_list", args=[request.workspace.slug])
    list_url += context["connection_query"]
    try:
        if request.method == "POST":
            customer = services.customer_delete(connection=connection, customer_id=customer_id)
        else:
            customer = customer_load(connection, customer_id=customer_id)
    except GatewayError as error:
        if error.code == NOT_FOUND:  # unknown to this account: another's, say
            raise Http404("No such customer.") from None
        context.update(stripe_problem(connection, error))
        return render(request, "integrations/customers/delete.html", context)
    if request.method == "GET":
        if customer.deleted:
            raise Http404("No such customer.")
        context["customer"] = customer
        return render(request, "integrations/customers/delete.html", context)
    if customer is None:
        # A second click, or someone deleted it meanwhile: the outcome asked for holds.
        messages.info(request, f"Customer {customer_id} was already deleted.")
    else:
        messages.success(request, f"Customer {customer.name or customer.id} deleted in Stripe.")
    return redirect(list_url)
