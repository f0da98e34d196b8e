"""The NinjaAPI at /api/v1: mounts each app's router and turns errors into {code, message}."""

from __future__ import annotations

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
from gonghao.core.errors import GonghaoError
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


class ObjectJSONParser(Parser):
    """Bodies are JSON objects; a list, string or number is refused (not read as "no fields")."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        return data


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
