"""Counting for paginated lists, shared by the API (api_support) and the pages (views)."""

from __future__ import annotations

from django.db.models import QuerySet

# Searched lists count their matches up to this many: nobody pages through more, and a broad
# term ("上海", a four-digit phone fragment) matches thousands of customers.
SEARCH_COUNT_CAP = 1000


def capped_count(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """How many rows, counted up to `cap`: (the count, whether it stopped at the cap).

    Counting every match of a broad search reads each matching row again after the page has
    been found; this reads at most `cap + 1`: `COUNT(*)` over a subquery with `LIMIT cap + 1`.
    """
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


def search_count_cap(text: str) -> int:
    """The cap for a list's count: SEARCH_COUNT_CAP when searched for `text`, else 0 (exact)."""
    return SEARCH_COUNT_CAP if text.strip() else 0
