"""The events page: what Stripe sent, its processing, replay, and fetching missed events."""

from __future__ import annotations

import json
from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations.errors import GatewayError
from integrations.events import event_replay, events_fetch_missed
from integrations.forms import EventFilterForm
from integrations.models import StripeEvent, WebhookEndpoint
from integrations.selectors import chosen_connection
from integrations.services import webhook_endpoint_for
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate


def _events(request: PortalRequest):
    return StripeEvent.objects.filter(endpoint__connection__workspace=request.workspace)


@workspace_view(perms.STRIPE_READ)
@require_GET
def event_list(request: PortalRequest):
    form = EventFilterForm(request.GET)
    # By endpoint ids rather than a join, so the database reads the newest events of an
    # endpoint from its (endpoint, created) index instead of sorting all of them.
    endpoints = WebhookEndpoint.objects.filter(connection__workspace=request.workspace)
    events = StripeEvent.objects.filter(endpoint__in=list(endpoints.values_list("pk", flat=True)))
    # The account's name only: the endpoint's secrets and the connection's key are decrypted
    # on load (three Fernet decryptions a row), for nothing here.
    events = events.select_related("endpoint__connection").defer(
        "payload",
        "endpoint__secret",
        "endpoint__previous_secret",
        "endpoint__connection__secret_key",
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["type"]:
            events = events.filter(type__icontains=data["type"].strip())
        if data["status"]:
            events = events.filter(status=data["status"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(created__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            events = events.filter(created__lte=datetime.combine(data["until"], time.max, zone))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": paginate(request, events), "form": form, "filter_query": query.urlencode()}
    return render(request, "integrations/events/list.html", context)


@workspace_view(perms.STRIPE_READ)
@require_GET
def event_detail(request: PortalRequest, event_uuid):
    event = get_object_or_404(_events(request).select_related("endpoint"), uuid=event_uuid)
    pretty = json.dumps(event.payload, indent=2, sort_keys=True)
    return render(request, "integrations/events/detail.html", {"event": event, "pretty": pretty})


@workspace_view(perms.STRIPE_ALL)
@require_POST
def event_replay_view(request: PortalRequest, event_uuid):
    event = get_object_or_404(_events(request), uuid=event_uuid)
    try:
        event_replay(event=event)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{event.type} {event.event_id} is queued to be processed again.")
    return redirect(reverse("stripe_event_detail", args=[request.workspace.slug, event.uuid]))


@workspace_view(perms.STRIPE_ALL)
@require_POST
def events_fetch(request: PortalRequest):
    """Ask Stripe's Events API for what never arrived since the last event received."""
    connection = chosen_connection(request.workspace, request.POST.get("connection"))
    target = reverse("stripe_event_list", args=[request.workspace.slug])
    if connection is None:
        messages.error(request, "Connect a Stripe account first.")
        return redirect(target)
    try:
        new = events_fetch_missed(endpoint=webhook_endpoint_for(connection=connection))
    except (GatewayError, ValidationError) as error:
        text = error.message if isinstance(error, GatewayError) else " ".join(error.messages)
        messages.error(request, f"Could not fetch events: {text}")
    else:
        messages.success(
            request,
            f"{new} missed event{'s' if new != 1 else ''} taken in."
            if new
            else "No missed events: everything Stripe sent had arrived.",
        )
    return redirect(target)
