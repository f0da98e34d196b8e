"""Every page and every API operation × every caller, against the table in authz_table.py.

The suite walks the URL resolver and the OpenAPI document, so a new page or operation without a
table entry fails here, naming it. Each case runs in a savepoint that is rolled back. While
walking, every response body is searched for customers' and contacts' raw phone numbers: only a
successful reveal may contain them.

To draft entries for new endpoints, run with GONGHAO_AUTHZ_DRAFT=<directory>: the walk writes
what each caller got there, one file per caller, to review before pasting.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gonghao.access.services import has_permission
from gonghao.api import api

from . import authz_table as table
from .authz_world import (
    CALLERS,
    ROLES,
    SECRET_PHONES,
    World,
    api_path,
    build_world,
    call,
    employee_for,
    fill,
    page_path,
    params_for,
)

METHODS = ("get", "post", "put", "patch", "delete")
DRAFT = os.environ.get("GONGHAO_AUTHZ_DRAFT", "")  # a directory to write drafts to


def api_operations() -> list[str]:
    document = api.get_openapi_schema()
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    ]


def page_routes(patterns=None, prefix: str = "") -> list[str]:
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(table.API_PREFIX):
                continue  # the API is walked from its OpenAPI document
            routes += page_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def _split(key: str) -> tuple[str, str]:
    method, _space, target = key.partition(" ")
    return method, target


# --- the table covers everything, and denies by default ---------------------------------------


def test_every_api_operation_has_an_entry():
    missing = sorted(set(api_operations()) - set(table.API))
    assert not missing, (
        "API operations without an authorization entry in gonghao/core/tests/authz_table.py "
        f"(add one line each to API): {missing}"
    )


def test_every_page_has_an_entry():
    covered = {_split(key)[1] for key in table.PAGES}
    missing = sorted(set(page_routes()) - covered)
    assert not missing, (
        "Pages without an authorization entry in gonghao/core/tests/authz_table.py "
        f"(add one line each to PAGES): {missing}"
    )


def test_the_table_names_nothing_that_does_not_exist():
    stale_api = sorted(set(table.API) - set(api_operations()))
    stale_pages = sorted({_split(key)[1] for key in table.PAGES} - set(page_routes()))
    assert stale_api == [] and stale_pages == []


def test_every_entry_says_what_every_caller_gets():
    problems = []
    for key, spec in {**table.API, **table.PAGES}.items():
        try:
            expected = table.parse(spec)
        except ValueError as error:
            problems.append(f"{key}: {error}")
            continue
        unnamed = [c for c in CALLERS if c not in expected]
        if unnamed:
            problems.append(f"{key}: no status for {unnamed} (add them or *=)")
    assert problems == []


def test_anonymous_is_refused_except_on_declared_public_endpoints():
    problems = []
    for key, spec in table.API.items():
        anonymous = table.parse(spec)["anon"]
        if key not in table.PUBLIC and anonymous != 401:
            problems.append(f"{key}: anonymous {anonymous}, not 401, and not declared PUBLIC")
    for key, spec in table.PAGES.items():
        anonymous = table.parse(spec)["anon"]
        if key not in table.PUBLIC and anonymous != table.LOGIN:
            problems.append(f"{key}: anonymous {anonymous}, not a login redirect, not PUBLIC")
    assert problems == []


# --- the walk ----------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return build_world()


def _observed(response) -> Any:
    if response.status_code == 302 and response["Location"].startswith(table.LOGIN_URL):
        return table.LOGIN
    return response.status_code


def _leaks(response) -> list[str]:
    body = response.body.decode("utf-8", errors="replace")
    return [phone for phone in SECRET_PHONES if phone in body]


def _walk(world: World, caller: str, entries: dict[str, str], send) -> list[str]:
    problems, draft = [], []
    values = params_for(world, caller)
    sensitive_allowed = caller != "anon" and has_permission(
        employee_for(world, caller), "customer.view_sensitive"
    )
    for key, spec in entries.items():
        expected = table.parse(spec)
        if caller == "out" and "{" not in key and "<" not in key:
            continue  # no record in the path: `out` is rep_a again
        method, target = _split(key)
        body = fill(table.BODIES.get(key), values)
        response = send(method, target, values, body)
        got = _observed(response)
        draft.append((key, got))
        if got != expected[caller]:
            problems.append(f"{key} as {caller}: got {got}, expected {expected[caller]}")
        leaked = _leaks(response)
        reveal_allowed = (
            key in table.REVEALS and 200 <= response.status_code < 300 and sensitive_allowed
        )
        if leaked and not reveal_allowed:
            problems.append(f"{key} as {caller}: raw personal data in the response {leaked}")
    if DRAFT:
        kind = "api" if entries is table.API else "pages"
        with open(os.path.join(DRAFT, f"{kind}-{caller}.txt"), "w") as out:
            out.writelines(f"{key}\t{caller}={got}\n" for key, got in draft)
    return problems


# One world for all callers (building it is the slow part); each case is rolled back.


def test_api_walk(world):
    assert [p for caller in CALLERS for p in _walk_api(world, caller)] == []


def test_page_walk(world):
    assert [p for caller in CALLERS for p in _walk_pages(world, caller)] == []


def _walk_api(world: World, caller: str) -> list[str]:
    client = Client()
    headers = {"Accept-Language": "en"}
    if caller != "anon":
        headers["Authorization"] = f"Bearer {world.tokens[caller]}"

    def send(method, target, values, body):
        path = api_path(target, values)
        if method == "GET":
            return call(client, method, f"{path}?{urlencode(body)}" if body else path, **headers)
        if f"{method} {target}" in table.MULTIPART:
            return call(client, method, path, form=multipart(body), **headers)
        return call(client, method, path, {} if body is None else body, **headers)

    return _walk(world, caller, table.API, send)


def key_multipart(method: str, target: str) -> bool:
    return f"{method} {target}" in table.MULTIPART


def multipart(body: dict[str, Any]) -> dict[str, Any]:
    """A form with a fresh upload (a file is read once) made of the "$file" text."""
    form = {key: value for key, value in body.items() if key != "$file"}
    name, text = body["$file"]
    form["file"] = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return form


def _walk_pages(world: World, caller: str) -> list[str]:
    client = Client()
    if caller != "anon":
        client.force_login(employee_for(world, caller))

    def send(method, target, values, body):
        path = page_path(target, values)
        if method == "POST" and key_multipart(method, target):
            return call(client, "POST", path, form=multipart(body), **{"Accept-Language": "en"})
        if method == "POST":
            return call(client, "POST", path, form=body or {}, **{"Accept-Language": "en"})
        return call(client, method, path, **{"Accept-Language": "en"})

    return _walk(world, caller, table.PAGES, send)


# --- masked data in search results and the audit viewer ------------------------------------------


SEARCHES = [f"/api/v1/customers?q={p}" for p in ("13812341234", "1381234", "1234")] + [
    "/api/v1/audit-events",
    "/api/v1/audit-events?target_type=customer",
]
# (a page echoes its own query back in the search box: search by part of the number)
PAGE_SEARCHES = [f"/customers/?q={p}" for p in ("1381234", "1234", "上海")] + [
    "/audit/",
    "/audit/?action=customer.reveal",
    "/customers/follow-ups/",
]


def test_search_and_the_audit_viewer_never_show_raw_phone_numbers(world):
    leaks, seen = [], 0
    for caller in ROLES:
        api_headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
        browser = Client()
        browser.force_login(employee_for(world, caller))
        responses = [(p, call(Client(), "GET", p, **api_headers)) for p in SEARCHES]
        responses += [(p, call(browser, "GET", p)) for p in PAGE_SEARCHES]
        for path, response in responses:
            seen += response.status_code == 200
            if _leaks(response):
                leaks.append((caller, path, _leaks(response)))
    assert leaks == []
    assert seen >= 20  # the searches and the audit viewer did answer someone


def test_the_walk_sees_data_that_is_worth_hiding(world):
    """Guard against a vacuous leak check: the data is there, masked, and a reveal shows it."""
    head = Client()
    head.force_login(world.crm.head)
    page = call(head, "GET", f"/customers/{world.crm.customer_a.pk}/")
    assert page.status_code == 200 and "138****1234" in page.content.decode()
    revealed = call(
        Client(),
        "POST",
        f"/api/v1/customers/{world.crm.customer_a.pk}/reveal",
        {"fields": ["phone"]},
        Authorization=f"Bearer {world.tokens['head']}",
    )
    assert revealed.status_code == 200 and _leaks(revealed) == ["13812341234"]


# --- the pool, sharing, dashboards, exports, handover and review reports ---------------------


def _report_paths(world: World) -> tuple[list[str], list[str]]:
    customer_id = world.crm.customer_a.pk
    leaver = world.crm.rep_b.employee_id
    campaign_id = world.params["in"]["campaign_id"]
    pool_customer_id = world.params["in"]["pool_customer_id"]
    api_paths = [
        "/api/v1/customers/pool",
        f"/api/v1/customers/pool/{pool_customer_id}",
        "/api/v1/customers/pool?q=0005",
        "/api/v1/customers/pool?q=13655550005",
        f"/api/v1/customers/{customer_id}/shares?all=true",
        "/api/v1/dashboard",
        "/api/v1/dashboard?period=365",
        f"/api/v1/employees/{leaver}/offboarding",
        f"/api/v1/employees/{leaver}/offboarding/preview",
        f"/api/v1/access-reviews/{campaign_id}",
        f"/api/v1/access-reviews/{campaign_id}/report",
    ] + [f"/api/v1/exports/{kind}?format=csv" for kind in ("customers", "contacts")]
    pages = [
        "/customers/pool/",
        "/customers/pool/?q=0005",
        f"/customers/pool/{pool_customer_id}/",
        f"/customers/{customer_id}/shares/",
        "/dashboard/",
        f"/employees/{leaver}/offboarding/",
        f"/employees/{leaver}/offboarding/report.csv",
        f"/access/reviews/{campaign_id}/",
        f"/access/reviews/{campaign_id}/report.csv",
    ] + [f"/data/exports/?kind={kind}&format=csv&download=1" for kind in ("customers", "contacts")]
    return api_paths, pages


def test_pool_shares_dashboards_exports_and_reports_never_show_raw_phone_numbers(world):
    """Only an export by a holder of customer.view_sensitive may carry raw numbers (audited)."""
    api_paths, pages = _report_paths(world)
    leaks, answered = [], set()
    for caller in ROLES:
        employee = employee_for(world, caller)
        sensitive = has_permission(employee, "customer.view_sensitive")
        api_headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
        browser = Client()
        browser.force_login(employee)
        responses = [(p, call(Client(), "GET", p, **api_headers)) for p in api_paths]
        responses += [(p, call(browser, "GET", p)) for p in pages]
        for path, response in responses:
            if response.status_code == 200:
                answered.add(path.split("?")[0])
            if _leaks(response) and not (sensitive and "export" in path):
                leaks.append((caller, path, _leaks(response)))
    assert leaks == []
    # every one of them answered someone (the check is not vacuous)
    assert answered == {p.split("?")[0] for p in api_paths + pages}


def test_exports_mask_phone_numbers_without_the_sensitive_permission(world):
    headers = {"Accept-Language": "en"}
    marketer = call(
        Client(),
        "GET",
        "/api/v1/exports/customers?format=csv",
        Authorization=f"Bearer {world.tokens['marketer']}",
        **headers,
    )
    assert marketer.status_code == 200
    assert "136****0005" in marketer.body.decode() and _leaks(marketer) == []
    head = call(
        Client(),
        "GET",
        "/api/v1/exports/customers?format=csv",
        Authorization=f"Bearer {world.tokens['head']}",
        **headers,
    )
    assert head.status_code == 200 and "13812341234" in _leaks(head)
    pool = call(
        Client(),
        "GET",
        "/api/v1/customers/pool?q=0005",
        Authorization=f"Bearer {world.tokens['rep_a']}",
    )
    assert pool.status_code == 200 and "136****0005" in pool.body.decode()


def test_a_pool_customer_and_its_contact_are_shown_masked(world):
    """The pool customer's page and API answer (rep_a) carry its data masked, never raw."""
    pool_customer_id = world.params["in"]["pool_customer_id"]
    browser = Client()
    browser.force_login(world.crm.rep_a)
    answers = [
        call(
            Client(),
            "GET",
            f"/api/v1/customers/pool/{pool_customer_id}",
            Authorization=f"Bearer {world.tokens['rep_a']}",
        ),
        call(browser, "GET", f"/customers/pool/{pool_customer_id}/"),
    ]
    for answer in answers:
        body = answer.body.decode()
        assert answer.status_code == 200 and _leaks(answer) == []
        assert "136****0005" in body and "136****0007" in body
