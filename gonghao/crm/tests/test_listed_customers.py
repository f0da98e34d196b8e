"""The list pages' prepared customer list (queries.listed_customers) gives exactly what
customers_for gives: the same rows in the same order and the same count, for every role,
scope, share and filter, and compiles each shape once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghao.access.models import Role
from gonghao.access.services import grant_role
from gonghao.crm import permissions as perms
from gonghao.crm import queries
from gonghao.crm.models import Contact, Customer, CustomerShare, Interaction
from gonghao.crm.queries import (
    CustomerFilter,
    PartedCustomerList,
    PreparedCustomerList,
    WholeSortedList,
    customers_for,
    listed_customers,
    of_customers_for,
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


WHO = ["rep_a", "rep_b", "rep_c", "head", "agent", "admin", "marketer", "auditor"]
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


def assert_listed_as_customers_for(
    world, who, every_filters, pages, *, counted_first_too=False, to_the_end=False
) -> None:
    """For each filter, listed_customers gives customers_for's rows in its order, page by
    page, and its count (or the same refusal); with `counted_first_too` also when counted
    before its page is read (as the pages do), with `to_the_end` also read from row 3 on."""
    actor = getattr(world, who)
    for filters in every_filters:
        try:
            expected = customers_for(actor, filters)
        except Exception as refused:  # the same refusal is expected of both
            with pytest.raises(type(refused)):
                listed_customers(actor, filters)
            continue
        listed = listed_customers(actor, filters)
        for start, stop in pages:
            assert ids(listed[start:stop]) == ids(expected[start:stop]), (who, filters, start)
            if counted_first_too:
                counted = listed_customers(actor, filters)
                assert counted.count() == expected.count(), (who, filters)
                assert ids(counted[start:stop]) == ids(expected[start:stop]), (who, filters, start)
        if to_the_end:
            assert ids(listed_customers(actor, filters)[3:]) == ids(expected[3:]), (who, filters)
        assert listed.count() == expected.count(), (who, filters)


@pytest.mark.parametrize("who", WHO)
def test_same_rows_order_and_count_as_customers_for(world, who):
    assert_listed_as_customers_for(world, who, FILTERS, ((0, 10), (10, 20), (0, 50), (30, 40)))


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


# Every order a list can take, the ones read whole on PostgreSQL when small among them.
EVERY_SORT = [CustomerFilter(sort=sort) for sort in queries.SORTS]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("whole_up_to", [0, 10**6])
def test_in_every_order_read_whole_or_walked_the_same_rows(world, who, whole_up_to, monkeypatch):
    """A small list in a WHOLE_SORTS order is read whole and sorted on PostgreSQL, a large one
    keeps the plain order: with every list taken as small (and as large), the same rows in
    the same order as customers_for, counted first (as the pages do) or not."""
    monkeypatch.setattr(queries, "WHOLE_UP_TO", whole_up_to)
    assert_listed_as_customers_for(
        world,
        who,
        [*EVERY_SORT, CustomerFilter(sort="name", status="active")],
        ((0, 10), (10, 20), (0, 50), (30, 40)),
        counted_first_too=True,
    )


def _page_statements(listed, start: int, stop: int, *, count_first: bool) -> list[str]:
    if count_first:
        listed.count()
    with CaptureQueriesContext(connection) as run:
        listed[start:stop]
    return [q["sql"] for q in run.captured_queries]


def test_on_postgresql_a_small_list_by_name_is_read_whole_and_sorted(world, monkeypatch):
    """Sorted by name, a rep's small list is read from the scope's indexes and sorted
    (`COALESCE(name)` matches no index): PostgreSQL, guessing the rep's book at the average,
    walked the whole table's name index. Sized by the count the page takes first, else by a
    count that stops past the limit; a list past the limit keeps the plain order."""
    on_postgresql = connection.vendor == "postgresql"
    for filters in (CustomerFilter(sort="name"), CustomerFilter(sort="-created")):
        key = queries.SORTS[filters.sort][0].lstrip("-")
        counted = _page_statements(listed_customers(world.rep_a, filters), 0, 10, count_first=True)
        assert len(counted) == 1  # the count already sized it: the page alone
        assert (f'COALESCE("crm_customer"."{key}")' in counted[0]) == on_postgresql
        # rep_a's scope has two parts (a share): read whole, not each part's first rows.
        assert "UNION" not in counted[0]
        uncounted = _page_statements(
            listed_customers(world.rep_a, filters), 0, 10, count_first=False
        )
        # Not counted first: on PostgreSQL one statement sizes the list, up to the limit.
        assert len(uncounted) == (2 if on_postgresql else 1)
        assert ("COALESCE" in uncounted[-1]) == on_postgresql
        if on_postgresql:
            assert "COUNT(*)" in uncounted[0] and f"LIMIT {queries.WHOLE_UP_TO + 1}" in uncounted[0]
    # The default order is read from the owner index in order: never sized, never whole.
    default = _page_statements(
        listed_customers(world.rep_a, CustomerFilter()), 0, 10, count_first=False
    )
    assert len(default) == 1 and "COALESCE" not in default[0]
    # Past the limit (the list of a department head, or everything): the name index's order.
    monkeypatch.setattr(queries, "WHOLE_UP_TO", 3)
    for who in ("rep_a", "head", "admin"):
        listed = listed_customers(getattr(world, who), CustomerFilter(sort="name"))
        page = _page_statements(listed, 0, 10, count_first=True)
        assert len(page) == 1 and "COALESCE" not in page[0]
        assert ('ORDER BY "crm_customer"."name" ASC' in page[0]) or "UNION" in page[0]


def test_a_deeper_page_reads_a_larger_list_whole():
    assert queries._reads_whole(queries.WHOLE_UP_TO, 50)
    assert not queries._reads_whole(queries.WHOLE_UP_TO + 1, 50)
    assert queries._reads_whole(queries.WHOLE_UP_TO * 2, 200)
    assert not queries._reads_whole(queries.WHOLE_UP_TO * 2 + 1, 200)
    assert queries._whole_limit(10) == queries.WHOLE_UP_TO


@pytest.fixture
def exporting(world):
    """The world, rep_a also exporting their own customers (and those shared with them), and
    each customer with a contact and two follow-ups."""
    Role.objects.create(
        code="sales_export",
        name_zh="销售导出",
        name_en="Sales export",
        permissions=[perms.VIEW, perms.EXPORT],
        data_scope="own",
    )
    grant_role(world.rep_a, "sales_export", actor=None, check_permission=False)
    now = timezone.now()
    for customer in Customer.objects.order_by("pk"):
        Contact.objects.create(customer=customer, name=f"联系人{customer.pk}", is_primary=True)
        for hours in (1, 2):
            Interaction.objects.create(
                customer=customer,
                employee=customer.owner,
                kind="call",
                occurred_at=now - timedelta(hours=hours * customer.pk),
                content="通话",
            )
    return world


# The lists that keep customers_for's QuerySet, besides the prepared ones.
MORE_FILTERS = [
    *FILTERS,
    CustomerFilter(q="客户1"),
    CustomerFilter(tag="vip"),
    CustomerFilter(shared="with_me"),
    CustomerFilter(shared="with_me", status="prospect"),
]


@pytest.mark.parametrize("who", WHO)
def test_of_customers_for_narrows_to_the_customers_of_customers_for(exporting, who):
    """of_customers_for (the exports of contacts and follow-ups narrow to it) reaches the
    customers customers_for gives, for every role, scope, share, search and filter."""
    actor = getattr(exporting, who)
    compared = 0
    for permission in (perms.VIEW, perms.EXPORT):
        for filters in MORE_FILTERS:
            try:
                expected = customers_for(actor, filters, permission)
            except Exception as refused:
                with pytest.raises(type(refused)):
                    of_customers_for(actor, filters, permission)
                continue
            customers = Customer.objects.filter(of_customers_for(actor, filters, permission, "pk"))
            assert sorted(ids(customers)) == sorted(ids(expected)), (who, permission, filters)
            of_customers = of_customers_for(actor, filters, permission)
            for model, order in (
                (Contact, ("customer_id", "-is_primary", "name", "id")),
                (Interaction, ("customer_id", "occurred_at", "id")),
            ):
                narrowed = model.objects.filter(of_customers).order_by(*order)
                plain = model.objects.filter(customer__in=expected.values("pk")).order_by(*order)
                assert ids(narrowed) == ids(plain), (who, filters, model)
                compared += len(plain)
    # Everyone but the auditor (no customer permission) reaches some rows with each model.
    assert (compared > 0) == (who != "auditor")


@pytest.mark.parametrize("who", WHO)
def test_the_contacts_and_follow_ups_exports_read_the_export_scope(exporting, who):
    from gonghao.transfer.exports import export_table

    actor = getattr(exporting, who)
    for filters in (CustomerFilter(), CustomerFilter(status="active"), CustomerFilter(q="客户")):
        try:
            customers = customers_for(actor, filters, perms.EXPORT).values("pk")
            export_table(actor, "contacts", filters, "csv")
        except Exception as refused:  # PermissionDenied for those without view or export
            with pytest.raises(type(refused)):
                export_table(actor, "interactions", filters, "csv")
            continue
        contacts = export_table(actor, "contacts", filters, "csv").rows
        expected = Contact.objects.filter(customer__in=customers).order_by(
            "customer_id", "-is_primary", "name", "id"
        )
        assert [int(row[0]) for row in contacts] == ids(expected), (who, filters)
        follow_ups = export_table(actor, "interactions", filters, "csv").rows
        expected = Interaction.objects.filter(customer__in=customers).order_by(
            "customer_id", "occurred_at", "id"
        )
        assert [int(row[0]) for row in follow_ups] == ids(expected), (who, filters)


def test_on_postgresql_the_customers_of_a_scope_of_several_parts_are_a_union(exporting):
    """rep_a's export scope is their own customers and those shared with them: on PostgreSQL
    the contacts are those of an array of each part's customers, read apart (given an IN of
    the parts' OR, PostgreSQL read every customer or every contact). A scope of everything,
    and SQLite, keep the plain condition."""
    on_postgresql = connection.vendor == "postgresql"

    def sql(actor):
        return str(
            Contact.objects.filter(of_customers_for(actor, CustomerFilter(), perms.EXPORT)).query
        )

    for actor in (exporting.rep_a, exporting.head):
        assert ("UNION" in sql(actor)) == on_postgresql == ("= ANY(ARRAY((SELECT" in sql(actor))
    # With no live share the shares are still a part (a subquery, found empty when run).
    CustomerShare.objects.update(revoked_at=timezone.now())
    assert ("UNION" in sql(exporting.rep_a)) == on_postgresql
    # Everything is no part at all.
    assert "UNION" not in sql(exporting.marketer) and "ANY" not in sql(exporting.marketer)


@pytest.mark.parametrize("who", WHO)
def test_past_the_prepared_shares_the_same_rows_order_and_count(world, who, monkeypatch):
    """With more shared customers than a prepared list takes (one, here), the list is
    customers_for's, paged apart by part on PostgreSQL in the default order: same rows,
    same order, same count."""
    monkeypatch.setattr(queries, "MAX_PREPARED_DIRECT", 1)
    assert_listed_as_customers_for(
        world,
        who,
        [*FILTERS, CustomerFilter(sort="updated"), CustomerFilter(status="lead")],
        ((0, 10), (10, 20), (0, 50), (30, 40), (5, 5)),
        to_the_end=True,
    )


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("whole_up_to", [0, 10**6])
def test_past_the_prepared_shares_in_every_order_the_same_rows(
    world, who, whole_up_to, monkeypatch
):
    """Past the prepared shares, a list in a WHOLE_SORTS order read whole (or not): the same
    rows in the same order as customers_for, counted first or not."""
    monkeypatch.setattr(queries, "MAX_PREPARED_DIRECT", 1)
    monkeypatch.setattr(queries, "WHOLE_UP_TO", whole_up_to)
    assert_listed_as_customers_for(
        world,
        who,
        [*EVERY_SORT, CustomerFilter(sort="-name", status="lead")],
        ((0, 10), (10, 20), (30, 40), (5, 5)),
        counted_first_too=True,
        to_the_end=True,
    )


def test_on_postgresql_past_the_prepared_shares_pages_come_from_each_part(world, monkeypatch):
    monkeypatch.setattr(queries, "MAX_PREPARED_DIRECT", 1)
    on_postgresql = connection.vendor == "postgresql"
    listed = listed_customers(world.rep_a, CustomerFilter())
    assert isinstance(listed, PartedCustomerList) == on_postgresql
    with CaptureQueriesContext(connection) as queries_run:
        page = list(listed[10:20])
        counted = listed.count()
    page_sql, count_sql = (q["sql"] for q in queries_run.captured_queries[-2:])
    assert ("UNION" in page_sql) == on_postgresql
    assert "UNION" not in count_sql
    expected = customers_for(world.rep_a, CustomerFilter())
    assert ids(page) == ids(expected[10:20]) and counted == expected.count()
    # In an order the owner's index does not give, the parts would walk the whole table's
    # index for their first rows: the plain QuerySet.
    by_name = listed_customers(world.rep_a, CustomerFilter(sort="name"))
    assert not isinstance(by_name, (PartedCustomerList, PreparedCustomerList))
    # There, a small list is read whole and sorted (see WHOLE_SORTS).
    assert isinstance(by_name, WholeSortedList) == on_postgresql
    by_name.count()
    with CaptureQueriesContext(connection) as queries_run:
        page = list(by_name[0:10])
    assert len(queries_run) == 1
    assert ('COALESCE("crm_customer"."name")' in queries_run[0]["sql"]) == on_postgresql
    expected = customers_for(world.rep_a, CustomerFilter(sort="name"))
    assert ids(page) == ids(expected[0:10])
    # One share is within the prepared list's reach again.
    monkeypatch.setattr(queries, "MAX_PREPARED_DIRECT", 500)
    assert isinstance(listed_customers(world.rep_a, CustomerFilter()), PreparedCustomerList)
