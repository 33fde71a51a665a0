from __future__ import annotations

from copy import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.forms import ContactForm, ContactSearchForm
from portal.pagination import paginate
from portal.services import contact_save


@workspace_view(perms.CONTACTS_VIEW)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")  # the same URL answers a page or a partial
def contact_list(request: PortalRequest):
    search = ContactSearchForm(request.GET)
    contacts = request.workspace.contacts.all()
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    if query:
        contacts = contacts.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        )
    context = {"page": paginate(request, contacts), "search": search, "query": query}
    template = "portal/contacts/list.html"
    if request.htmx and request.htmx.target == "contact-results":
        template += "#results"
    return render(request, template, context)


@workspace_view(perms.CONTACTS_EDIT)
@require_http_methods(["GET", "POST"])
def contact_edit(request: PortalRequest, contact_uuid=None):
    """Create a contact (no uuid) or edit one."""
    contact = None
    if contact_uuid is not None:
        contact = get_object_or_404(request.workspace.contacts, uuid=contact_uuid)
    # The form gets its own copy: validating a POST changes its instance, and the page heading
    # must show the contact as stored, not a refused edit.
    form = ContactForm(request.POST or None, instance=copy(contact), workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            saved = contact_save(
                workspace=request.workspace, contact=form.instance, **form.to_fields()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Contact {saved.name} saved.")
            return redirect(saved)
    return render(request, "portal/contacts/edit.html", {"form": form, "contact": contact})
