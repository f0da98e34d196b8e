"""Helpers for web views: permission checks, htmx fragments, pagination."""

from __future__ import annotations

from functools import cached_property, wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import render

from gonghao.access.services import has_permission
from gonghao.core.pagination import capped_count

PAGE_SIZE = 25


def permission_required(code: str):
    """Logged-in employees with `code` pass; others get a 403 page in their language."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not has_permission(request.user, code):
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def render_page(request: HttpRequest, template: str, context: dict, *, fragment: str = ""):
    """The whole page, or only `fragment` when htmx asks for a partial update."""
    if fragment and getattr(request, "htmx", False):
        return render(request, fragment, context)
    return render(request, template, context)


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE, *, count_cap: int = 0):
    """The requested page of `queryset`; with `count_cap`, the count (and so the pages
    offered) stops at the cap and `page.paginator.capped` tells whether it did."""
    paginator = (
        CappedPaginator(queryset, per_page, cap=count_cap)
        if count_cap
        else Paginator(queryset, per_page)
    )
    return paginator.get_page(request.GET.get("page"))


class CappedPaginator(Paginator):
    """A paginator whose count stops at `cap` (see pagination.capped_count): pages up to the
    cap are offered, and `capped` says there were more (_pagination.html then shows
    "1,000+ customers": customer searches are the lists that cap their count)."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _capped_count(self) -> tuple[int, bool]:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return self._capped_count[0]

    @property
    def capped(self) -> bool:
        return self._capped_count[1]


def querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def domain_errors_as_pages(view):
    """Turn NotFound / PermissionDenied raised by services into the 404 / 403 pages."""
    from gonghao.core.errors import NotFound, PermissionDenied

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            return render(request, "404.html", status=404)
        except PermissionDenied as error:
            return render(request, "403.html", {"reason": error.message}, status=403)

    return wrapper


def apply_field_errors(form, error) -> None:
    """Show a service's ValidationFailed beside the matching form fields."""
    field_errors = getattr(error, "field_errors", None) or {}
    if not field_errors:
        form.add_error(None, str(error.message))
    for field, messages in field_errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
