"""The public webhook endpoint Stripe delivers to."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.events import EventRejected, event_receive
from integrations.models import WebhookEndpoint

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; the signature is checked before anything else
@require_POST
def stripe_webhook(request: HttpRequest, endpoint_uuid):
    """Verify, store once, answer at once; processing runs on the worker."""
    endpoint = get_object_or_404(
        WebhookEndpoint.objects.select_related("connection"), uuid=endpoint_uuid
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
