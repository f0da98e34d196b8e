"""The order of the customer list: the most recently updated first, a search the most recently
added first (newest record first, read in index order), any sort the user picks honoured."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from gonghao.crm.models import Customer
from gonghao.crm.queries import CustomerFilter, customers_for, sort_for
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/customers"


@pytest.fixture
def traders(crm):
    """Three "Trading" customers whose update order runs against their creation order."""
    first = make_customer(crm.rep_a, "Alpha Trading")
    second = make_customer(crm.rep_a, "Gamma Trading")
    third = make_customer(crm.rep_a, "Beta Trading")
    now = timezone.now()
    for age, customer in enumerate((first, second, third)):
        Customer.objects.filter(pk=customer.pk).update(updated_at=now - timezone.timedelta(age))
    return first, second, third


def names(body: dict) -> list[str]:
    return [item["name"] for item in body["items"]]


def test_a_search_lists_the_most_recently_added_first_and_says_so(crm, traders):
    api = api_for(crm.rep_a)
    searched = api.get(BASE, {"q": "trading"}).json()
    assert names(searched) == ["Beta Trading", "Gamma Trading", "Alpha Trading"]
    assert searched["sort"] == "-added"
    # An unknown sort falls back to the list's default, for a search the search's.
    assert api.get(BASE, {"q": "trading", "sort": "no-such"}).json()["sort"] == "-added"
    listed = api.get(BASE).json()
    assert listed["sort"] == "-updated"
    assert [n for n in names(listed) if n.endswith("Trading")] == [
        "Alpha Trading",
        "Gamma Trading",
        "Beta Trading",
    ]


def test_a_sort_chosen_for_a_search_is_honoured(crm, traders):
    api = api_for(crm.rep_a)
    updated = api.get(BASE, {"q": "trading", "sort": "-updated"}).json()
    assert (names(updated), updated["sort"]) == (
        ["Alpha Trading", "Gamma Trading", "Beta Trading"],
        "-updated",
    )
    by_name = api.get(BASE, {"q": "trading", "sort": "name"}).json()
    assert names(by_name) == ["Alpha Trading", "Beta Trading", "Gamma Trading"]
    added = api.get(BASE, {"sort": "-added"}).json()  # also offered for unsearched lists
    assert added["sort"] == "-added"
    assert [item["id"] for item in added["items"]] == sorted(
        (item["id"] for item in added["items"]), reverse=True
    )


def test_a_search_pages_through_its_matches_in_the_same_order(crm, traders):
    api = api_for(crm.rep_a)
    pages = [
        names(api.get(BASE, {"q": "trading", "limit": 1, "offset": offset}).json())
        for offset in range(4)
    ]
    assert pages == [["Beta Trading"], ["Gamma Trading"], ["Alpha Trading"], []]


def test_hidden_level_sort_falls_back_to_the_default_of_the_list(crm, traders, monkeypatch):
    from gonghao.crm import queries

    monkeypatch.setattr(queries, "hidden_fields_for", lambda *_: frozenset({"customer.level"}))
    assert sort_for(crm.rep_a, CustomerFilter(q="trading", sort="level")) == "-added"
    assert sort_for(crm.rep_a, CustomerFilter(sort="level")) == "-updated"
    searched = customers_for(crm.rep_a, CustomerFilter(q="trading", sort="level"))
    assert [c.name for c in searched] == ["Beta Trading", "Gamma Trading", "Alpha Trading"]


def test_the_page_offers_the_default_order_and_says_which_order_applies(crm, traders):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(crm.rep_a)
    searched = client.get("/customers/", {"q": "trading"}).content.decode()
    assert "Order: Recently added" in searched
    assert searched.index("Beta Trading") < searched.index("Gamma Trading")
    assert searched.index("Gamma Trading") < searched.index("Alpha Trading")
    assert '<option value="" selected>Default order</option>' in searched
    # Each order once: "Recently added" is the newest first (no second "Newest" entry).
    menu = searched[
        searched.index('name="sort"') : searched.index("</select>", searched.index('name="sort"'))
    ]
    offered = re.findall(r'<option value="([^"]*)"', menu)
    assert offered == ["", "-updated", "-added", "name", "-name", "created", "level"]
    # The form sends its sort with every search: left on the default, it stays the default.
    typed = client.get("/customers/", {"q": "trading", "sort": ""}).content.decode()
    assert "Order: Recently added" in typed
    listed = client.get("/customers/").content.decode()
    assert "Order: Recently updated" in listed
    chosen = client.get("/customers/", {"q": "trading", "sort": "-updated"}).content.decode()
    assert "Order: Recently updated" in chosen
    assert chosen.index("Alpha Trading") < chosen.index("Gamma Trading")
    assert chosen.index("Gamma Trading") < chosen.index("Beta Trading")
    fragment = client.get("/customers/", {"q": "trading"}, headers={"HX-Request": "true"})
    assert "Order: Recently added" in fragment.content.decode()


def test_a_fragment_of_both_names_and_phones_is_listed_newest_first_from_an_ordered_array(crm):
    """"1507" is a name fragment and a phone fragment: its candidates are the union of both
    parts. PostgreSQL hashed `IN (a UNION ALL b)` into a set and read every candidate before
    sorting (9,014 rows for a page of 50 at 1,000,000 customers); as an array it walks the
    primary key newest first and stops after the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    by_name = make_customer(crm.rep_a, "第1507号仓库")
    by_phone = make_customer(crm.rep_a, "海港贸易", phone="+86 139 1507 0000")
    make_customer(crm.rep_a, "无关公司", phone="+86 139 0000 0000")
    both = make_customer(crm.rep_a, "1507 Holdings", phone="+86 138 1507 1234")
    with CaptureQueriesContext(connection) as captured:
        # customer service reaches every customer: the index drives (a rep's own book would)
        found = list(customers_for(crm.agent, CustomerFilter(q="1507"))[:50])
    assert [c.pk for c in found] == [both.pk, by_phone.pk, by_name.pk]
    union = [q["sql"] for q in captured.captured_queries if "d.customer_id" in q["sql"]]
    assert union, "a name-or-phone fragment reads the union of both parts"
    if connection.vendor == "postgresql":
        assert all("= ANY(ARRAY(SELECT d.customer_id" in sql for sql in union)
    else:
        assert all("IN (SELECT d.customer_id" in sql for sql in union)
    page = api_for(crm.agent).get(BASE, {"q": "1507"}).json()
    assert names(page) == ["1507 Holdings", "海港贸易", "第1507号仓库"]
    assert page["count"] == 3
