"""The list pages' prepared customer list (queries.listed_customers) gives exactly what
customers_for gives: the same rows in the same order and the same count, for every role,
scope, share and filter, and compiles each shape once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghao.crm.models import Customer
from gonghao.crm.queries import (
    CustomerFilter,
    PreparedCustomerList,
    customers_for,
    listed_customers,
)
from gonghao.crm.sharing import share_customer
from gonghao.testing.crm import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(crm):
    """More customers than a page, of every status and level, some shared, one deleted."""
    now = timezone.now()
    owners = (crm.rep_a, crm.rep_b, crm.rep_c, crm.head)
    statuses = ("lead", "prospect", "active", "dormant", "lost")
    for n in range(36):
        customer = make_customer(
            owners[n % 4], f"客户{n:02d}", status=statuses[n % 5], level="ABCD"[n % 4]
        )
        # Ties on updated_at too: the order's second key (id) must be honoured.
        Customer.objects.filter(pk=customer.pk).update(updated_at=now - timedelta(hours=n // 2))
    Customer.objects.filter(name="客户07").update(deleted_at=now)
    c_customers = list(Customer.objects.filter(owner=crm.rep_c).order_by("pk"))
    share_customer(c_customers[0].pk, actor=crm.rep_c, employee=crm.rep_a)
    share_customer(c_customers[1].pk, actor=crm.rep_c, department=crm.sales)
    share_customer(
        c_customers[2].pk, actor=crm.rep_c, department=crm.hq, include_subdepartments=True
    )
    expired = share_customer(c_customers[3].pk, actor=crm.rep_c, employee=crm.rep_b)
    type(expired).objects.filter(pk=expired.pk).update(expires_at=now - timedelta(days=1))
    share_customer(
        c_customers[4].pk,
        actor=crm.rep_c,
        employee=crm.rep_b,
        until=date.today() + timedelta(days=30),
    )
    return crm


FILTERS = [
    CustomerFilter(),
    CustomerFilter(status="active"),
    CustomerFilter(level="B", sort="name"),
    CustomerFilter(source="web", kind="company"),
    CustomerFilter(sort="-added"),
    CustomerFilter(sort="level"),
    CustomerFilter(deleted=True),
]


def ids(rows) -> list[int]:
    return [c.pk for c in rows]


@pytest.mark.parametrize(
    "who", ["rep_a", "rep_b", "rep_c", "head", "agent", "admin", "marketer", "auditor"]
)
def test_same_rows_order_and_count_as_customers_for(world, who):
    actor = getattr(world, who)
    for filters in FILTERS:
        try:
            expected = customers_for(actor, filters)
        except Exception as refused:  # the same refusal is expected of both
            with pytest.raises(type(refused)):
                listed_customers(actor, filters)
            continue
        listed = listed_customers(actor, filters)
        for start, stop in ((0, 10), (10, 20), (0, 50), (30, 40)):
            assert ids(listed[start:stop]) == ids(expected[start:stop]), (who, filters, start)
        assert listed.count() == expected.count(), (who, filters)


def test_the_lists_people_open_most_come_prepared(world):
    assert isinstance(listed_customers(world.rep_a, CustomerFilter()), PreparedCustomerList)
    assert isinstance(
        listed_customers(world.agent, CustomerFilter(status="active")), PreparedCustomerList
    )
    # Searches and the rest keep their QuerySet (search index, capped count, LIKE on tags).
    for filters in (
        CustomerFilter(q="客户"),
        CustomerFilter(tag="vip"),
        CustomerFilter(shared="with_me"),
    ):
        assert not isinstance(listed_customers(world.rep_a, filters), PreparedCustomerList)


def test_a_share_reaches_the_prepared_list_at_once_and_leaves_it_when_revoked(world):
    rep = world.rep_b
    newcomer = make_customer(world.rep_c, "新分享客户")
    assert newcomer.pk not in ids(listed_customers(rep, CustomerFilter())[0:100])
    share = share_customer(newcomer.pk, actor=world.rep_c, employee=rep)
    assert newcomer.pk in ids(listed_customers(rep, CustomerFilter())[0:100])
    type(share).objects.filter(pk=share.pk).update(revoked_at=timezone.now())
    assert newcomer.pk not in ids(listed_customers(rep, CustomerFilter())[0:100])


def test_a_page_after_the_first_compiles_nothing(world):
    listed_customers(world.rep_a, CustomerFilter())[0:20]
    listed_customers(world.rep_a, CustomerFilter()).count()
    with CaptureQueriesContext(connection) as queries:
        listed = listed_customers(world.rep_a, CustomerFilter())
        listed[0:20]
        listed.count()
    # the shares reaching the rep, the page, the count: each a statement, none compiled again
    assert len(queries) == 3


def test_on_postgresql_a_scope_of_several_parts_pages_from_each_part_s_first_rows(world):
    """rep_a's scope is their own customers and one shared with them. On PostgreSQL the page
    is taken among each part's first rows (read from the part's own index): the planner, given
    the OR, walked the sort index of the whole table. The count keeps the plain condition."""
    listed = listed_customers(world.rep_a, CustomerFilter())
    with CaptureQueriesContext(connection) as queries:
        page = listed[10:20]
        counted = listed.count()
    page_sql, count_sql = (q["sql"] for q in queries.captured_queries[-2:])
    on_postgresql = connection.vendor == "postgresql"
    assert ("UNION" in page_sql) == on_postgresql == ("LIMIT 20" in page_sql)
    assert "UNION" not in count_sql
    expected = customers_for(world.rep_a, CustomerFilter())
    assert ids(page) == ids(expected[10:20]) and counted == expected.count()
    # A scope of one part (the agent sees everything) needs nothing of the kind.
    listed_customers(world.agent, CustomerFilter())[0:10]
    with CaptureQueriesContext(connection) as queries:
        listed_customers(world.agent, CustomerFilter())[0:10]
    assert "UNION" not in queries.captured_queries[-1]["sql"]
