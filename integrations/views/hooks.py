"""The public webhook endpoints Stripe delivers to: one per connection, and the platform's
Connect endpoint for the accounts connected through OAuth."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.events import EventRejected, connect_event_receive, event_receive
from integrations.models import WebhookEndpoint

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; the signature is checked before anything else
@require_POST
def stripe_webhook(request: HttpRequest, endpoint_uuid):
    """Verify, store once, answer at once; processing runs on the worker."""
    endpoint = get_object_or_404(
        # Only what the intake reads: not the connection's secret key, whose decryption
        # was the largest single cost of an acknowledgement (tests/perf/README.md).
        WebhookEndpoint.objects.select_related("connection").only(
            "id", "uuid", "secret", "previous_secret", "connection__id", "connection__mode"
        ),
        uuid=endpoint_uuid,
    )
    try:
        new = event_receive(
            endpoint=endpoint,
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except EventRejected as exc:
        logger.info("webhook %s refused: %s", endpoint.uuid, exc)
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    return JsonResponse({"received": True, "duplicate": not new})


@csrf_exempt  # Stripe signs the body instead; the signature is checked before anything else
@require_POST
def stripe_connect_webhook(request: HttpRequest):
    """The platform's Connect endpoint: events of every connected account, routed by their
    `account`; signed with STRIPE_CONNECT_WEBHOOK_SECRET (404 while it is not set)."""
    secrets = settings.STRIPE_CONNECT_WEBHOOK_SECRETS
    if not secrets:
        return HttpResponseNotFound(
            "The Stripe Connect webhook endpoint is not configured.", content_type="text/plain"
        )
    try:
        new = connect_event_receive(
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
            secrets=secrets,
        )
    except EventRejected as exc:
        logger.info("connect webhook refused: %s", exc)
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    return JsonResponse({"received": True, "new": new})
