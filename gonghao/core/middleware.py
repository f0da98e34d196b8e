"""Request-scoped context: request id, client address and user agent for audit events."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

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
