"""The public pool (公海): listing masked, claiming with a cap, releasing, the return job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from gonghao.audit.models import AuditEvent
from gonghao.core import jobs
from gonghao.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghao.crm import followups, pool, services
from gonghao.crm.models import Customer
from gonghao.messaging.models import Message
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for


@pytest.fixture
def client():
    """Pages in English: these tests read English text (the default language is zh-Hans)."""
    return Client(headers={"Accept-Language": "en"})


def events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .exclude(action="customer.view")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def pooled(name: str, **fields) -> Customer:
    return Customer.objects.create(name=name, **fields)


@pytest.fixture
def in_pool(crm):
    return pooled("公海客户", phone="+8613600001111", email="pool@example.cn", level="B")


# --- seeing the pool --------------------------------------------------------------------------


def test_pool_lists_unowned_customers_masked(crm, in_pool):
    body = api_for(crm.rep_a).get("/api/v1/customers/pool").json()
    assert body["count"] == 1 and body["held"] == 0 and body["cap"] == 50
    item = body["items"][0]
    assert item["name"] == "公海客户" and item["owner"] is None
    assert item["phone"] == "136****1111"
    assert item["email"] != "pool@example.cn"
    found = api_for(crm.rep_a).get("/api/v1/customers/pool", {"q": "1111"}).json()
    assert found["count"] == 1
    assert api_for(crm.rep_a).get("/api/v1/customers/pool", {"q": "没有"}).json()["count"] == 0


def test_pool_customers_are_not_in_a_reps_own_list(crm, in_pool):
    names = [c["name"] for c in api_for(crm.rep_a).get("/api/v1/customers").json()["items"]]
    assert "公海客户" not in names
    assert api_for(crm.rep_a).get(f"/api/v1/customers/{in_pool.pk}").status_code == 404


def test_pool_page_search_and_pagination(crm, client):
    for n in range(30):
        pooled(f"池客户{n:02d}", phone=f"+861360000{n:04d}")
    client.force_login(crm.rep_a)
    page = client.get("/customers/pool/").content.decode()
    assert "池客户29" in page and "池客户00" not in page  # newest first, 25 per page
    assert "136****0029" in page and "13600000029" not in page
    assert "池客户00" in client.get("/customers/pool/", {"page": 2}).content.decode()
    found = client.get("/customers/pool/", {"q": "池客户07"}, headers={"HX-Request": "true"})
    assert "池客户07" in found.content.decode() and "池客户08" not in found.content.decode()
    for role in ("head", "agent", "admin", "marketer", "auditor"):
        client.force_login(getattr(crm, role))
        assert client.get("/customers/pool/").status_code == 403, role


# --- claiming ---------------------------------------------------------------------------------


def test_claim_takes_the_customer_and_is_audited(crm, in_pool, frozen_clock):
    response = api_for(crm.rep_a).post(f"/api/v1/customers/{in_pool.pk}/claim")
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["employee_id"] == crm.rep_a.employee_id
    in_pool.refresh_from_db()
    assert in_pool.owner_id == crm.rep_a.pk
    assert in_pool.owner_department_id == crm.sales.pk
    assert in_pool.claimed_at == frozen_clock() and in_pool.owner_since == frozen_clock()
    assert in_pool.pool_since is None
    assert events() == ["customer.pool_claim"]
    event = AuditEvent.objects.get(action="customer.pool_claim")
    assert event.actor_employee_id == crm.rep_a.employee_id
    assert event.changes == {"owner": [None, crm.rep_a.employee_id]}
    # Now it is the rep's own customer, in their scope; a second claim is a conflict.
    assert api_for(crm.rep_a).get(f"/api/v1/customers/{in_pool.pk}").status_code == 200
    again = api_for(crm.rep_b).post(f"/api/v1/customers/{in_pool.pk}/claim")
    assert again.status_code == 409 and again.json()["code"] == "already_claimed"
    assert events() == ["customer.pool_claim"]


def test_claim_refusals_change_nothing(crm, in_pool):
    assert api_for(crm.head).post(f"/api/v1/customers/{in_pool.pk}/claim").status_code == 403
    assert api_for(crm.rep_a).post("/api/v1/customers/999999/claim").status_code == 404
    mine = api_for(crm.rep_a).post(f"/api/v1/customers/{crm.customer_a.pk}/claim")
    assert mine.status_code == 409 and mine.json()["code"] == "already_claimed"
    owned = api_for(crm.rep_a).post(f"/api/v1/customers/{crm.customer_b.pk}/claim")
    assert owned.status_code == 404
    in_pool.refresh_from_db()
    crm.customer_b.refresh_from_db()
    assert in_pool.owner_id is None and crm.customer_b.owner_id == crm.rep_b.pk
    assert events() == []


def test_claiming_a_customer_one_cannot_see_does_not_tell_it_exists(crm):
    """Someone else's customer is 'not found', like a missing one, not 'no longer in the pool'."""
    for customer_id in (crm.customer_c.pk, 999999):
        answer = api_for(crm.rep_a).post(f"/api/v1/customers/{customer_id}/claim")
        assert answer.status_code == 404 and answer.json()["code"] == "customer_not_found"
    crm.customer_c.refresh_from_db()
    assert crm.customer_c.owner_id == crm.rep_c.pk and events() == []


def test_claim_cap_counts_customers_held_at_once(crm, settings):
    settings.GONGHAO_POOL_CLAIM_CAP = 2
    first, second, third = (pooled(f"池{n}") for n in range(3))
    pool.claim_customer(first.pk, actor=crm.rep_a)
    pool.claim_customer(second.pk, actor=crm.rep_a)
    with pytest.raises(Conflict) as caught:
        pool.claim_customer(third.pk, actor=crm.rep_a)
    assert caught.value.code == "claim_cap_reached"
    response = api_for(crm.rep_a).post(f"/api/v1/customers/{third.pk}/claim")
    assert response.status_code == 409 and response.json()["code"] == "claim_cap_reached"
    assert "limit is 2" in response.json()["message"]
    third.refresh_from_db()
    assert third.owner_id is None
    assert events() == ["customer.pool_claim", "customer.pool_claim"]
    # Customers the rep created themselves do not count; releasing a claimed one frees a place.
    services.create_customer(actor=crm.rep_a, data={"name": "自建客户"})
    pool.release_customer(first.pk, actor=crm.rep_a, reason="不再跟进")
    pool.claim_customer(third.pk, actor=crm.rep_a)
    assert pool.held_from_pool(crm.rep_a) == 2
    # Another rep has their own cap.
    pool.claim_customer(first.pk, actor=crm.rep_b)


def test_a_transferred_claimed_customer_frees_the_place(crm, settings):
    settings.GONGHAO_POOL_CLAIM_CAP = 1
    first, second = pooled("池甲"), pooled("池乙")
    pool.claim_customer(first.pk, actor=crm.rep_a)
    services.transfer_customer(first.pk, actor=crm.head, new_owner=crm.rep_b)
    pool.claim_customer(second.pk, actor=crm.rep_a)
    assert pool.held_from_pool(crm.rep_b) == 0


def test_claim_page_button(crm, client, in_pool):
    client.force_login(crm.rep_a)
    response = client.post(f"/customers/{in_pool.pk}/claim/")
    assert response.status_code == 302 and response.url == f"/customers/{in_pool.pk}/"
    client.force_login(crm.rep_b)
    response = client.post(f"/customers/{in_pool.pk}/claim/", follow=True)
    assert "no longer in the public pool" in response.content.decode()
    assert events() == ["customer.pool_claim"]


# --- releasing --------------------------------------------------------------------------------


def test_owner_releases_with_a_reason(crm, frozen_clock):
    a = crm.customer_a
    response = api_for(crm.rep_a).post(
        f"/api/v1/customers/{a.pk}/release", {"reason": "客户已无需求"}
    )
    assert response.status_code == 200, response.content
    a.refresh_from_db()
    assert a.owner_id is None and a.owner_department_id is None
    assert a.pool_since == frozen_clock()
    event = AuditEvent.objects.get(action="customer.pool_release")
    assert event.params["reason"] == "客户已无需求"
    assert event.changes == {"owner": [crm.rep_a.employee_id, None]}
    assert api_for(crm.rep_a).get(f"/api/v1/customers/{a.pk}").status_code == 404
    listed = api_for(crm.rep_c).get("/api/v1/customers/pool").json()
    assert [c["name"] for c in listed["items"]] == ["上海甲公司"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301, "坏\x00字符"])
def test_release_needs_a_sensible_reason(crm, reason):
    response = api_for(crm.rep_a).post(
        f"/api/v1/customers/{crm.customer_a.pk}/release", {"reason": reason}
    )
    assert response.status_code == 422
    crm.customer_a.refresh_from_db()
    assert crm.customer_a.owner_id == crm.rep_a.pk
    assert events() == []


def test_release_refusals(crm):
    # In sight but not the owner, without transfer: 403; out of sight: 404.
    agent = api_for(crm.agent).post(
        f"/api/v1/customers/{crm.customer_a.pk}/release", {"reason": "x"}
    )
    assert agent.status_code == 403
    other = api_for(crm.rep_c).post(
        f"/api/v1/customers/{crm.customer_a.pk}/release", {"reason": "x"}
    )
    assert other.status_code == 404
    with pytest.raises(PermissionDenied):
        pool.release_customer(crm.customer_a.pk, actor=crm.agent, reason="x")
    with pytest.raises(ValidationFailed):
        pool.release_customer(crm.customer_a.pk, actor=crm.rep_a, reason=" ")
    assert events() == []
    # A department head may release a customer of their team (they may transfer it too).
    assert pool.release_customer(crm.customer_b.pk, actor=crm.head, reason="调整").owner is None


def test_release_page(crm, client):
    a = crm.customer_a
    client.force_login(crm.rep_a)
    card = client.get(f"/customers/{a.pk}/shares/card/").content.decode()
    assert f"/customers/{a.pk}/release/" in card
    assert client.get(f"/customers/{a.pk}/release/").status_code == 200
    empty = client.post(f"/customers/{a.pk}/release/", {"reason": ""})
    assert empty.status_code == 200 and "invalid-feedback" in empty.content.decode()
    done = client.post(f"/customers/{a.pk}/release/", {"reason": "客户转型"})
    assert done.status_code == 302
    assert events() == ["customer.pool_release"]
    client.force_login(crm.agent)
    assert client.get(f"/customers/{crm.customer_b.pk}/release/").status_code == 403
    assert f"/customers/{crm.customer_b.pk}/release/" not in (
        client.get(f"/customers/{crm.customer_b.pk}/shares/card/").content.decode()
    )


# --- the return job ---------------------------------------------------------------------------


def test_job_returns_customers_not_followed_up(crm, frozen_clock, settings):
    settings.GONGHAO_POOL_RETURN_DAYS = 30
    start = frozen_clock()
    stale = make_customer(crm.rep_a, "久未跟进", owner_since=start)
    followed = make_customer(crm.rep_a, "常跟进", owner_since=start)
    fresh_owner = make_customer(crm.rep_b, "新接手")
    frozen_clock.advance(days=20)
    followups.record_interaction(
        followed.pk, actor=crm.rep_a, data={"kind": "call", "content": "回访"}
    )
    frozen_clock.advance(days=11)  # day 31
    Customer.objects.filter(pk=fresh_owner.pk).update(
        owner_since=frozen_clock() - timedelta(days=2)
    )
    crm.rep_a.email = "rep.a@example.cn"
    crm.rep_a.save(update_fields=["email"])
    result = pool.return_stale_customers()
    returned = set(Customer.objects.filter(owner__isnull=True).values_list("name", flat=True))
    # The cast's own customers were created "now" at setup: 31 days ago too, without follow-up.
    assert {"久未跟进", "上海甲公司", "杭州乙公司", "北京丙公司"} == returned
    # rep_a (with an e-mail address) is told once, in one message listing both customers.
    assert result == {"returned": 4, "notified": 1}
    notice = Message.objects.get(template="crm.pool_returned")
    assert notice.recipient == "rep.a@example.cn" and notice.employee_id == crm.rep_a.pk
    assert "久未跟进" in notice.body and "上海甲公司" in notice.body and "30" in notice.body
    event = AuditEvent.objects.filter(action="customer.pool_return", target_id=str(stale.pk)).get()
    assert event.actor_employee_id in ("", None)
    assert event.params == {"from": crm.rep_a.employee_id, "days": 30}
    with translation.override("en"):
        assert "not followed up for 30 days" in event.summary
    # Idempotent: a second run the same day changes nothing and writes nothing.
    before = events()
    assert pool.return_stale_customers() == {"returned": 0, "notified": 0}
    assert Message.objects.filter(template="crm.pool_returned").count() == 1
    assert events() == before
    stale.refresh_from_db()
    assert stale.pool_since == frozen_clock() and stale.owner_department_id is None


def test_job_is_registered_daily_and_runs_through_the_scheduler(crm, frozen_clock):
    job = jobs.get_job("crm.pool_return")
    assert job.every == timedelta(days=1)
    frozen_clock.advance(days=31)
    outcome = jobs.run_job(job)
    assert outcome.status == "done" and outcome.result == {"returned": 3, "notified": 0}
    assert jobs.run_job(job).status == "not_due"
    assert events().count("customer.pool_return") == 3


def test_pool_search_goes_through_the_index_and_finds_what_like_finds(crm, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghao.crm import search_index
    from gonghao.crm.tests.test_search_index import like_condition

    # Scaled down: a gram past 4 postings is common, the pool is counted up to 32 customers.
    monkeypatch.setattr(search_index, "PROBE_LIMIT", 4)
    monkeypatch.setattr(search_index, "SCOPE_PROBE_LIMIT", 32)
    for n in range(10):
        make_customer(crm.rep_c, f"丙{n}商行", phone=f"1391507{n:04d}")
    for n in range(6):
        pooled(f"池{n}商行", phone=f"1381507{n:04d}", email=f"c{n}@pool.cn")
    pooled("另一家", phone="13900001111")
    unowned = Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True)
    walk = 'IN (SELECT customer_id FROM "crm_customergram"'

    def same_as_like(text: str) -> str:
        with CaptureQueriesContext(connection) as queries:
            found = list(pool.pool_for(crm.rep_a, text))
        expected = unowned.filter(like_condition(text)).order_by("-pool_since", "-id")
        assert found == list(expected), text
        return " ".join(q["sql"] for q in queries.captured_queries)

    # The pool (7) is smaller than "#1507"'s postings (16): its customers drive, tested for
    # the grams; a rarer gram is walked. Either way through the index, never LIKE alone.
    assert walk not in same_as_like("1507") and "crm_customergram" in same_as_like("1507")
    assert walk in same_as_like("池3")
    for text in ("商行", "1381507", "0003", "另一", "c2@pool.cn", "不存在", "池"):
        same_as_like(text)
    assert [c.name for c in pool.pool_for(crm.rep_a, "1507")] == [
        f"池{n}商行" for n in range(5, -1, -1)
    ]
