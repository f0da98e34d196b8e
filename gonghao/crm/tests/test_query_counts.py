"""Lists and pages cost a fixed number of queries, whatever the page size."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for


def _count(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_customer_list_queries_do_not_grow_with_rows(crm):
    api = api_for(crm.head)
    client = Client()
    client.force_login(crm.head)
    # Warm-up: the first call stamps the token's last use and the session; later ones need not.
    api.get("/api/v1/customers")
    client.get("/customers/")
    small_api = _count(lambda: api.get("/api/v1/customers", {"limit": 50}))
    small_page = _count(lambda: client.get("/customers/"))
    for n in range(30):
        owner = crm.rep_a if n % 2 else crm.rep_b
        make_customer(owner, f"批量客户{n}", phone=f"+86138000000{n:02d}")
    assert _count(lambda: api.get("/api/v1/customers", {"limit": 50})) == small_api
    assert _count(lambda: client.get("/customers/")) == small_page
    assert small_api <= 10, small_api


def test_customer_detail_query_count(crm):
    api = api_for(crm.rep_a)
    api.get("/api/v1/me")
    queries = _count(lambda: api.get(f"/api/v1/customers/{crm.customer_a.pk}"))
    assert queries <= 12, queries


def _statements(call) -> int:
    """Queries without the transaction-control statements (BEGIN, COMMIT, SAVEPOINT...)."""
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return sum(
        1
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    )


def test_customer_page_queries_do_not_grow_with_contacts_or_follow_ups(crm):
    from gonghao.core import clock
    from gonghao.crm.models import Contact, Interaction

    client = Client()
    client.force_login(crm.rep_a)
    page = f"/customers/{crm.customer_a.pk}/"
    client.get(page)
    Contact.objects.create(customer=crm.customer_a, name="王经理")
    Interaction.objects.create(
        customer=crm.customer_a, employee=crm.rep_a, kind="call", occurred_at=clock.now(),
        content="first call",
    )  # fmt: skip
    few = _statements(lambda: client.get(page))
    for n in range(20):
        Contact.objects.create(customer=crm.customer_a, name=f"联系人{n}")
        Interaction.objects.create(
            customer=crm.customer_a, employee=crm.rep_a, kind="visit", occurred_at=clock.now(),
            content=f"visit {n}",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as captured:
        assert client.get(page).status_code == 200
    customer_reads = [
        q for q in captured.captured_queries if q["sql"].startswith('SELECT "crm_customer"."id"')
    ]
    assert len(customer_reads) == 1, "visibility is checked once per page"
    assert _statements(lambda: client.get(page)) == few
    # session, employee (with its department), grants, customer, the audited read (3 +
    # transaction control), contacts; follow-ups, shares and the audit trail are cards loaded
    # after the page, and the session is not written again within its refresh window.
    assert few <= 8, few
    for card in ("timeline/", "shares/card/"):
        assert _statements(lambda card=card: client.get(page + card)) <= 8, card


def test_pages_and_api_cost_the_issue_7_budget(crm):
    """Issue 7's budget: at most 8 queries for a list page (API and HTML) and for the
    customer page with its audited read, counted after a warm-up request."""
    api = api_for(crm.rep_a)
    client = Client()
    client.force_login(crm.rep_a)
    detail = f"/customers/{crm.customer_a.pk}/"
    for call in (lambda: api.get("/api/v1/customers"), lambda: client.get(detail)):
        call()
    assert _statements(lambda: api.get("/api/v1/customers", {"limit": 50})) <= 8
    assert _statements(lambda: client.get("/customers/")) <= 8
    assert _statements(lambda: client.get("/customers/", {"page": 2})) <= 8
    # By name the list is sized by its count, taken before the page: no query more.
    api.get("/api/v1/customers", {"sort": "name"})
    client.get("/customers/", {"sort": "name"})
    by_name = _statements(lambda: api.get("/api/v1/customers", {"sort": "name"}))
    assert by_name == _statements(lambda: api.get("/api/v1/customers")) and by_name <= 8
    by_name = _statements(lambda: client.get("/customers/", {"sort": "name"}))
    assert by_name == _statements(lambda: client.get("/customers/")) and by_name <= 8
    assert _statements(lambda: api.get(f"/api/v1/customers/{crm.customer_a.pk}")) <= 8
    assert _statements(lambda: client.get(detail)) <= 8
