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
