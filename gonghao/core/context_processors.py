"""Template context shared by every page: the navigation the viewer may use."""

from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_permissions": frozenset()}
    from gonghao.access.services import permissions_of

    return {"nav_permissions": permissions_of(user)}
