"""Connecting, replacing, checking and removing Stripe accounts (`stripe=*`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from integrations import services
from integrations.forms import ConnectionForm, WebhookSecretForm
from integrations.hooks import connection_usage
from integrations.models import StripeConnection
from integrations.selectors import webhook_endpoint_usage
from integrations.stripe_js import stripe_connect_csp
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by


def _connection(request: PortalRequest, connection_uuid):
    return get_object_or_404(request.workspace.stripe_connections, uuid=connection_uuid)


def _to_dashboard(request: PortalRequest, connection=None):
    url = reverse("stripe_dashboard", args=[request.workspace.slug])
    return redirect(f"{url}?connection={connection.uuid}" if connection else url)


@sensitive_post_parameters("secret_key")
@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
@stripe_connect_csp  # the "Connect with Stripe" button
def connection_create(request: PortalRequest):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create_from_key(
                workspace=request.workspace,
                secret_key=form.cleaned_data["secret_key"],
                publishable_key=form.cleaned_data["publishable_key"],
                make_default=form.cleaned_data["make_default"],
                **audit_by(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Connected to {connection.account_name}.")
            return _to_dashboard(request, connection)
    context = {"form": form, "oauth_enabled": bool(settings.STRIPE_CONNECT_CLIENT_ID)}
    return render(request, "integrations/connections/edit.html", context)


@sensitive_post_parameters("secret_key")
@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
def connection_edit(request: PortalRequest, connection_uuid):
    connection = _connection(request, connection_uuid)
    form = ConnectionForm(
        request.POST or None,
        editing=True,
        initial={"publishable_key": connection.publishable_key},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_update(
                connection=connection, **form.cleaned_data, **audit_by(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Connection saved.")
            return _to_dashboard(request, connection)
    return render(
        request, "integrations/connections/edit.html", {"form": form, "connection": connection}
    )


@workspace_view(perms.STRIPE_ALL)
@require_POST
def connection_check(request: PortalRequest, connection_uuid):
    connection = _connection(request, connection_uuid)
    error = services.connection_check(connection=connection)
    if error is None:
        messages.success(request, f"Stripe accepts the key of {connection.account_name}.")
    else:
        messages.error(request, f"Stripe refused: {error.message}")
    return _to_dashboard(request, connection)


@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
def connection_remove(request: PortalRequest, connection_uuid):
    """GET asks for confirmation; POST forgets the connection (the Stripe account stays)."""
    connection = _connection(request, connection_uuid)
    error = ""
    if request.method == "POST":
        try:
            services.connection_remove(connection=connection, **audit_by(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{connection.account_name} is no longer connected.")
            return _to_dashboard(request)
    usages = [usage for found in connection_usage.send(connection) for usage in found]
    context = {"connection": connection, "error": error, "usages": usages}
    return render(request, "integrations/connections/remove.html", context)


@sensitive_post_parameters("secret")
@workspace_view(perms.STRIPE_ALL)
@require_http_methods(["GET", "POST"])
def connection_webhooks(request: PortalRequest, connection_uuid):
    """The connection's webhook endpoints: its URL first, then register it in Stripe, or paste
    the signing secret of the endpoint made with that URL; the triggers' own endpoints."""
    connection = _connection(request, connection_uuid)
    form = WebhookSecretForm(request.POST if request.POST.get("action") == "paste" else None)
    try:
        if request.POST.get("action") == "register":
            services.webhook_endpoint_register(connection=connection)
            messages.success(request, "The webhook endpoint is registered in Stripe.")
            return redirect(request.path)
        if form.is_bound and form.is_valid():
            services.webhook_secret_set(connection=connection, secret=form.cleaned_data["secret"])
            messages.success(request, "The signing secret is saved.")
            return redirect(request.path)
    except ValidationError as error:
        if hasattr(error, "error_dict"):  # about the pasted secret: show it next to the field
            form.add_error(None, error)
        else:
            messages.error(request, " ".join(error.messages))
    # The URL exists before anything refers to it: the page shows it for pasting into Stripe.
    own = services.webhook_endpoint_for(connection=connection)
    usage = webhook_endpoint_usage(connection)
    context = {
        "connection": connection,
        "endpoint": own,
        "endpoint_url": services.webhook_endpoint_url(own),
        "trigger_endpoints": [
            (endpoint, services.webhook_endpoint_url(endpoint))
            for endpoint in connection.webhook_endpoints.exclude(trigger_key="")
        ],
        "form": form,
        "used": usage.used,
        "limit": usage.limit,
    }
    if connection.connected_via == StripeConnection.Via.OAUTH:
        context["connect_url"] = settings.SITE_URL + reverse("stripe_connect_webhook")
        context["connect_configured"] = bool(settings.STRIPE_CONNECT_WEBHOOK_SECRETS)
    return render(request, "integrations/connections/webhooks.html", context)
