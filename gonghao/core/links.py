"""Links to many records of one kind, reversed once.

A list page links each of its rows to the record (`{% url 'customer_detail' pk %}`); Django's
`reverse` walks the URL resolver each time, which cost a fifty-row table about as much as
rendering the rest of it. The URL of a record differs from its neighbour's only by the id, so
the pattern is reversed once with a marker id and each row's id is put in its place.
"""

from __future__ import annotations

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

_MARKER = 987_654_321_987
_patterns: dict[tuple[str, str, str | None, str | None], tuple[str, str] | None] = {}


def record_url(name: str, pk: int) -> str:
    """reverse(name, args=[pk]) for a URL taking one integer id."""
    key = (name, get_script_prefix(), str(get_urlconf()), get_language())
    try:
        pattern = _patterns[key]
    except KeyError:
        marked = reverse(name, args=[_MARKER])
        head, found, tail = marked.partition(str(_MARKER))
        # Anything unusual (the marker twice, or not at all): reverse each time.
        pattern = _patterns[key] = (head, tail) if found and str(_MARKER) not in tail else None
    if pattern is None:
        return reverse(name, args=[pk])
    return f"{pattern[0]}{int(pk)}{pattern[1]}"
