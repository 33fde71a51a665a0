from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator

# No list renders more rows than this, whatever the setting asks (pages stay fast).
MAX_PAGE_SIZE = 100


def paginate(request, queryset, per_page: int | None = None) -> Page:
    """The page named by `?page=` (a bad or too-large number gives the nearest valid page)."""
    size = min(per_page or settings.PORTAL_PAGE_SIZE, MAX_PAGE_SIZE)
    return Paginator(queryset, size).get_page(request.GET.get("page"))
