"""Request-scoped context: request id, client address and user agent for audit events."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import context

MAX_USER_AGENT = 512


def client_ip(request: HttpRequest) -> str | None:
    """The client address, trusting X-Forwarded-For only for the configured number of proxies."""
    proxies = settings.GONGHAO_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else ""
        request_id = request_id or context.new_request_id()
        request.request_id = request_id
        channel = "api" if request.path.startswith("/api/") else "web"
        with context.bind(
            request_id=request_id,
            client_ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:MAX_USER_AGENT],
            actor=None,
            channel=channel,
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class ApiJsonErrorsMiddleware:
    """Answers under /api/ are JSON even when Django itself refuses a request (unknown path,
    wrong method, an unreadable or oversized body, a NUL in the query string)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            return _json_error(400, "bad_query", _("The query string contains a NUL character."))
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            code, message = _GENERIC.get(response.status_code, ("http_error", None))
            return _json_error(
                response.status_code, code, message or _("The request could not be completed.")
            )
        return response


_GENERIC = {
    400: ("bad_request", _("The request is malformed.")),
    403: ("forbidden", _("The request was refused.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("This method is not allowed here.")),
    413: ("body_too_large", _("The request body is too large.")),
}


def _json_error(status: int, code: str, message) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": str(message)},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


TIME_ZONE_COOKIE = "gonghao_tz"


class ViewerTimeZoneMiddleware:
    """Show times in the viewer's own time zone (the browser reports it in a cookie);
    the configured zone otherwise. Times are stored in UTC either way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        name = request.COOKIES.get(TIME_ZONE_COOKIE, "")
        zone = _zone(name) if name else None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


def _zone(name: str):
    if len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
