"""The NinjaAPI at /api/v1: mounts each app's router and turns errors into {code, message}."""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from gonghao.accounts.api import (
    access_router,
    auth_router,
    employees_router,
    me_router,
    roles_router,
    tokens_router,
)
from gonghao.audit.api import router as audit_router
from gonghao.core.api_support import API_AUTH
from gonghao.core.errors import GonghaoError, ValidationFailed
from gonghao.crm.api import router as customers_router
from gonghao.crm.contacts_api import router as contacts_router
from gonghao.crm.opportunities_api import router as opportunities_router
from gonghao.crm.opportunities_api import stages_router as pipeline_stages_router
from gonghao.crm.sharing_api import router as sharing_router
from gonghao.lifecycle.access_api import reviews_router as access_reviews_router
from gonghao.lifecycle.access_api import role_requests_router
from gonghao.lifecycle.api import router as employee_requests_router
from gonghao.lifecycle.offboarding_api import router as offboarding_router
from gonghao.org.api import departments_router, positions_router
from gonghao.reports.api import router as dashboard_router
from gonghao.transfer.api import exports_router, imports_router


class ReadableJSONRenderer(JSONRenderer):
    """UTF-8 JSON with Chinese characters as they are, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


# Sign-in endpoints judge malformed credentials themselves (400) and audit the failed attempt.
CREDENTIAL_ROUTES = {
    "api/v1/auth/token",
    "api/v1/auth/password",
    "api/v1/auth/password-reset",
    "api/v1/auth/password-reset/confirm",
}


class ObjectJSONParser(Parser):
    """Bodies are JSON objects; a list, string or number is refused (not read as "no fields")."""

    def parse_body(self, request: HttpRequest):
        # Strict UTF-8: json.loads(bytes) would let encoded surrogates through.
        data = json.loads(request.body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        route = getattr(request.resolver_match, "route", "")
        where = None if route in CREDENTIAL_ROUTES else _unstorable_in(data)
        if where is not None:
            # PostgreSQL cannot store a NUL or a lone surrogate (\ud800) in text, and SQLite
            # would keep them silently: refused for every field of every operation, by name.
            raise ValidationFailed(field_errors={where[0]: [where[1]]})
        return data


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return _("Control characters are not allowed.")
    if any("\ud800" <= char <= "\udfff" for char in text):
        return _("This text contains characters that cannot be stored.")
    return None


def _unstorable_in(value, path: str = "body") -> tuple[str, str] | None:
    """(dotted path, why) of the first key or string with a NUL or a lone surrogate, or None."""
    if isinstance(value, str):
        problem = _unstorable(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(str(key))
            if problem:
                return (path, problem)
            found = _unstorable_in(item, str(key) if path == "body" else f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_in(item, f"{path}.{index}")
            if found is not None:
                return found
    return None


api = NinjaAPI(
    title="Gonghao API",
    version="1",
    description=(
        "Identity-centred, audited CRM. Authenticate with `POST /api/v1/auth/token`, then send "
        "`Authorization: Bearer <token>`. Errors are `{code, message}` in the request's language "
        "(`Accept-Language: zh-Hans` or `en`)."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    renderer=ReadableJSONRenderer(),
    parser=ObjectJSONParser(),
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, details=None
) -> HttpResponse:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(GonghaoError)
def on_domain_error(request: HttpRequest, exc: GonghaoError) -> HttpResponse:
    response = _error(request, exc.status, exc.code, str(exc.message), exc.details or None)
    if exc.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "payload", "query", "path")
        ]
        fields.setdefault(".".join(location) or "body", []).append(str(error.get("msg", "")))
    return _error(
        request, 422, "validation_error", _("Some fields are not valid."), {"fields": fields}
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, "not_authenticated", _("Log in or send a valid API token to continue.")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:
        return _error(request, 403, "csrf_failed", _("The request was refused (CSRF check)."))
    if isinstance(exc.__cause__, GonghaoError):  # raised while reading the body
        return on_domain_error(request, exc.__cause__)
    if exc.status_code == 400 and isinstance(exc.__cause__, RequestDataTooBig):
        return _error(request, 413, "body_too_large", _("The request body is too large."))
    if exc.status_code == 400:
        return _error(request, 400, "malformed_body", _("The request body must be a JSON object."))
    return _error(request, exc.status_code, "http_error", str(exc.message))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


api.add_router("/auth", auth_router, tags=["auth"])
api.add_router("/auth/tokens", tokens_router, tags=["auth"])
api.add_router("/me", me_router, tags=["me"])
api.add_router("/employees", employees_router, tags=["employees"])
api.add_router("/employees", offboarding_router, tags=["offboarding"])
api.add_router("/employee-requests", employee_requests_router, tags=["employee requests"])
api.add_router("/access-reviews", access_reviews_router, tags=["access reviews"])
api.add_router("/role-requests", role_requests_router, tags=["role requests"])
api.add_router("/departments", departments_router, tags=["organisation"])
api.add_router("/positions", positions_router, tags=["organisation"])
api.add_router("/audit-events", audit_router, tags=["audit"])
api.add_router("/roles", roles_router, tags=["access"])
api.add_router("/access", access_router, tags=["access"])
# Before the customers router, so /customers/pool is not read as a customer id.
api.add_router("/", sharing_router)  # tags per operation: sharing, public pool
api.add_router("/customers", customers_router, tags=["customers"])
api.add_router("/opportunities", opportunities_router, tags=["opportunities"])
api.add_router("/pipeline/stages", pipeline_stages_router, tags=["pipeline"])
api.add_router("/imports", imports_router, tags=["imports"])
api.add_router("/exports", exports_router, tags=["exports"])
api.add_router("/dashboard", dashboard_router, tags=["dashboard"])
api.add_router("/", contacts_router)  # tags per operation: contacts, interactions
