"""Growth: list, search and audit-query latency at several sizes (10k, 100k, 1M customers and
as many interactions and audit events; BENCH_GROWTH overrides). Each size has its own bench
database, generated once; the largest is the main bench database when the sizes agree.

Two kinds of rows, p50 and p99 each:

- fixed result (the issue's "flat within 2×"): the table grows, the result does not. The
  generator's fixed markers (bench/data.py, FIXED_*): the fixed sales rep's list (50
  customers at every size), the planted search terms (20 matches each, searched as the
  agent) and the audit query for the fixed employee (~99 events in any 30 days);
- proportional (reported, no target): the bench's usual actors, whose share grows with the
  table (the rep owns 50 customers at 10k and 5,000 at 1M; a random term matches 100× more;
  an employee has 100× more events in 30 days), so the row measures the growing result too.

The list is read as the list page and API read it (`listed_customers`: a page of 50 and the
count); the search and the audit query as before (`customers_for` with a term, `events_for`).
Each figure records the result sizes it saw (`matches`), so a fixed row shows it stayed fixed.
The sizes are measured in turns (BENCH_GROWTH_PASSES, default 2: 10k, 100k, 1M, 10k, …), each
in a fresh process, and their samples pooled, so a change of load on a shared machine falls
on every size rather than on one.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from bench.common import ROOT, database_url, latency, report, row, scale, setup, vendor_of

GROWTH_LIMIT = 2.0
PAGE = 50
# The proportional search terms: common names, a company fragment, a two-word English name and
# phone fragments of the random data (their matches grow with the table).
PROPORTIONAL_TERMS = ["张伟", "王芳", "Dragon Foods", "13812", "1866", "苏州李"]
USUAL = ("agent", "auditor", "head", "rep", "writer")  # bench.data.actors() before the fixed


def measure() -> dict:
    """In a process of its own, on the database it was given: the samples (ms) and result
    sizes of every read, by name."""
    setup()
    from bench.data import EPOCH, FIXED_TERMS, actors
    from gonghao.audit.queries import AuditFilter, events_for
    from gonghao.crm.queries import CustomerFilter, customers_for, listed_customers

    cast = actors()
    missing = {"rep_fixed", "audited_fixed"} - set(cast)
    if missing:
        raise SystemExit(f"no fixed actors {sorted(missing)}: regenerate the data (bench/data.py)")
    repeat = int(os.environ.get("BENCH_GROWTH_SAMPLES", "100"))

    def page(found):
        return list(found[:PAGE]), found.count()

    def sample(calls):
        """Time each (label, fn) in turn, `repeat` samples in all (after a warm-up of each):
        [ms], {label: result count}."""
        for _, fn in calls:
            fn()
            fn()
        samples, matches, by_label = [], {}, {}
        for i in range(repeat):
            label, fn = calls[i % len(calls)]
            start = time.perf_counter()
            result = fn()
            samples.append((time.perf_counter() - start) * 1000)
            by_label.setdefault(label, []).append(samples[-1])
            matches[label] = result[1]
        return samples, matches, by_label

    def listing(actor):
        # As the list page and API read it (prepared SQL; customers_for() is the QuerySet the
        # searched lists, exports and pickers use).
        return [("list", lambda: page(listed_customers(actor, CustomerFilter())))]

    def searching(terms):
        return [
            (term, lambda term=term: page(customers_for(cast["agent"], CustomerFilter(q=term))))
            for term in terms
        ]

    def auditing(employee_ids, seed):
        rng = random.Random(seed)
        calls = []
        for i in range(repeat):
            since = EPOCH + timedelta(days=rng.randrange(330))
            filters = AuditFilter(
                employee_id=rng.choice(employee_ids), since=since, until=since + timedelta(days=30)
            )
            calls.append((i, lambda f=filters: page(events_for(cast["auditor"], f))))
        return calls

    measured = {
        "list fixed": sample(listing(cast["rep_fixed"])),
        "search fixed": sample(searching(list(FIXED_TERMS.values()))),
        "audit fixed": sample(auditing([cast["audited_fixed"].employee_id], 3)),
        "list proportional": sample(listing(cast["rep"])),
        "search proportional": sample(searching(PROPORTIONAL_TERMS)),
        "audit proportional": sample(auditing([cast[k].employee_id for k in USUAL], 3)),
    }
    return {
        what: {"samples": s, "matches": m, "by_term": b if what.startswith("search") else {}}
        for what, (s, m, b) in measured.items()
    }


def summary(what: str, matches: dict) -> str:
    """The result sizes a figure saw: per term for a search, else their range (and median)."""
    if what.startswith("search"):
        return ", ".join(f"{term} {count}" for term, count in matches.items())
    values = sorted(matches.values())
    if values[0] == values[-1]:
        return str(values[0])
    return f"{values[0]}–{values[-1]} (median {values[len(values) // 2]})"


def main() -> None:
    from bench.data import FIXED_AUDIT_EVENTS, FIXED_BOOK, FIXED_MATCHES, ensure

    sizes = scale()
    main_url = os.environ.get("BENCH_DATABASE_URL") or database_url("sqlite", sizes["customers"])
    vendor = vendor_of(main_url)
    passes = int(os.environ.get("BENCH_GROWTH_PASSES", "2"))
    urls = {}
    for n in sizes["growth"]:
        point = dict(sizes, customers=n, interactions=n, audit_events=n, opportunities=0)
        if n == sizes["customers"]:
            urls[n] = main_url
        else:
            urls[n] = database_url(vendor, n, main=False)
            ensure(urls[n], point)
    points: dict[int, dict] = {}
    for turn in range(passes):
        for n, url in urls.items():
            env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT))
            done = subprocess.run(
                [sys.executable, "-c", "import json, bench.growth as g; print(json.dumps(g.measure()))"],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            got = json.loads(done.stdout.strip().splitlines()[-1])
            point = points.setdefault(
                n, {what: {"samples": [], "matches": {}, "by_term": {}} for what in got}
            )
            for what, measured in got.items():
                point[what]["samples"] += measured["samples"]
                for term, samples in measured["by_term"].items():
                    point[what]["by_term"].setdefault(term, []).extend(samples)
                for label, count in measured["matches"].items():
                    # Audit windows differ from turn to turn: keep every count.
                    key = f"{turn}.{label}" if what.startswith("audit") else label
                    point[what]["matches"][key] = count
            brief = {what: round(statistics.median(m["samples"]), 2) for what, m in got.items()}
            print(f"  growth {vendor} {n} (turn {turn + 1}/{passes}): p50 ms {brief}", flush=True)
    setup(main_url)
    smallest, largest = min(points), max(points)
    span = f"{smallest} → {largest}"
    results = {n: {what: latency(m["samples"]) for what, m in point.items()} for n, point in points.items()}  # fmt: skip
    fixed_result = {
        "list": f"{FIXED_BOOK} customers",
        "search": f"{FIXED_MATCHES} matches a term",
        "audit": f"~{round(FIXED_AUDIT_EVENTS * 30 / 365)} events",
    }
    rows = []
    for kind in ("fixed", "proportional"):
        for read in ("list", "search", "audit"):
            what = f"{read} {kind}"
            for q in ("p50", "p99"):
                low, high = results[smallest][what][f"{q}_ms"], results[largest][what][f"{q}_ms"]
                details = {
                    "by_size": {n: results[n][what] for n in results},
                    "matches": {n: summary(what, points[n][what]["matches"]) for n in points},
                }
                if read == "search":  # each term's p50 and p99 by size
                    details["by_term"] = {
                        n: {t: latency(s) for t, s in points[n][what]["by_term"].items()}
                        for n in points
                    }
                if kind == "fixed":
                    label = f"growth {read} {q}, fixed result ({fixed_result[read]}), {span}"
                    target, met = f"≤ {GROWTH_LIMIT:g}× ({span})", high / low <= GROWTH_LIMIT
                else:
                    label = f"growth {read} {q}, result grows with table, {span}"
                    target, met = "(reported: the result grows too)", None
                rows.append(
                    row(
                        label,
                        high,
                        "ms",
                        baseline=low,
                        baseline_what=f"{q} at {smallest}",
                        target=target,
                        met=met,
                        **details,
                    )
                )
    for n, point in points.items():
        seen = "; ".join(f"{what}: {summary(what, m['matches'])}" for what, m in point.items())
        print(f"  results at {n}: {seen}", flush=True)
        for what, m in point.items():
            if m["by_term"]:
                terms = ", ".join(
                    f"{t} {statistics.median(s):.2f}/{latency(s)['p99_ms']:.2f}"
                    for t, s in m["by_term"].items()
                )
                print(f"  {what} at {n}, p50/p99 ms by term: {terms}", flush=True)
    report(
        "growth",
        rows,
        passes=passes,
        samples_per_pass=os.environ.get("BENCH_GROWTH_SAMPLES", "100"),
    )


if __name__ == "__main__":
    main()
