"""Customer search over the bench customers: the product's search (n-gram index, scope, order,
first page of 50 and its count) against a plain `LIKE '%x%'` doing the same in the same run.

The order is a searched list's default, the most recently added first (`-id`), on both sides.
The same terms are timed again with a sort chosen (`-updated`, the unsearched list's default),
which sorts every match before its page: reported, not a target.

Terms are drawn from the data: two-character Chinese person names, longer company-name
fragments, English words in another case, phone fragments of 4 to 11 digits. Broad terms that
match a large share of all customers (a city, "有限公司") are measured and reported apart. The
count is the product's: up to SEARCH_COUNT_CAP matches (pagination.capped_count), on both sides.

The same and the broad terms are timed again as the bench's sales rep, who reaches only their
own customers and those shared with them, against LIKE within that scope (reported).
"""

from __future__ import annotations

import random
import time

from bench.common import latency, report, row, scale, setup

PAGE = 50
TARGET_P99_MS = 20.0
TARGET_SPEEDUP = 10.0


def against_like(
    what: str,
    ours: dict,
    like: dict,
    /,
    *,
    stat: str = "p99_ms",
    like_what: str = "",
    target: str = "(reported, not a target)",
    met: bool | None = None,
    **details,
) -> dict:
    """A row of the product's search latency (`stat`) with LIKE's as its baseline; the ratio
    is how many times faster the product is."""
    return row(
        what,
        ours[stat],
        "ms",
        baseline=like[stat],
        baseline_what=like_what or f"LIKE {stat.removesuffix('_ms')}",
        ratio=like[stat] / ours[stat],
        target=target,
        met=met,
        **details,
    )


def like_condition(text: str):
    from django.db.models import Q

    from gonghao.crm.models import fold
    from gonghao.crm.queries import search_digits

    condition = Q(name_folded__contains=fold(text))
    digits = search_digits(text)
    if len(digits) >= 3:
        condition |= Q(phone_digits__contains=digits)
    return condition


def pick_terms(rng: random.Random, count: int) -> list[str]:
    from gonghao.crm.models import Customer

    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    terms: list[str] = []
    while len(terms) < count:
        customer = Customer.objects.filter(pk=rng.randrange(1, top + 1)).first()
        if customer is None:
            continue
        kind = len(terms) % 4
        if kind == 0 and customer.kind == "person" and len(customer.name) == 2:
            terms.append(customer.name)
        elif kind == 1 and customer.kind == "company" and "有限公司" in customer.name:
            person = customer.name[2:-6]
            terms.append(customer.name[: 2 + len(person)])  # city + person, e.g. 上海张伟
        elif kind == 2 and customer.name.isascii():
            terms.append(" ".join(customer.name.split()[:2]).upper())  # e.g. "DRAGON FOODS"
        elif kind == 3:
            digits = customer.phone_digits
            length = rng.choice((4, 7, 11))
            start = rng.randrange(len(digits) - length + 1)
            terms.append(digits[start : start + length])
    return terms


BROAD_TERMS = ["上海", "科技有限", "王"]


def main() -> None:
    setup()
    from django.db import connection

    from bench.common import timed
    from bench.data import actors
    from gonghao.core.pagination import capped_count, search_count_cap
    from gonghao.crm.models import Customer
    from gonghao.crm.queries import SEARCH_SORT, SORTS, CustomerFilter, customers_for

    sizes = scale()
    agent = actors()["agent"]  # customer service: sees every customer (the widest search)
    rng = random.Random(11)
    terms = pick_terms(rng, min(40, max(20, sizes["samples"] // 3)))

    # Both sides count as the product's searched lists do: up to the cap (count_capped).
    def indexed(term: str, sort: str = ""):
        def run():
            found = customers_for(agent, CustomerFilter(q=term, sort=sort))
            return list(found[:PAGE]), capped_count(found, search_count_cap(term))

        return run

    def plain(term: str):
        def run():
            found = (
                Customer.objects.select_related("owner", "owner_department")
                .filter(deleted_at__isnull=True)
                .filter(like_condition(term))
                .order_by(*SORTS[SEARCH_SORT])
            )
            return list(found[:PAGE]), capped_count(found, search_count_cap(term))

        return run

    def measure(term_list: list[str], repeat: int) -> tuple[list[float], list[float], list]:
        fast, slow, per_term = [], [], []
        for term in term_list:
            # A sort chosen: the same matches and count, the page in that order (checked here
            # against the product's own count: a second LIKE scan per term would double the run).
            chosen, chosen_counted = indexed(term, sort="-updated")()
            order = [(c.updated_at, c.pk) for c in chosen]
            assert order == sorted(order, reverse=True), term
            assert not any(Customer.objects.filter(pk__in=[c.pk for c in chosen]).exclude(
                like_condition(term))), term  # fmt: skip
            sorted_ms = timed(indexed(term, sort="-updated"), repeat, warmup=0)
            first, counted = indexed(term)()
            began = time.perf_counter()
            expected, expected_counted = plain(term)()
            like_ms = [(time.perf_counter() - began) * 1000]
            # Same customers, same order, same count as LIKE: the index only narrows.
            assert [c.pk for c in first] == [c.pk for c in expected], term
            assert counted == expected_counted == chosen_counted, term
            index_ms = timed(indexed(term), repeat, warmup=0)
            fast += index_ms
            slow += like_ms
            sorted_all.extend(sorted_ms)
            per_term.append(
                {"term": term, "matches": f"{counted[0]}{'+' if counted[1] else ''}", "index": latency(index_ms),
                 "like": latency(like_ms), "index_sorted_by_update": latency(sorted_ms)}
            )  # fmt: skip
        return fast, slow, per_term

    def scoped(term_list: list[str], repeat: int) -> tuple[list[float], list[float], list]:
        """The sales rep's searched list (own customers and shares: a narrow scope) against
        LIKE within the same scope, which reads only the rep's few thousand customers."""
        fast, slow, per_term = [], [], []
        for term in term_list:

            def run(term=term):
                found = customers_for(rep, CustomerFilter(q=term))
                return list(found[:PAGE]), capped_count(found, search_count_cap(term))

            def like(term=term):
                found = customers_for(rep, CustomerFilter(sort="-added")).filter(
                    like_condition(term)
                )
                return list(found[:PAGE]), capped_count(found, search_count_cap(term))

            first, counted = run()
            expected, expected_counted = like()
            assert [c.pk for c in first] == [c.pk for c in expected], term
            assert counted == expected_counted, term
            index_ms = timed(run, repeat, warmup=0)
            like_ms = timed(like, 1, warmup=0)
            fast += index_ms
            slow += like_ms
            per_term.append(
                {"term": term, "matches": f"{counted[0]}{'+' if counted[1] else ''}",
                 "index": latency(index_ms), "like": latency(like_ms)}
            )  # fmt: skip
        return fast, slow, per_term

    rep = actors()["rep"]
    sorted_all: list[float] = []
    fast, slow, per_term = measure(terms, 5)
    index_sorted = latency(sorted_all)
    broad_fast, broad_slow, broad = measure(BROAD_TERMS, 3)
    index, like = latency(fast), latency(slow)
    broad_index, broad_like = latency(broad_fast), latency(broad_slow)
    rep_fast, rep_slow, rep_terms = scoped(terms + BROAD_TERMS, 5)
    rep_index, rep_like = latency(rep_fast), latency(rep_slow)
    customers = Customer.objects.count()
    speedup = like["p99_ms"] / index["p99_ms"]
    report(
        "search_customers",
        [
            against_like(
                f"search p99 over {customers} customers ({len(terms)} terms)",
                index,
                like,
                target=f"p99 ≤ {TARGET_P99_MS:g} ms, ≥ {TARGET_SPEEDUP:g}× LIKE",
                met=index["p99_ms"] <= TARGET_P99_MS and speedup >= TARGET_SPEEDUP,
                index=index,
                like=like,
            ),
            against_like(
                "search p50 (same terms)",
                index,
                like,
                stat="p50_ms",
                target=f"≥ {TARGET_SPEEDUP:g}× LIKE",
                met=like["p50_ms"] / index["p50_ms"] >= TARGET_SPEEDUP,
            ),
            against_like(
                "search p99, a sort chosen (-updated; same terms)",
                index_sorted,
                like,
                like_what="LIKE p99, default order",
                index=index_sorted,
            ),
            against_like(
                "search p99, broad terms (上海, 科技有限, 王)",
                broad_index,
                broad_like,
                per_term=broad,
            ),
            against_like(
                "search p99, a sales rep (own + shared customers; same and broad terms)",
                rep_index,
                rep_like,
                like_what="LIKE p99 within the rep's scope",
                index=rep_index,
                like=rep_like,
                per_term=rep_terms,
            ),
        ],
        database=connection.vendor,
        customers=customers,
        terms=per_term,
    )


if __name__ == "__main__":
    main()
