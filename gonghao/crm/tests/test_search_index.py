"""The n-gram search index: kept in step with every customer write, and its search returns
exactly what the plain LIKE search returns."""

from __future__ import annotations

import random
from importlib import import_module

import pytest
from django.apps import apps
from django.db.models import Q

from gonghao.core.errors import ValidationFailed
from gonghao.crm import services
from gonghao.crm.models import Customer, fold
from gonghao.crm.queries import CustomerFilter, customers_for, search_condition, search_digits
from gonghao.crm.search_index import CustomerGram, grams_of, index_customers
from gonghao.testing.crm import make_customer

pytestmark = pytest.mark.django_db

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜秀英敏静丽强磊"
LATIN = ["Acme", "ACME Trading", "acme foods", "Straße GmbH", "Ｓｏｎｙ", "Dragon Star", "a_b%c"]


def like_condition(text: str) -> Q:
    """The search as it was before the index: plain LIKE on the folded columns."""
    condition = Q(name_folded__contains=fold(text))
    digits = search_digits(text)
    if len(digits) >= 3:
        condition |= Q(phone_digits__contains=digits)
    if "@" in text:
        condition |= Q(email__icontains=text)
    return condition


def index_is_consistent() -> None:
    stored: dict[int, set[str]] = {}
    for gram, customer_id in CustomerGram.objects.values_list("gram", "customer_id"):
        stored.setdefault(customer_id, set()).add(gram)
    expected = {
        pk: grams_of(name_folded, phone_digits)
        for pk, name_folded, phone_digits in Customer.objects.values_list(
            "pk", "name_folded", "phone_digits"
        )
    }
    assert stored == {pk: grams for pk, grams in expected.items() if grams}


def assert_same_results(text: str) -> None:
    indexed = set(Customer.objects.filter(search_condition(text)).values_list("pk", flat=True))
    plain = set(Customer.objects.filter(like_condition(text)).values_list("pk", flat=True))
    assert indexed == plain, text


def random_name(rng: random.Random, n: int) -> str:
    roll = rng.random()
    person = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    if roll < 0.3:
        return person
    if roll < 0.6:
        return f"上海{person}科技有限公司{n}"
    return f"{rng.choice(LATIN)} {n}"


def random_phone(rng: random.Random) -> str:
    number = rng.choice(["138", "139", "150", "186"]) + f"{rng.randrange(10**8):08d}"
    return rng.choice([number, "+86" + number, f"+86 {number[:3]} {number[3:7]} {number[7:]}", ""])


def queries_from(rng: random.Random, names: list[str], phones: list[str]) -> list[str]:
    found = []
    for name in rng.sample(names, 40):
        start = rng.randrange(len(name))
        found.append(name[start : start + rng.choice((1, 2, 2, 3, 5))])
    for phone in rng.sample([p for p in phones if p], 30):
        digits = phone.replace("+86", "").replace(" ", "")
        start = rng.randrange(len(digits) - 3)
        found.append(digits[start : start + rng.choice((3, 4, 6, 11))])
    return [
        *found,
        "张伟",
        "王",
        "acme",
        "ACME",
        "aCmE tr",
        "ＡＣＭＥ",
        "ａｃｍｅ",
        "sony",
        "STRASSE",
        "straße",
        "a_b",
        "%c",
        "_",
        "+86 138",
        "+86 139 1",
        "８６１３８",
        "1 3 8",
        "有限公司1",
        "科技有限",
        "不存在的名字",
        "zz",
        "x@y.cn",
    ]


def test_indexed_search_equals_like_search_on_generated_customers(crm):
    rng = random.Random(20)
    owners = [crm.rep_a, crm.rep_b, crm.rep_c]
    names, phones = [], []
    for n in range(250):
        name, phone = random_name(rng, n), random_phone(rng)
        names.append(name)
        phones.append(phone)
        make_customer(rng.choice(owners), name, phone=phone)
    index_is_consistent()
    for text in queries_from(rng, names, phones):
        assert_same_results(text)


def test_service_results_follow_the_index_within_scope(crm):
    make_customer(crm.rep_a, "张伟贸易", phone="+8613812345678")
    make_customer(crm.rep_c, "张伟物流", phone="+8613812349999")
    for actor in (crm.rep_a, crm.head, crm.agent):
        for text in ("张伟", "1381234", "伟"):
            listed = list(customers_for(actor, CustomerFilter(q=text)))
            plain = customers_for(actor, CustomerFilter(sort="-added")).filter(like_condition(text))
            assert listed == list(plain), (actor, text)
    assert [c.name for c in customers_for(crm.rep_a, CustomerFilter(q="张伟"))] == ["张伟贸易"]


def test_index_follows_create_update_delete_restore_and_transfer(crm):
    customer = services.create_customer(
        actor=crm.rep_a, data={"name": "Ｇｏｌｄｅｎ 星辰", "phone": "13976543219"}
    )
    index_is_consistent()
    assert Customer.objects.filter(search_condition("golden 星")).get() == customer
    assert Customer.objects.filter(search_condition("7654321")).get() == customer

    services.update_customer(
        customer.pk, actor=crm.rep_a, data={"name": "银河贸易", "phone": "15097531111"}
    )
    index_is_consistent()
    assert not Customer.objects.filter(search_condition("golden")).exists()
    assert not Customer.objects.filter(search_condition("7654321")).exists()
    assert Customer.objects.filter(search_condition("银河")).get() == customer
    assert Customer.objects.filter(search_condition("9753111")).get() == customer

    services.update_customer(customer.pk, actor=crm.rep_a, data={"notes": "no search change"})
    services.transfer_customer(customer.pk, actor=crm.head, new_owner=crm.rep_b)
    index_is_consistent()
    assert [c.pk for c in customers_for(crm.rep_b, CustomerFilter(q="银河"))] == [customer.pk]
    assert list(customers_for(crm.rep_a, CustomerFilter(q="银河"))) == []

    services.delete_customer(customer.pk, actor=crm.head)
    index_is_consistent()
    assert list(customers_for(crm.head, CustomerFilter(q="银河"))) == []
    deleted = customers_for(crm.admin, CustomerFilter(q="银河", deleted=True))
    assert [c.pk for c in deleted] == [customer.pk]

    services.restore_customer(customer.pk, actor=crm.admin)
    index_is_consistent()
    assert [c.pk for c in customers_for(crm.head, CustomerFilter(q="银河"))] == [customer.pk]

    Customer.objects.filter(pk=customer.pk).delete()
    index_is_consistent()
    assert not CustomerGram.objects.filter(customer_id=customer.pk).exists()


def test_a_failed_write_leaves_the_index_unchanged(crm):
    customer = make_customer(crm.rep_a, "原来的名字", phone="13800000000")
    before = set(CustomerGram.objects.values_list("gram", "customer_id"))
    with pytest.raises(ValidationFailed):
        services.update_customer(customer.pk, actor=crm.rep_a, data={"name": "x" * 500})
    assert set(CustomerGram.objects.values_list("gram", "customer_id")) == before


def test_bulk_inserted_customers_are_indexed_by_index_customers(crm):
    rows = [
        Customer(
            name=f"批量{n}号客户",
            phone=f"+86138{n:08d}",
            owner=crm.rep_a,
            owner_department=crm.sales,
        )
        for n in range(30)
    ]
    for row in rows:
        row.refresh_search_fields()
    created = Customer.objects.bulk_create(rows)
    assert index_customers(created) > 0
    index_is_consistent()
    assert_same_results("7号")
    assert_same_results("00000012")


def test_the_backfill_migrations_index_existing_customers(crm):
    make_customer(crm.rep_a, "迁移前的客户", phone="13700001234")
    make_customer(crm.rep_b, "Before Migration", phone="")
    CustomerGram.objects.all().delete()
    import_module("gonghao.crm.migrations.0007_fill_customer_search_grams").fill(apps, None)
    import_module("gonghao.crm.migrations.0010_customer_search_latin_trigrams").fill(apps, None)
    index_is_consistent()
    assert_same_results("迁移")
    assert_same_results("0000123")
    assert_same_results("before mig")


def test_the_trigram_migration_adds_latin_trigrams_to_an_index_of_bigrams(crm):
    migration = import_module("gonghao.crm.migrations.0010_customer_search_latin_trigrams")
    latin = make_customer(crm.rep_a, "Star Pharma Co.", phone="13700001234")
    mixed = make_customer(crm.rep_b, "Golden 星辰 ab", phone="")
    chinese = make_customer(crm.rep_b, "上海张伟科技有限公司", phone="")
    # The index as the bigram-only version left it.
    CustomerGram.objects.filter(gram__regex=r"^...$").delete()
    assert not CustomerGram.objects.filter(gram="r p").exists()

    migration.CHUNK = 2  # several chunks with three customers
    try:
        migration.fill(apps, None)
        migration.fill(apps, None)  # a second run finds them there and adds nothing
    finally:
        migration.CHUNK = 5000
    index_is_consistent()
    assert CustomerGram.objects.filter(gram="r p").get().customer_id == latin.pk
    assert set(
        CustomerGram.objects.filter(
            customer_id=mixed.pk, gram__in=["gol", "en ", " ab", "n 星"]
        ).values_list("gram", flat=True)
    ) == {"gol", "en ", " ab"}
    assert not CustomerGram.objects.filter(customer_id=chinese.pk, gram__regex=r"^...$").exists()

    migration.empty(apps, None)
    assert not CustomerGram.objects.filter(gram__regex=r"^...$").exists()
    assert CustomerGram.objects.filter(gram="ar", customer_id=latin.pk).exists()


def test_the_search_drives_from_the_rarest_gram_and_from_a_word_boundary_among_common_ones(
    crm, monkeypatch
):
    from gonghao.crm import search_index

    for n in range(3):
        make_customer(crm.rep_a, f"Star Pharma {n}")
        make_customer(crm.rep_a, f"Star Foods {n}")
    make_customer(crm.rep_a, "Pharma Star")
    grams = search_index.name_grams("star pharma")

    def chosen() -> list[str]:
        probed = sorted(search_index._worth_probing(grams))
        counts = search_index._counts(probed, search_index.PROBE_LIMIT)
        return search_index._chosen(grams, counts, "star pharma")

    # Bigrams inside a trigram are never counted: the trigram holds no more customers.
    assert "st" in grams and "st" not in chosen()
    assert chosen()[0] == "r p"  # 3 postings; "sta" has 7
    monkeypatch.setattr(search_index, "PROBE_LIMIT", 2)  # every count saturated
    assert chosen()[0] == "r p"
    assert_same_results("star pharma")
    assert_same_results("r pharma 1")


def test_the_grams_checked_after_the_driver_cover_the_query_s_other_words():
    from gonghao.crm.search_index import MAX_GRAMS, _chosen, name_grams, phone_grams

    assert MAX_GRAMS == 3
    grams = name_grams("nova pharma")
    saturated = dict.fromkeys(grams, 1024)
    # "a p" spans both words; then one gram inside each word, not two pieces of "pharma".
    chosen = _chosen(grams, {**saturated, "a p": 842}, "nova pharma")
    assert chosen[0] == "a p"
    assert {gram for gram in chosen[1:] if gram in "nova"} and {
        gram for gram in chosen[1:] if gram in "pharma"
    }
    # Counts first: a rarer gram is checked before a better placed one.
    assert _chosen(grams, {**saturated, "a p": 842, " ph": 900}, "nova pharma")[1] == " ph"
    # One word (a Chinese name, phone digits): the characters not covered yet.
    assert _chosen(name_grams("上海张伟"), dict.fromkeys(["上海", "海张", "张伟"], 9), "上海张伟")[
        1:
    ] == ["张伟", "海张"]
    digits = "13812345678"
    chosen = _chosen(phone_grams(digits), dict.fromkeys(phone_grams(digits), 50), digits)
    assert chosen == ["#1234", "#5678", "#1381"]  # together they cover all eleven digits


def test_a_gram_no_customer_holds_matches_nobody_without_reading_customers(
    crm, django_assert_num_queries
):
    customer = make_customer(crm.rep_a, "星辰贸易", phone="15097531864")
    with django_assert_num_queries(1):  # the probe; the index says no customer can match
        assert list(Customer.objects.filter(search_condition("星辰物流"))) == []
    assert_same_results("星辰物流")
    # A name part that cannot match leaves the phone part: the digits still find the customer.
    with django_assert_num_queries(2):
        assert list(Customer.objects.filter(search_condition("9753186"))) == [customer]


def test_name_grams_are_the_bigrams_and_every_all_ascii_trigram():
    from gonghao.crm.search_index import name_grams

    rng = random.Random(5)
    alphabet = "ab z.张伟ｃé1"
    for _ in range(3000):
        folded = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        windows = [folded[i : i + 3] for i in range(len(folded) - 2)]
        expected = {folded[i : i + 2] for i in range(len(folded) - 1)}
        expected |= {w for w in windows if w.isascii()}
        assert name_grams(folded) == expected, folded


def _searched_sql(actor, text: str) -> tuple[list[Customer], str]:
    """The customers a searched list shows the actor, and the SQL of its page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        listed = list(customers_for(actor, CustomerFilter(q=text)))
    return listed, queries.captured_queries[-1]["sql"]


def test_a_narrow_scope_drives_the_search_when_smaller_than_the_gram_s_postings(crm, monkeypatch):
    from django.db import connection

    from gonghao.crm import search_index, sharing

    # Scaled down: a gram past 4 postings is common, a scope is counted up to 32 customers.
    monkeypatch.setattr(search_index, "PROBE_LIMIT", 4)
    monkeypatch.setattr(search_index, "SCOPE_PROBE_LIMIT", 32)
    theirs = [make_customer(crm.rep_a, f"甲{n}公司", phone=f"1391507{n:04d}") for n in range(12)]
    make_customer(crm.rep_c, "丙一商行", phone="13815070000")
    make_customer(crm.rep_c, "丙二商行", phone="13900001111")
    sharing.share_customer(theirs[3].pk, actor=crm.rep_a, employee=crm.rep_c)
    walk = 'IN (SELECT customer_id FROM "crm_customergram"'

    def same_as_like(actor, text: str) -> str:
        listed, sql = _searched_sql(actor, text)
        plain = customers_for(actor, CustomerFilter(sort="-added")).filter(like_condition(text))
        assert listed == list(plain), (actor, text)
        return sql

    # rep_c reaches three customers, fewer than "#1507"'s postings: their own customers and
    # shares drive, each tested for the grams; the shared customer is found.
    sql = same_as_like(crm.rep_c, "1507")
    assert walk not in sql and "EXISTS" in sql
    assert ("OFFSET 0" in sql) == (connection.vendor == "postgresql")
    assert [c.name for c in _searched_sql(crm.rep_c, "1507")[0]] == ["丙一商行", "甲3公司"]
    sql = same_as_like(crm.rep_c, "1391507")
    assert walk not in sql
    # A gram rarer than the scope is walked; so is every gram for whoever sees everything.
    assert walk in same_as_like(crm.rep_a, "丙一")
    assert walk in same_as_like(crm.agent, "1507")
    for actor in (crm.rep_a, crm.rep_b, crm.head):
        for text in ("1507", "甲1", "公司", "商行", "0007", "丙二"):
            same_as_like(actor, text)
