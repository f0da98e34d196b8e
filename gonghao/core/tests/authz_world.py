"""The data and the callers the authorization walk runs against (see authz_table.py).

One CRM cast (gonghao/testing/crm.py) plus one record of every kind that has a page or an API
operation, each in two places: on rep_a's side (Sales) and on rep_c's side (Service), so every
caller has a record in its scope and the `out` caller (rep_a) one outside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.test import Client

from gonghao.accounts.models import ApiToken
from gonghao.accounts.services import issue_token
from gonghao.core import clock
from gonghao.crm import contacts, followups, pool, sharing
from gonghao.crm import services as crm_services
from gonghao.crm.models import Stage
from gonghao.crm.tests.opportunity_kit import make_opportunity
from gonghao.lifecycle import offboarding, reviews, role_requests
from gonghao.lifecycle import services as lifecycle
from gonghao.lifecycle.access_models import AccessReviewItem
from gonghao.org.models import Position
from gonghao.testing.crm import CrmCast, make_crm_cast
from gonghao.testing.kit import make_employee

# Every caller the table names. `out` is rep_a acting on records outside rep_a's scope.
ROLES = ("admin", "security_admin", "auditor", "head", "rep_a", "agent", "marketer", "nobody")
CALLERS = ("anon", *ROLES, "out")

# The raw personal data that must never appear in a response, except where a reveal succeeds.
SECRET_PHONES = (
    "13812341234",
    "13912345678",
    "13712345678",
    "13655550001",
    "13655550003",
    "13655550005",  # a customer in the public pool
    "13655550007",  # its contact
)
IMPORT_CSV = "name,phone\n导入客户有限公司,13800138011\n"


@dataclass
class World:
    crm: CrmCast
    params: dict[str, dict[str, Any]]  # "in" / "out" → path parameter values
    tokens: dict[str, str] = field(default_factory=dict)  # caller → raw API token
    token_ids: dict[str, int] = field(default_factory=dict)  # caller → a spare token's id
    session_ids: dict[str, int] = field(default_factory=dict)  # caller → a browser session's id


def build_world() -> World:
    crm = make_crm_cast()
    position = Position.objects.create(code="REP", name="销售代表")
    service_head = make_employee("孙部长", roles=("department_head",), department=crm.service)
    crm.service.head = service_head  # may file role-change requests for Service's people
    crm.service.save(update_fields=["head"])
    pool_customer = crm_services.create_customer(
        actor=crm.rep_a, data={"name": "公海客户有限公司", "phone": "+8613655550005"}
    )
    contacts.create_contact(
        pool_customer.pk, actor=crm.rep_a, data={"name": "公海联系人", "phone": "13655550007"}
    )
    followups.record_interaction(
        pool_customer.pk, actor=crm.rep_a, data={"kind": "call", "content": "无意向，放回公海"}
    )
    pool.release_customer(pool_customer.pk, actor=crm.rep_a, reason="无意向")
    sides = {}
    for side, owner, customer, department, other, requester in (
        ("in", crm.rep_a, crm.customer_a, crm.sales, crm.rep_b, crm.head),
        ("out", crm.rep_c, crm.customer_c, crm.service, crm.rep_c, service_head),
    ):
        phone = "13655550001" if side == "in" else "13655550003"
        contact = contacts.create_contact(
            customer.pk, actor=owner, data={"name": f"联系人{side}", "phone": phone}
        )
        interaction = followups.record_interaction(
            customer.pk,
            actor=owner,
            data={
                "kind": "call",
                "content": "电话回访",
                "next_follow_up": (clock.now() + timedelta(days=1)).date(),
            },
        )
        opportunity = make_opportunity(customer, owner, f"项目{side}", "1000.00")
        request = lifecycle.file_request(
            actor=requester,
            fields=lifecycle.resolve_fields(
                name=f"新人{side}", department_id=department.pk, roles=["sales"]
            ),
        )
        share = sharing.share_customer(
            customer.pk, actor=owner, employee=crm.rep_b if side == "in" else service_head
        )
        campaign = reviews.start_campaign(
            actor=crm.security_admin, name=f"复核{side}", scope="department", department=department
        )
        items = AccessReviewItem.objects.filter(campaign=campaign).order_by("pk")
        item = items.filter(reviewer=requester).first() or items.first()
        role_request = role_requests.file_role_request(
            actor=requester, employee=other, role_code="marketing", kind="grant"
        )
        # scheduled, not done: the leaver stays active for every other case of the walk
        leaving = offboarding.offboard_employee(
            other,
            actor=crm.admin,
            successor=None,
            effective=clock.now().date() + timedelta(days=30),
        )
        batch = import_batch(owner)
        _other_token, other_token = issue_token(other, name="someone's script")
        sides[side] = {
            "share_id": share.pk,
            "campaign_id": campaign.pk,
            "item_id": item.pk,
            "role_request_id": role_request.pk,
            "offboarding_id": leaving.pk,
            "import_id": batch.pk,
            "batch_id": batch.pk,
            "employee_token_id": other_token.pk,
            "employee_session_id": browser_session(other),
            "pool_customer_id": pool_customer.pk if side == "in" else customer.pk,
            "kind": "customers",
            "file_format": "csv",
            "customer_id": customer.pk,
            "contact_id": contact.pk,
            "interaction_id": interaction.pk,
            "opportunity_id": opportunity.pk,
            "request_id": request.pk,
            "department_id": department.pk,
            "position_id": position.pk,
            "stage_id": Stage.objects.get(code="initial").pk,
            "employee_id": other.employee_id,
            "code": "sales",
            "field": "phone",
            "action": "approve",
            "pk": 1,
            "sales_department_id": crm.sales.pk,
            "head_employee_id": crm.head.employee_id,
            "rep_b_employee_id": crm.rep_b.employee_id,
            "agent_employee_id": crm.agent.employee_id,
        }
    # History the audit viewer will show: a reveal and a phone change (both must stay masked).
    crm_services.reveal_fields(crm.customer_a.pk, actor=crm.head, fields=["phone"])
    crm_services.update_customer(
        crm.customer_b.pk, actor=crm.head, data={"phone": "+8613912345678", "notes": "复核"}
    )
    world = World(crm=crm, params=sides)
    for caller in ROLES:
        employee = getattr(crm, caller)
        world.tokens[caller], _ = issue_token(employee, name="authz walk")
        _, spare = issue_token(employee, name="spare")
        world.token_ids[caller] = spare.pk
    world.token_ids["out"] = issue_token(crm.rep_c, name="someone else's")[1].pk
    world.tokens["out"] = world.tokens["rep_a"]
    for caller in ROLES:
        world.session_ids[caller] = browser_session(getattr(crm, caller))
    world.session_ids["out"] = world.params["out"]["employee_session_id"]
    return world


def import_batch(owner):
    from gonghao.transfer import services as transfer

    return transfer.create_import(
        actor=owner, kind="customers", file_name="客户.csv", content=IMPORT_CSV.encode()
    )


def browser_session(employee) -> int:
    """Sign the employee in from a browser; the id of the session that makes."""
    from allauth.usersessions.models import UserSession

    browser = Client()
    browser.force_login(employee)
    return UserSession.objects.create(
        user=employee,
        ip="10.1.2.3",
        session_key=browser.session.session_key,
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ).pk


def employee_for(world: World, caller: str):
    return world.crm.rep_a if caller == "out" else getattr(world.crm, caller)


def params_for(world: World, caller: str) -> dict[str, Any]:
    values = dict(world.params["out" if caller == "out" else "in"])
    if caller != "anon":
        values["token_id"] = world.token_ids[caller]
        values["session_id"] = world.session_ids[caller]
    else:
        values["token_id"] = ApiToken.objects.order_by("pk").values_list("pk", flat=True).first()
        values["session_id"] = world.session_ids["rep_a"]
    return values


# Path parameters whose name means another record on some paths: (part of the path, name) → key.
ALIASES = {
    ("role-requests", "request_id"): "role_request_id",
    ("employees/{employee_id}/tokens/", "token_id"): "employee_token_id",
    ("employees/<str:employee_id>/security/tokens/", "token_id"): "employee_token_id",
    ("employees/{employee_id}/sessions/", "session_id"): "employee_session_id",
    ("/claim", "customer_id"): "pool_customer_id",
    ("/pool/", "customer_id"): "pool_customer_id",
}


def _value(path: str, name: str, values: dict[str, Any]) -> str:
    for (part, alias_of), key in ALIASES.items():
        if alias_of == name and part in path:
            return str(values[key])
    return str(values[name])


PLACEHOLDER = re.compile(r"\$(\w+)")


def fill(template: Any, values: dict[str, Any]) -> Any:
    """Replace `$name` in a body template (strings, lists, dicts) with the caller's values."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template


def api_path(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _value(path, m.group(1), values), path)


def page_path(route: str, values: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _value(route, m.group(1), values), route)


def call(
    client: Client,
    method: str,
    path: str,
    body: Any = None,
    *,
    form: Any = None,
    body_bytes: tuple[bytes | str, str] | None = None,
    **headers: str,
):
    """One request inside a savepoint that is rolled back, so every case sees the same data."""
    savepoint = transaction.savepoint()
    try:
        if method == "GET":
            response = client.get(path, headers=headers)
        elif form is not None:
            response = client.post(path, form, headers=headers)
        elif body_bytes is not None:
            data, content_type = body_bytes
            response = client.generic(
                method, path, data, content_type=content_type, headers=headers
            )
        elif body is None:
            response = client.generic(method, path, headers=headers)
        else:
            response = client.generic(
                method, path, json.dumps(body), content_type="application/json", headers=headers
            )
        # Read a streamed body (CSV exports) now: it queries the database as it goes.
        response.body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
        return response
    finally:
        transaction.savepoint_rollback(savepoint)
        cache.clear()  # failed-login and rate counters must not carry over between cases
