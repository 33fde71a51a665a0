"""A health check for load balancers and the benchmarks' baseline: no database, no session."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok"} while the process serves requests; touches nothing else."""
    return JsonResponse({"status": "ok"})
