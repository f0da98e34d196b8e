"""A customer of the public pool (公海), read only before claiming it: the service, the page and
the API, masked as the pool's list is, and audited as opening any customer is."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone, translation

from gonghao.access.models import Role
from gonghao.audit.models import AuditEvent
from gonghao.core.errors import NotFound, PermissionDenied
from gonghao.crm import contacts, followups, pool, services
from gonghao.crm.models import Customer
from gonghao.crm.queries import present
from gonghao.testing.kit import api_for

# The raw values of the pooled customer and its contact: none may ever reach a pool viewer.
RAW = (
    "13655552222",
    "lead@bing.example.cn",
    "11010519491231002X",
    "13655553333",
    "contact@bing.example.cn",
    "wx_secret_88",
)
MASKED = ("136****2222", "l***@bing.example.cn", "110105********002X", "136****3333", "w***8")


@pytest.fixture
def client():
    """Pages in English: these tests read English text (the default language is zh-Hans)."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def pooled(crm, frozen_clock):
    """rep_b's customer with personal data, a contact and two follow-ups, released to the pool."""
    customer = services.create_customer(
        actor=crm.rep_b,
        data={
            "name": "广州丁公司",
            "phone": "+8613655552222",
            "email": "lead@bing.example.cn",
            "id_number": "11010519491231002X",
            "level": "B",
            "address": "广州市天河区",
            "notes": "曾询价两次",
        },
    )
    contacts.create_contact(
        customer.pk,
        actor=crm.rep_b,
        data={
            "name": "赵经理",
            "title": "采购经理",
            "phone": "13655553333",
            "email": "contact@bing.example.cn",
            "wechat": "wx_secret_88",
            "is_primary": True,
        },
    )
    for content in ("首次电话，对报价有兴趣", "第二次拜访，预算未定"):
        frozen_clock.advance(hours=1)
        followups.record_interaction(
            customer.pk, actor=crm.rep_b, data={"kind": "call", "content": content}
        )
    frozen_clock.advance(days=1)
    pool.release_customer(customer.pk, actor=crm.rep_b, reason="暂无预算")
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.pool_since == frozen_clock()
    return customer


def pool_views() -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(action="customer.pool_view")
        .order_by("seq")
        .values_list("actor_employee_id", "target_id")
    )


def customer_events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


# --- the service ------------------------------------------------------------------------------


def test_the_service_returns_a_pool_customer_to_a_claim_holder(crm, pooled):
    customer = pool.pool_customer_for(crm.rep_a, pooled.pk)
    assert customer.pk == pooled.pk and customer.owner_id is None
    # rep_c, in another department, sees the same pool: the pool has no scope.
    assert pool.pool_customer_for(crm.rep_c, pooled.pk).pk == pooled.pk
    assert [c.name for c in pool.pool_contacts(customer)] == ["赵经理"]
    recent, count = pool.pool_follow_ups(customer)
    assert count == 2 and [i.content for i in recent] == [
        "第二次拜访，预算未定",
        "首次电话，对报价有兴趣",
    ]
    assert pool.pool_follow_ups(customer, limit=1)[0][0].content == "第二次拜访，预算未定"


@pytest.mark.parametrize("role", ["head", "agent", "admin", "marketer", "auditor", "nobody"])
def test_the_service_refuses_without_customer_claim(crm, pooled, role):
    with pytest.raises(PermissionDenied):
        pool.pool_customer_for(getattr(crm, role), pooled.pk)
    # whatever the record: no probing for what exists
    with pytest.raises(PermissionDenied):
        pool.pool_customer_for(getattr(crm, role), 999999)


def test_the_service_finds_no_owned_deleted_or_missing_customer(crm, pooled):
    # the rep's own customer, someone else's in their scope and one outside it
    for customer in (crm.customer_a, crm.customer_b, crm.customer_c):
        with pytest.raises(NotFound) as raised:
            pool.pool_customer_for(crm.rep_a, customer.pk)
        assert raised.value.code == "customer_not_found"
    Customer.objects.filter(pk=pooled.pk).update(deleted_at=pooled.pool_since)
    for customer_id in (pooled.pk, 999999):
        with pytest.raises(NotFound) as raised:
            pool.pool_customer_for(crm.rep_a, customer_id)
        assert raised.value.code == "customer_not_found"


def test_a_customer_claimed_meanwhile_is_not_found_and_says_why(crm, pooled):
    pool.pool_customer_for(crm.rep_a, pooled.pk)
    pool.claim_customer(pooled.pk, actor=crm.rep_c)
    for viewer in (crm.rep_a, crm.rep_c):  # the claimer too: it is no longer a pool customer
        with pytest.raises(NotFound) as raised, translation.override("en"):
            pool.pool_customer_for(viewer, pooled.pk)
        assert raised.value.code == "already_claimed"
        assert "no longer in the public pool" in str(raised.value.message)
    with pytest.raises(NotFound) as raised, translation.override("zh-hans"):
        pool.pool_customer_for(crm.rep_a, pooled.pk)
    assert "已被他人领取" in str(raised.value.message)


def test_a_customer_transferred_after_its_claim_is_simply_not_found(crm, pooled):
    pool.claim_customer(pooled.pk, actor=crm.rep_a)
    services.transfer_customer(pooled.pk, actor=crm.head, new_owner=crm.rep_b)
    with pytest.raises(NotFound) as raised:
        pool.pool_customer_for(crm.rep_c, pooled.pk)
    assert raised.value.code == "customer_not_found"


def test_reading_writes_nothing_and_viewing_is_audited_once(crm, pooled, settings):
    before = customer_events()
    pool.pool_customer_for(crm.rep_a, pooled.pk)
    assert customer_events() == before  # the read alone writes nothing
    pool.record_pool_view(pooled, actor=crm.rep_a)
    assert customer_events() == [*before, "customer.pool_view"]
    settings.GONGHAO_AUDIT_READS = False
    pool.record_pool_view(pooled, actor=crm.rep_a)
    assert customer_events() == [*before, "customer.pool_view"]


def test_the_pool_view_event_reads_well_in_both_languages(crm, pooled):
    pool.record_pool_view(pooled, actor=crm.rep_a)
    event = AuditEvent.objects.get(action="customer.pool_view")
    assert event.actor_employee_id == crm.rep_a.employee_id
    assert event.target_type == "crm.customer" and event.target_id == str(pooled.pk)
    with translation.override("en"):
        assert event.summary == "Viewed customer 广州丁公司 in the public pool"


def test_a_pool_view_is_evidence_of_customer_claim_not_customer_view():
    from gonghao.lifecycle import usage

    assert usage.EVIDENCE["customer.pool_view"] == frozenset({"customer.claim"})


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_customer_masked_with_contacts_follow_ups_and_claim(crm, pooled, client):
    client.force_login(crm.rep_a)
    response = client.get(f"/customers/pool/{pooled.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "广州丁公司" in page and "广州市天河区" in page and "曾询价两次" in page
    for masked in MASKED:
        assert masked in page, masked
    for raw in RAW:
        assert raw not in page, raw
    assert "赵经理" in page and "采购经理" in page
    assert "第二次拜访，预算未定" in page and "首次电话，对报价有兴趣" in page
    since = timezone.localtime(pooled.pool_since).strftime("%Y-%m-%d %H:%M")
    assert f'data-testid="pool-since">{since}<' in page
    assert "In the pool since" in page
    # claim: a POST to the existing claim view; back: the pool
    assert f'action="/customers/{pooled.pk}/claim/"' in page and 'data-testid="claim"' in page
    assert 'href="/customers/pool/"' in page
    # read only: no edit, reveal, delete, transfer or follow-up form
    for absent in ("/edit/", "/reveal/", "/delete/", "/transfer/", "interaction-form", "hx-post"):
        assert absent not in page, absent
    assert pool_views() == [(crm.rep_a.employee_id, str(pooled.pk))]


def test_the_page_shows_only_the_newest_follow_ups(crm, pooled, client, monkeypatch):
    monkeypatch.setattr(pool, "POOL_RECENT_FOLLOW_UPS", 1)
    client.force_login(crm.rep_a)
    page = client.get(f"/customers/pool/{pooled.pk}/").content.decode()
    assert "第二次拜访，预算未定" in page and "首次电话，对报价有兴趣" not in page
    assert "The newest 1 of 2 follow-ups" in page


def test_the_pool_list_links_each_name_to_its_page(crm, pooled, client):
    client.force_login(crm.rep_a)
    page = client.get("/customers/pool/").content.decode()
    assert f'href="/customers/pool/{pooled.pk}/"' in page
    fragment = client.get("/customers/pool/", {"q": "广州"}, headers={"HX-Request": "true"})
    assert f'href="/customers/pool/{pooled.pk}/"' in fragment.content.decode()
    assert pool_views() == []  # listing is not opening


def test_the_claim_button_claims_from_the_page(crm, pooled, client):
    client.force_login(crm.rep_a)
    response = client.post(f"/customers/{pooled.pk}/claim/")
    assert response.status_code == 302 and response.url == f"/customers/{pooled.pk}/"
    pooled.refresh_from_db()
    assert pooled.owner_id == crm.rep_a.pk


def test_the_page_of_a_claimed_customer_is_404_and_says_so(crm, pooled, client):
    pool.claim_customer(pooled.pk, actor=crm.rep_c)
    client.force_login(crm.rep_a)
    response = client.get(f"/customers/pool/{pooled.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "no longer in the public pool" in page and 'href="/customers/pool/"' in page
    for raw in RAW:
        assert raw not in page
    assert "广州丁公司" not in page
    assert pool_views() == []


def test_the_page_refuses_and_hides_as_the_service_does(crm, pooled, client):
    client.force_login(crm.rep_a)
    for customer_id in (crm.customer_a.pk, crm.customer_c.pk, 999999):
        response = client.get(f"/customers/pool/{customer_id}/")
        assert response.status_code == 404
        assert "There is nothing here, or you cannot see it." in response.content.decode()
    for role in ("head", "agent", "admin", "nobody"):
        client.force_login(getattr(crm, role))
        assert client.get(f"/customers/pool/{pooled.pk}/").status_code == 403, role
    assert pool_views() == []
    assert Client().get(f"/customers/pool/{pooled.pk}/").status_code == 302  # to the login


def test_the_page_leaves_out_fields_the_role_hides(crm, pooled, client):
    Role.objects.filter(code="sales").update(
        hidden_fields=["customer.phone", "customer.notes", "customer.address"]
    )
    client.force_login(crm.rep_a)
    page = client.get(f"/customers/pool/{pooled.pk}/").content.decode()
    for gone in ("136****2222", "13655552222", "曾询价两次", "广州市天河区"):
        assert gone not in page, gone
    assert "l***@bing.example.cn" in page
    # the pool's list hides the same
    listed = client.get("/customers/pool/").content.decode()
    assert "136****2222" not in listed


def test_the_page_in_chinese(crm, pooled):
    browser = Client(headers={"Accept-Language": "zh-hans"})
    browser.force_login(crm.rep_a)
    response = browser.get(f"/customers/pool/{pooled.pk}/")
    assert response.status_code == 200 and "广州丁公司" in response.content.decode()


# --- the API ----------------------------------------------------------------------------------


def test_the_api_answers_the_customer_masked_as_the_pool_list(crm, pooled):
    api = api_for(crm.rep_a)
    response = api.get(f"/api/v1/customers/pool/{pooled.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    for raw in RAW:
        assert raw not in response.content.decode(), raw
    listed = api.get("/api/v1/customers/pool").json()["items"][0]
    base = {k: v for k, v in body.items() if k not in ("contacts", "recent_follow_ups")}
    del base["follow_up_count"]
    assert base == listed  # the same fields, masked the same way
    assert body["phone"] == "136****2222" and body["email"] == "l***@bing.example.cn"
    assert body["id_number"] == "110105********002X"
    assert body["owner"] is None and body["hidden_fields"] == []
    assert body["pool_since"].startswith(pooled.pool_since.strftime("%Y-%m-%dT%H:%M"))
    assert body == {
        **present(pooled, crm.rep_a),
        "id": pooled.pk,
        "owner": None,
        "owner_department_id": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "deleted_at": None,
        "pool_since": body["pool_since"],
        "contacts": body["contacts"],
        "recent_follow_ups": body["recent_follow_ups"],
        "follow_up_count": 2,
    }
    [contact] = body["contacts"]
    assert contact["name"] == "赵经理" and contact["is_primary"] is True
    assert (contact["phone"], contact["email"], contact["wechat"]) == (
        "136****3333",
        "c***@bing.example.cn",
        "w***8",
    )
    assert [i["content"] for i in body["recent_follow_ups"]] == [
        "第二次拜访，预算未定",
        "首次电话，对报价有兴趣",
    ]
    assert body["recent_follow_ups"][0]["employee"]["employee_id"] == crm.rep_b.employee_id
    assert pool_views() == [(crm.rep_a.employee_id, str(pooled.pk))]


def test_the_api_leaves_out_fields_the_role_hides(crm, pooled):
    Role.objects.filter(code="sales").update(hidden_fields=["customer.phone", "customer.notes"])
    response = api_for(crm.rep_a).get(f"/api/v1/customers/pool/{pooled.pk}")
    body = response.json()
    assert "phone" not in body and "notes" not in body
    assert body["hidden_fields"] == ["notes", "phone"]
    assert "136****2222" not in response.content.decode()
    assert "曾询价两次" not in response.content.decode()


def test_the_api_refusals(crm, pooled):
    for role in ("head", "agent", "admin", "nobody"):
        response = api_for(getattr(crm, role)).get(f"/api/v1/customers/pool/{pooled.pk}")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    api = api_for(crm.rep_a)
    for customer_id in (crm.customer_a.pk, crm.customer_c.pk, 999999):
        response = api.get(f"/api/v1/customers/pool/{customer_id}")
        assert response.status_code == 404 and response.json()["code"] == "customer_not_found"
    assert api.get("/api/v1/customers/pool/0").status_code == 422
    assert pool_views() == []
    pool.claim_customer(pooled.pk, actor=crm.rep_c)
    response = api.get(f"/api/v1/customers/pool/{pooled.pk}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "already_claimed",
        "message": "This customer is no longer in the public pool: someone claimed it meanwhile.",
    }
    chinese = api_for(crm.rep_a, language="zh-hans").get(f"/api/v1/customers/pool/{pooled.pk}")
    assert chinese.status_code == 404 and chinese.json()["code"] == "already_claimed"
    assert pool_views() == []


def test_the_api_operation_is_documented(crm):
    from gonghao.api import api

    document = api.get_openapi_schema()
    operation = document["paths"]["/api/v1/customers/pool/{customer_id}"]["get"]
    assert operation["tags"] == ["public pool"] and operation["summary"]
    assert {"200", "401", "403", "404"} <= {str(s) for s in operation["responses"]}
    schema = document["components"]["schemas"]["PoolCustomerDetailOut"]
    assert {"pool_since", "contacts", "recent_follow_ups", "follow_up_count"} <= set(
        schema["properties"]
    )
