"""Who may call what: one line per API operation and per page. Read by test_authz_walk.py.

Format: "METHOD path": "caller=status caller=status ... *=status"
  - callers: anon, admin, security_admin, auditor, head, rep_a, agent, marketer, nobody (the
    built-in roles of gonghao/testing/crm.py make_crm_cast) and `out`: rep_a calling on a record
    outside rep_a's scope (rep_c's customer, Service department, ...). `out` is only walked
    for paths with a record in them. `*` gives the status of every caller not named.
  - a status is the exact HTTP status, or `login` for a redirect to the login page.
  - API keys are the OpenAPI method and path; page keys the URL resolver's route. Pages are
    walked with GET unless the key says POST.
  - Deny by default: anonymous must be 401 (API) or `login` (pages) unless the key is in PUBLIC.
  - Path parameters and $placeholders in BODIES come from authz_world.py (customer_id, ...).

A new endpoint without a line here fails the suite. To draft lines, run the walk with
GONGHAO_AUTHZ_DRAFT=<directory> and review what each caller got before pasting.
"""

from __future__ import annotations

from .authz_world import IMPORT_CSV

API_PREFIX = "api/v1/"
LOGIN = "login"
LOGIN_URL = "/accounts/login/"


def parse(spec: str) -> dict[str, int | str]:
    """ "anon=401 admin=200 *=403" → {caller: status} for every caller."""
    from .authz_world import CALLERS

    given: dict[str, int | str] = {}
    for item in spec.split():
        caller, _eq, status = item.partition("=")
        if caller != "*" and caller not in CALLERS:
            raise ValueError(f"unknown caller {caller!r}")
        given[caller] = status if status == LOGIN else int(status)
    default = given.pop("*", None)
    return {c: given.get(c, default) for c in CALLERS if c in given or default is not None}


API: dict[str, str] = {
    "POST /api/v1/auth/token": "anon=400 *=400",
    "POST /api/v1/auth/password": "anon=400 *=400",
    "POST /api/v1/auth/password-reset": "anon=200 *=200",
    "POST /api/v1/auth/password-reset/confirm": "anon=400 *=400",
    "POST /api/v1/auth/logout": "anon=401 *=200",
    "GET /api/v1/auth/tokens": "anon=401 *=200",
    "POST /api/v1/auth/tokens": "anon=401 *=201",
    "DELETE /api/v1/auth/tokens/{token_id}": "anon=401 out=404 *=200",
    "GET /api/v1/me": "anon=401 *=200",
    "GET /api/v1/me/preferences": "anon=401 *=200",
    "PUT /api/v1/me/preferences": "anon=401 *=200",
    "GET /api/v1/employees": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "POST /api/v1/employees": "anon=401 admin=201 *=403",
    "GET /api/v1/employees/{employee_id}": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "POST /api/v1/employees/{employee_id}/second-factors/reset": (
        "anon=401 security_admin=200 *=403"
    ),
    "GET /api/v1/employees/{employee_id}/roles": (
        "anon=401 admin=200 security_admin=200 head=200 *=403"
    ),
    "POST /api/v1/employees/{employee_id}/roles": "anon=401 security_admin=201 *=403",
    "DELETE /api/v1/employees/{employee_id}/roles/{code}": "anon=401 security_admin=200 *=403",
    "POST /api/v1/employee-requests": "anon=401 head=201 *=403",
    "GET /api/v1/employee-requests": "anon=401 admin=200 head=200 *=403",
    "GET /api/v1/employee-requests/{request_id}": "anon=401 admin=200 head=200 *=403",
    "PATCH /api/v1/employee-requests/{request_id}": "anon=401 head=409 *=403",
    "POST /api/v1/employee-requests/{request_id}/approve": "anon=401 *=403",
    "POST /api/v1/employee-requests/{request_id}/reject": "anon=401 admin=200 *=403",
    "POST /api/v1/employee-requests/{request_id}/return": "anon=401 admin=200 *=403",
    "POST /api/v1/employee-requests/{request_id}/withdraw": "anon=401 head=200 *=403",
    "GET /api/v1/departments": "anon=401 *=200",
    "POST /api/v1/departments": "anon=401 admin=201 *=403",
    "GET /api/v1/departments/{department_id}": "anon=401 *=200",
    "PATCH /api/v1/departments/{department_id}": "anon=401 admin=200 *=403",
    "GET /api/v1/positions": "anon=401 *=200",
    "POST /api/v1/positions": "anon=401 admin=201 *=403",
    "GET /api/v1/positions/{position_id}": "anon=401 *=200",
    "PATCH /api/v1/positions/{position_id}": "anon=401 admin=200 *=403",
    "GET /api/v1/audit-events": "anon=401 auditor=200 *=403",
    "POST /api/v1/audit-events/verify": "anon=401 auditor=200 *=403",
    "GET /api/v1/roles": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "GET /api/v1/roles/{code}": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "PATCH /api/v1/roles/{code}": "anon=401 security_admin=200 *=403",
    "GET /api/v1/access/permissions": "anon=401 *=200",
    "GET /api/v1/access/why": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "GET /api/v1/access/who": "anon=401 admin=200 security_admin=200 head=200 *=403",
    "GET /api/v1/customers": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 *=200"
    ),
    "POST /api/v1/customers": "anon=401 head=201 rep_a=201 *=403",
    "GET /api/v1/customers/export.csv": "anon=401 head=200 marketer=200 *=403",
    "GET /api/v1/customers/{customer_id}": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "PATCH /api/v1/customers/{customer_id}": "anon=401 head=200 rep_a=200 out=404 *=403",
    "DELETE /api/v1/customers/{customer_id}": "anon=401 head=204 out=404 *=403",
    "POST /api/v1/customers/{customer_id}/restore": "anon=401 admin=404 *=403",
    "POST /api/v1/customers/{customer_id}/transfer": "anon=401 head=200 out=404 *=403",
    "POST /api/v1/customers/{customer_id}/reveal": "anon=401 head=200 rep_a=200 out=404 *=403",
    "GET /api/v1/opportunities": "anon=401 head=200 rep_a=200 *=403",
    "POST /api/v1/opportunities": "anon=401 head=201 rep_a=201 *=403",
    "GET /api/v1/opportunities/{opportunity_id}": "anon=401 head=200 rep_a=200 out=404 *=403",
    "PATCH /api/v1/opportunities/{opportunity_id}": "anon=401 head=200 rep_a=200 out=404 *=403",
    "DELETE /api/v1/opportunities/{opportunity_id}": "anon=401 head=204 out=404 *=403",
    "POST /api/v1/opportunities/{opportunity_id}/stage": (
        "anon=401 head=200 rep_a=200 out=404 *=403"
    ),
    "GET /api/v1/opportunities/{opportunity_id}/history": (
        "anon=401 head=200 rep_a=200 out=404 *=403"
    ),
    "GET /api/v1/pipeline/stages": "anon=401 admin=200 head=200 rep_a=200 *=403",
    "POST /api/v1/pipeline/stages": "anon=401 admin=201 *=403",
    "PATCH /api/v1/pipeline/stages/{stage_id}": "anon=401 admin=200 *=403",
    "GET /api/v1/customers/{customer_id}/contacts": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "POST /api/v1/customers/{customer_id}/contacts": "anon=401 head=201 rep_a=201 out=404 *=403",
    "GET /api/v1/contacts/{contact_id}": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "PATCH /api/v1/contacts/{contact_id}": "anon=401 head=200 rep_a=200 out=404 *=403",
    "DELETE /api/v1/contacts/{contact_id}": "anon=401 head=204 rep_a=204 out=404 *=403",
    "POST /api/v1/contacts/{contact_id}/reveal": "anon=401 head=200 rep_a=200 out=404 *=403",
    "GET /api/v1/customers/{customer_id}/interactions": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "POST /api/v1/customers/{customer_id}/interactions": (
        "anon=401 head=201 rep_a=201 agent=201 out=404 *=403"
    ),
    "GET /api/v1/interactions/mine": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 *=200"
    ),
    "POST /api/v1/interactions/{interaction_id}/done": "anon=401 rep_a=200 out=404 *=403",
    "DELETE /api/v1/customers/{customer_id}/shares/{share_id}": (
        "anon=401 head=204 rep_a=204 out=404 *=403"
    ),
    "DELETE /api/v1/employees/{employee_id}/sessions": "anon=401 security_admin=200 *=403",
    "DELETE /api/v1/employees/{employee_id}/sessions/{session_id}": (
        "anon=401 security_admin=200 *=403"
    ),
    "DELETE /api/v1/me/sessions/{session_id}": "anon=401 out=404 *=200",
    "GET /api/v1/access-reviews": "anon=401 *=200",
    "GET /api/v1/access-reviews/items": "anon=401 *=200",
    "GET /api/v1/access-reviews/items/{item_id}": (
        "anon=401 admin=200 security_admin=200 head=200 *=404"
    ),
    "GET /api/v1/access-reviews/{campaign_id}": (
        "anon=401 admin=200 security_admin=200 head=200 rep_a=200 *=404"
    ),
    "GET /api/v1/access-reviews/{campaign_id}/report": (
        "anon=401 admin=200 security_admin=200 head=403 rep_a=403 *=404"
    ),
    "GET /api/v1/customers/pool": "anon=401 rep_a=200 *=403",
    "GET /api/v1/customers/pool/{customer_id}": "anon=401 rep_a=200 out=404 *=403",
    "GET /api/v1/customers/{customer_id}/shares": (
        "anon=401 security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "GET /api/v1/dashboard": "anon=401 security_admin=403 auditor=403 agent=403 nobody=403 *=200",
    "GET /api/v1/employees/{employee_id}/offboarding": "anon=401 admin=200 *=403",
    "GET /api/v1/employees/{employee_id}/offboarding/preview": "anon=401 admin=200 *=403",
    "GET /api/v1/employees/{employee_id}/sessions": "anon=401 security_admin=200 *=403",
    "GET /api/v1/employees/{employee_id}/tokens": "anon=401 security_admin=200 *=403",
    "GET /api/v1/exports/{kind}": "anon=401 head=200 marketer=200 *=403",
    "GET /api/v1/imports/templates/{kind}": "anon=401 head=200 rep_a=200 out=200 *=403",
    "GET /api/v1/imports/{import_id}": "anon=401 rep_a=200 *=404",
    "GET /api/v1/imports/{import_id}/progress": "anon=401 rep_a=200 *=404",
    "GET /api/v1/me/login-history": "anon=401 *=200",
    "GET /api/v1/me/sessions": "anon=401 *=200",
    "GET /api/v1/role-requests": "anon=401 *=200",
    "GET /api/v1/role-requests/{request_id}": (
        "anon=401 admin=200 security_admin=200 head=200 *=404"
    ),
    "POST /api/v1/access-reviews": "anon=401 admin=201 security_admin=201 *=403",
    "POST /api/v1/access-reviews/items/decide": (
        "anon=401 admin=403 security_admin=403 head=200 *=404"
    ),
    "POST /api/v1/access-reviews/items/{item_id}/decide": (
        "anon=401 admin=403 security_admin=403 head=200 *=404"
    ),
    "POST /api/v1/auth/reauthenticate": "anon=401 *=403",
    "POST /api/v1/auth/token/otp-code": "anon=200 *=200",
    "POST /api/v1/customers/{customer_id}/claim": "anon=401 rep_a=200 out=404 *=403",
    "POST /api/v1/customers/{customer_id}/release": "anon=401 head=200 rep_a=200 out=404 *=403",
    "POST /api/v1/customers/{customer_id}/shares": "anon=401 head=201 rep_a=201 out=404 *=403",
    "POST /api/v1/employees/{employee_id}/enable": "anon=401 admin=409 *=403",
    "POST /api/v1/employees/{employee_id}/offboard": "anon=401 admin=409 *=403",
    "POST /api/v1/employees/{employee_id}/offboarding/cancel": "anon=401 admin=200 *=403",
    "POST /api/v1/employees/{employee_id}/tokens/{token_id}/revoke": (
        "anon=401 security_admin=200 *=403"
    ),
    "POST /api/v1/imports": "anon=401 head=201 rep_a=201 *=403",
    "POST /api/v1/imports/{import_id}/commit": "anon=401 rep_a=200 *=404",
    "POST /api/v1/role-requests": "anon=401 security_admin=201 head=201 *=403",
    "POST /api/v1/role-requests/{request_id}/approve": (
        "anon=401 admin=403 security_admin=403 head=403 *=404"
    ),
    "POST /api/v1/role-requests/{request_id}/reject": (
        "anon=401 admin=200 security_admin=200 head=403 *=404"
    ),
    "POST /api/v1/role-requests/{request_id}/withdraw": (
        "anon=401 admin=403 security_admin=403 head=200 *=404"
    ),
}

PAGES: dict[str, str] = {
    "GET ": "anon=login *=200",
    "GET accounts/login/": "anon=200 *=302",
    "GET accounts/logout/": "anon=login *=200",
    "GET accounts/inactive/": "anon=200 *=200",
    "GET accounts/reauthenticate/": "anon=login *=200",
    "GET accounts/password/change/": "anon=login *=200",
    "GET accounts/password/reset/": "anon=200 *=302",
    "GET accounts/password/reset/confirm/": "anon=302 *=302",
    "GET accounts/2fa/": "anon=login *=200",
    "GET accounts/2fa/authenticate/": "anon=login *=302",
    "GET accounts/2fa/reauthenticate/": "anon=login *=302",
    # Within GONGHAO_STEP_UP_MINUTES of the login, second-factor pages open without asking for
    # the password again (the walk's callers have just logged in); another's key is a 404.
    "GET accounts/2fa/totp/activate/": "anon=login *=200",
    "GET accounts/2fa/totp/deactivate/": "anon=login *=404",
    "GET accounts/2fa/recovery-codes/": "anon=login *=404",
    "GET accounts/2fa/recovery-codes/generate/": "anon=login *=200",
    "GET accounts/2fa/recovery-codes/download/": "anon=login *=404",
    "GET accounts/2fa/webauthn/": "anon=login *=200",
    "GET accounts/2fa/webauthn/add/": "anon=login *=200",
    "GET accounts/2fa/webauthn/reauthenticate/": "anon=login *=302",
    "GET accounts/2fa/webauthn/keys/<int:pk>/remove/": "anon=login *=404",
    "GET accounts/2fa/webauthn/keys/<int:pk>/edit/": "anon=login *=404",
    "GET me/tokens/": "anon=login *=200",
    "POST me/tokens/<int:token_id>/revoke/": "anon=login *=302",
    "GET employees/requests/": "anon=login admin=200 head=200 *=403",
    "GET employees/requests/new/": "anon=login head=200 *=403",
    "GET employees/requests/<int:request_id>/": "anon=login admin=200 head=200 *=403",
    "GET employees/requests/<int:request_id>/edit/": "anon=login head=302 *=403",
    "POST employees/requests/<int:request_id>/<slug:action>/": (
        "anon=login admin=302 head=302 *=403"
    ),
    "GET employees/": "anon=login admin=200 security_admin=200 head=200 *=403",
    "GET employees/new/": "anon=login admin=200 *=403",
    "GET employees/<str:employee_id>/": "anon=login admin=200 security_admin=200 head=200 *=403",
    "POST employees/<str:employee_id>/second-factors/reset/": "anon=login security_admin=302 *=403",
    "GET employees/<str:employee_id>/roles/": (
        "anon=login admin=200 security_admin=200 head=200 *=403"
    ),
    "POST employees/<str:employee_id>/roles/<slug:code>/revoke/": (
        "anon=login security_admin=302 *=403"
    ),
    "GET org/departments/": "anon=login *=200",
    "GET org/positions/": "anon=login *=200",
    "GET access/roles/": "anon=login admin=200 security_admin=200 head=200 *=403",
    "GET access/roles/<slug:code>/": "anon=login security_admin=200 *=403",
    "GET access/why/": "anon=login admin=200 security_admin=200 head=200 *=403",
    "GET opportunities/": "anon=login head=200 rep_a=200 *=403",
    "GET opportunities/board/": "anon=login head=200 rep_a=200 *=403",
    "GET opportunities/new/": "anon=login head=200 rep_a=200 *=403",
    "GET opportunities/stages/": "anon=login admin=200 *=403",
    "GET opportunities/<int:opportunity_id>/": "anon=login head=200 rep_a=200 out=404 *=403",
    "GET opportunities/<int:opportunity_id>/edit/": "anon=login head=200 rep_a=200 out=404 *=403",
    "POST opportunities/<int:opportunity_id>/move/": "anon=login head=302 rep_a=302 out=404 *=403",
    "POST opportunities/<int:opportunity_id>/delete/": "anon=login head=302 out=404 *=403",
    "GET customers/<int:customer_id>/opportunities/": "anon=login head=200 rep_a=200 out=404 *=403",
    "GET customers/": "anon=login security_admin=403 auditor=403 marketer=403 nobody=403 *=200",
    "GET customers/new/": "anon=login head=200 rep_a=200 *=403",
    "GET customers/export/": "anon=login head=200 marketer=200 *=403",
    "GET customers/<int:customer_id>/": (
        "anon=login security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    # The cards loaded into the customer page after it: the page's own rules; the audit trail
    # also needs audit.view.
    "GET customers/<int:customer_id>/timeline/": (
        "anon=login security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "GET customers/<int:customer_id>/shares/card/": (
        "anon=login security_admin=403 auditor=403 marketer=403 nobody=403 out=404 *=200"
    ),
    "GET customers/<int:customer_id>/audit-trail/": "anon=login out=404 *=403",
    "GET customers/<int:customer_id>/edit/": "anon=login head=200 rep_a=200 out=404 *=403",
    "POST customers/<int:customer_id>/delete/": "anon=login head=302 out=404 *=403",
    "POST customers/<int:customer_id>/restore/": "anon=login admin=404 *=403",
    "GET customers/<int:customer_id>/transfer/": "anon=login head=200 out=404 *=403",
    "POST customers/<int:customer_id>/reveal/<str:field>/": (
        "anon=login head=200 rep_a=200 out=404 *=403"
    ),
    "GET customers/follow-ups/": (
        "anon=login security_admin=403 auditor=403 marketer=403 nobody=403 *=200"
    ),
    "GET customers/<int:customer_id>/contacts/new/": "anon=login head=200 rep_a=200 out=404 *=403",
    "GET customers/contacts/<int:contact_id>/edit/": "anon=login head=200 rep_a=200 out=404 *=403",
    "POST customers/contacts/<int:contact_id>/delete/": (
        "anon=login head=302 rep_a=302 out=404 *=403"
    ),
    "POST customers/contacts/<int:contact_id>/reveal/<str:field>/": (
        "anon=login head=200 rep_a=200 out=404 *=403"
    ),
    "GET customers/<int:customer_id>/interactions/new/": (
        "anon=login head=200 rep_a=200 agent=200 out=404 *=403"
    ),
    "POST customers/interactions/<int:interaction_id>/done/": "anon=login rep_a=302 out=404 *=403",
    "GET audit/": "anon=login auditor=200 *=403",
    "POST i18n/setlang/": "anon=302 *=302",
    "GET healthz": "anon=200 *=200",
    "GET access/reviews/": "anon=login *=200",
    "GET access/reviews/<int:campaign_id>/": (
        "anon=login admin=200 security_admin=200 head=403 rep_a=403 *=404"
    ),
    "GET access/reviews/<int:campaign_id>/report.csv": (
        "anon=login admin=200 security_admin=200 head=403 rep_a=403 *=404"
    ),
    "GET access/reviews/mine/": "anon=login *=200",
    "GET access/reviews/new/": "anon=login admin=200 security_admin=200 *=403",
    "GET access/role-requests/": "anon=login *=200",
    "GET access/role-requests/<int:request_id>/": (
        "anon=login admin=200 security_admin=200 head=200 *=404"
    ),
    "POST access/role-requests/<int:request_id>/<slug:action>/": (
        "anon=login admin=302 security_admin=302 head=302 *=404"
    ),
    "GET access/role-requests/new/": "anon=login security_admin=200 head=200 *=403",
    "POST accounts/2fa/code/": "anon=login *=302",
    "POST customers/<int:customer_id>/claim/": "anon=login rep_a=302 out=404 *=403",
    "GET customers/<int:customer_id>/release/": "anon=login head=200 rep_a=200 out=404 *=403",
    "GET customers/<int:customer_id>/shares/": "anon=login head=200 rep_a=200 out=404 *=403",
    "POST customers/<int:customer_id>/shares/<int:share_id>/revoke/": (
        "anon=login head=302 rep_a=302 out=404 *=403"
    ),
    "GET customers/pool/": "anon=login rep_a=200 *=403",
    "GET customers/pool/<int:customer_id>/": "anon=login rep_a=200 out=404 *=403",
    "GET dashboard/": "anon=login security_admin=403 auditor=403 agent=403 nobody=403 *=200",
    "GET data/exports/": "anon=login head=200 marketer=200 *=403",
    "GET data/imports/": "anon=login admin=200 head=200 rep_a=200 *=403",
    "GET data/imports/<int:batch_id>/": "anon=login rep_a=200 *=404",
    "POST data/imports/<int:batch_id>/commit/": "anon=login rep_a=302 *=404",
    "GET data/imports/<int:batch_id>/progress/": "anon=login rep_a=200 *=404",
    "GET data/imports/template/<str:kind>.<str:file_format>": (
        "anon=login head=200 rep_a=200 out=200 *=403"
    ),
    "POST employees/<str:employee_id>/enable/": "anon=login admin=302 *=403",
    "GET employees/<str:employee_id>/offboard/": "anon=login admin=200 *=403",
    "GET employees/<str:employee_id>/offboarding/": "anon=login admin=200 *=403",
    "POST employees/<str:employee_id>/offboarding/cancel/": "anon=login admin=302 *=403",
    "GET employees/<str:employee_id>/offboarding/report.csv": "anon=login admin=200 *=403",
    "GET employees/<str:employee_id>/security/": "anon=login security_admin=200 *=403",
    "POST employees/<str:employee_id>/security/sessions/end/": (
        "anon=login security_admin=302 *=403"
    ),
    "POST employees/<str:employee_id>/security/tokens/<int:token_id>/revoke/": (
        "anon=login security_admin=302 *=403"
    ),
    "GET me/security/": "anon=login *=200",
    "POST me/security/sessions/<int:session_id>/end/": "anon=login *=302",
    "POST me/security/sessions/end-others/": "anon=login *=302",
}

# Reachable without logging in (anything else is refused to anonymous callers).
PUBLIC: set[str] = {
    "POST /api/v1/auth/token",
    "POST /api/v1/auth/password",
    "POST /api/v1/auth/password-reset",
    "POST /api/v1/auth/password-reset/confirm",
    "POST /api/v1/auth/token/otp-code",
    "GET accounts/login/",
    "GET accounts/inactive/",
    "GET accounts/password/reset/",
    "GET accounts/password/reset/confirm/",
    "POST i18n/setlang/",
    "GET healthz",
}

# Operations whose success may show raw personal data, and only to a caller holding
# customer.view_sensitive: the audited reveal, and the audited export (clear inside that reach).
REVEALS: set[str] = {
    "GET /api/v1/customers/export.csv",
    "GET customers/export/",
    "GET /api/v1/exports/{kind}",
    "GET data/exports/",
    "POST /api/v1/customers/{customer_id}/reveal",
    "POST /api/v1/contacts/{contact_id}/reveal",
    "POST customers/<int:customer_id>/reveal/<str:field>/",
    "POST customers/contacts/<int:contact_id>/reveal/<str:field>/",
}

# Operations that take a file: sent as multipart, the file's text under "$file" in BODIES.
MULTIPART: set[str] = {"POST /api/v1/imports"}

# Request bodies (query parameters for GET, form fields for pages): valid enough that the answer
# is about permission, not about the input.
BODIES: dict[str, object] = {
    "GET /api/v1/access/why": {"employee_id": "$rep_b_employee_id", "permission": "customer.view"},
    "GET /api/v1/access/who": {"permission": "customer.view"},
    "POST /api/v1/auth/token": {"employee_id": "E999999", "password": "wrong-password-123"},
    "POST /api/v1/auth/password": {
        "employee_id": "E999999",
        "password": "wrong-password-123",
        "new_password": "Another-Teapot-9931!",
    },
    "POST /api/v1/auth/password-reset": {"identifier": "E999999"},
    "POST /api/v1/auth/password-reset/confirm": {
        "identifier": "E999999",
        "code": "123456",
        "new_password": "Another-Teapot-9931!",
    },
    "POST /api/v1/auth/tokens": {"name": "script"},
    "POST /api/v1/employees": {"name": "新员工", "department_id": "$department_id"},
    "POST /api/v1/employees/{employee_id}/roles": {"role": "marketing"},
    "POST /api/v1/employee-requests": {"name": "新人", "department_id": "$department_id"},
    "PATCH /api/v1/employee-requests/{request_id}": {"name": "改名新人"},
    "POST /api/v1/employee-requests/{request_id}/reject": {"reason": "预算不足"},
    "POST /api/v1/employee-requests/{request_id}/return": {"reason": "补充材料"},
    "POST /api/v1/departments": {"code": "NEW", "name": "新部门"},
    "PATCH /api/v1/departments/{department_id}": {"name": "改名部门"},
    "POST /api/v1/positions": {"code": "NEWPOS", "name": "新岗位"},
    "PATCH /api/v1/positions/{position_id}": {"name": "改名岗位"},
    "PATCH /api/v1/roles/{code}": {"name_en": "Sales (renamed)"},
    "POST /api/v1/customers": {"name": "新客户有限公司", "phone": "13800138000"},
    "PATCH /api/v1/customers/{customer_id}": {"industry": "制造业"},
    "POST /api/v1/customers/{customer_id}/transfer": {"owner": "$head_employee_id"},
    "POST /api/v1/customers/{customer_id}/reveal": {"fields": ["phone"]},
    "POST /api/v1/opportunities": {"customer_id": "$customer_id", "name": "新项目"},
    "PATCH /api/v1/opportunities/{opportunity_id}": {"name": "改名项目"},
    "POST /api/v1/opportunities/{opportunity_id}/stage": {"stage": "proposal"},
    "POST /api/v1/pipeline/stages": {"code": "trial", "name_zh": "试用", "name_en": "Trial"},
    "PATCH /api/v1/pipeline/stages/{stage_id}": {"name_en": "First contact"},
    "POST /api/v1/customers/{customer_id}/contacts": {"name": "新联系人"},
    "PATCH /api/v1/contacts/{contact_id}": {"title": "经理"},
    "POST /api/v1/contacts/{contact_id}/reveal": {"fields": ["phone"]},
    "POST /api/v1/customers/{customer_id}/interactions": {"kind": "call", "content": "回访"},
    "POST /api/v1/auth/token/otp-code": {"employee_id": "E999999", "password": "wrong-pw-123"},
    "POST /api/v1/auth/reauthenticate": {"password": "wrong-password-123"},
    "PUT /api/v1/me/preferences": {"language": "en"},
    "POST /api/v1/customers/{customer_id}/release": {"reason": "无意向"},
    "POST /api/v1/customers/{customer_id}/shares": {"employee": "$agent_employee_id"},
    "GET /api/v1/exports/{kind}": {"format": "csv"},
    "GET /api/v1/imports/templates/{kind}": {"format": "csv"},
    "POST /api/v1/imports": {"kind": "customers", "$file": ["客户.csv", IMPORT_CSV]},
    "POST /api/v1/access-reviews": {"scope": "role", "role": "sales"},
    "POST /api/v1/access-reviews/items/decide": {"item_ids": ["$item_id"], "decision": "keep"},
    "POST /api/v1/access-reviews/items/{item_id}/decide": {"decision": "keep"},
    "POST /api/v1/role-requests": {"employee_id": "$rep_b_employee_id", "role": "customer_service"},
    "POST /api/v1/role-requests/{request_id}/reject": {"reason": "不需要"},
    "POST /api/v1/employees/{employee_id}/offboard": {"successor": "$head_employee_id"},
    # pages: form fields
    "POST opportunities/<int:opportunity_id>/move/": {"stage": "proposal"},
    "POST i18n/setlang/": {"language": "en", "next": "/"},
}
