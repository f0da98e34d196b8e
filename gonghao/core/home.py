"""Sections other apps add to the home page, so accounts need not know about them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class HomeSection:
    template: str
    context: dict[str, Any]


# A provider returns its section for this request, or None to show nothing.
_PROVIDERS: list[Callable[[HttpRequest], HomeSection | None]] = []


def register(provider: Callable[[HttpRequest], HomeSection | None]):
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def sections_for(request: HttpRequest) -> list[HomeSection]:
    return [s for s in (provider(request) for provider in _PROVIDERS) if s is not None]
