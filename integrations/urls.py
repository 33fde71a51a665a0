"""Workspace URLs of the Stripe pages (included under w/<ws>/stripe/)."""

from __future__ import annotations

from django.urls import path

from integrations.views import connections, customers, dashboard, events, oauth

urlpatterns = [
    path("", dashboard.stripe_dashboard, name="stripe_dashboard"),
    path("connections/new/", connections.connection_create, name="stripe_connection_create"),
    path(
        "connections/<uuid:connection_uuid>/",
        connections.connection_edit,
        name="stripe_connection_edit",
    ),
    path(
        "connections/<uuid:connection_uuid>/check/",
        connections.connection_check,
        name="stripe_connection_check",
    ),
    path(
        "connections/<uuid:connection_uuid>/remove/",
        connections.connection_remove,
        name="stripe_connection_remove",
    ),
    path(
        "connections/<uuid:connection_uuid>/webhooks/",
        connections.connection_webhooks,
        name="stripe_connection_webhooks",
    ),
    path("connect/", oauth.oauth_start, name="stripe_oauth_start"),
    path("customers/", customers.customer_list, name="stripe_customer_list"),
    path("customers/new/", customers.customer_add, name="stripe_customer_add"),
    path("customers/<str:customer_id>/", customers.customer_detail, name="stripe_customer_detail"),
    path(
        "customers/<str:customer_id>/delete/",
        customers.customer_delete,
        name="stripe_customer_delete",
    ),
    path("events/", events.event_list, name="stripe_event_list"),
    path("events/fetch/", events.events_fetch, name="stripe_events_fetch"),
    path("events/<uuid:event_uuid>/", events.event_detail, name="stripe_event_detail"),
    path("events/<uuid:event_uuid>/replay/", events.event_replay_view, name="stripe_event_replay"),
]
