"""Searched customer lists count their matches up to a cap (API `count_capped`, the page's
"1,000+ customers"); unsearched lists keep their exact count."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gonghao.core import pagination
from gonghao.core.views import CappedPaginator
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for

pytestmark = pytest.mark.django_db

CAP = 3


@pytest.fixture
def five_ltds(crm, monkeypatch):
    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", CAP)
    for name in ("Acme Ltd", "Beta Ltd", "Gamma Ltd", "Delta Ltd", "Eta Ltd"):
        make_customer(crm.rep_a, name)
    return crm


def test_capped_count_stops_at_the_cap_and_says_so(five_ltds):
    ltds = Customer.objects.filter(name__endswith="Ltd")
    assert pagination.capped_count(ltds, 3) == (3, True)
    assert pagination.capped_count(ltds, 4) == (4, True)
    assert pagination.capped_count(ltds, 5) == (5, False)
    assert pagination.capped_count(ltds, 50) == (5, False)
    assert pagination.capped_count(ltds.none(), 3) == (0, False)


def test_api_search_caps_its_count_but_still_pages_every_match(five_ltds):
    api = api_for(five_ltds.rep_a)
    searched = api.get("/api/v1/customers", {"q": "ltd"}).json()
    assert searched["count"] == CAP and searched["count_capped"] is True
    assert len(searched["items"]) == 5  # the cap bounds the count, not the results
    narrow = api.get("/api/v1/customers", {"q": "acme"}).json()
    assert narrow["count"] == 1 and narrow["count_capped"] is False
    everything = api.get("/api/v1/customers").json()
    assert everything["count"] == len(everything["items"]) > CAP
    assert everything["count_capped"] is False


def test_pool_api_search_caps_its_count(crm, monkeypatch):
    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", CAP)
    for name in ("甲公司", "乙公司", "丙公司", "丁公司"):
        Customer.objects.create(name=name)  # no owner: in the pool
    api = api_for(crm.rep_a)
    searched = api.get("/api/v1/customers/pool", {"q": "公司"}).json()
    assert (searched["count"], searched["count_capped"]) == (CAP, True)
    whole = api.get("/api/v1/customers/pool").json()
    assert (whole["count"], whole["count_capped"]) == (4, False)


def test_the_page_shows_a_capped_count_and_an_exact_one(five_ltds):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(five_ltds.rep_a)
    searched = client.get("/customers/", {"q": "ltd"}).content.decode()
    assert f"{CAP}+ customers" in searched
    listed = client.get("/customers/").content.decode()
    assert "+ customers" not in listed
    assert re.search(r"\b\d+ records", listed)


def test_the_capped_paginator_offers_pages_up_to_the_cap(five_ltds):
    ltds = Customer.objects.filter(name__endswith="Ltd").order_by("-id")
    paginator = CappedPaginator(ltds, 2, cap=CAP)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (CAP, True, 2)
    last = paginator.get_page(99)  # past the cap: the last page offered, ending at the cap
    assert (last.number, len(last.object_list)) == (2, 1)
    exact = CappedPaginator(ltds, 2, cap=10)
    assert (exact.count, exact.capped, exact.num_pages) == (5, False, 3)
