"""Growth: list, search and audit-query latency at several sizes (10k, 100k, 1M customers and
as many interactions and audit events; BENCH_GROWTH overrides). Each size has its own bench
database, generated once; the largest is the main bench database when the sizes agree."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import timedelta

from bench.common import ROOT, database_url, latency, report, row, scale, setup, vendor_of

GROWTH_LIMIT = 2.0


def measure() -> dict:
    """In a process of its own, on the database it was given: p50/p99 of the three reads."""
    setup()
    from bench.common import timed
    from bench.data import EPOCH, actors
    from gonghao.audit.queries import AuditFilter, events_for
    from gonghao.crm.queries import CustomerFilter, customers_for

    cast = actors()
    rng = random.Random(3)
    repeat = int(os.environ.get("BENCH_GROWTH_SAMPLES", "30"))

    def page(actor, filters):
        found = customers_for(actor, filters)
        return list(found[:50]), found.count()

    listing = timed(lambda: page(cast["rep"], CustomerFilter()), repeat)
    terms = ["张伟", "王芳", "Dragon Foods", "13812", "1866", "苏州李"]
    searching = []
    for term in terms:
        searching += timed(
            lambda term=term: page(cast["agent"], CustomerFilter(q=term)), repeat // 3 or 1
        )
    ids = [e.employee_id for e in actors().values()]
    auditing = []
    for _ in range(repeat):
        since = EPOCH + timedelta(days=rng.randrange(330))
        filters = AuditFilter(
            employee_id=rng.choice(ids), since=since, until=since + timedelta(days=30)
        )
        auditing += timed(
            lambda filters=filters: page_events(events_for(cast["auditor"], filters)), 1, 0
        )
    return {"list": latency(listing), "search": latency(searching), "audit": latency(auditing)}


def page_events(found):
    return list(found[:50]), found.count()


def main() -> None:
    from bench.data import ensure

    sizes = scale()
    main_url = os.environ.get("BENCH_DATABASE_URL") or database_url("sqlite", sizes["customers"])
    vendor = vendor_of(main_url)
    points = {}
    for n in sizes["growth"]:
        point = dict(sizes, customers=n, interactions=n, audit_events=n, opportunities=0)
        if n == sizes["customers"]:
            url = main_url
        else:
            url = database_url(vendor, n, main=False)
            ensure(url, point)
        env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-c", "import json, bench.growth as g; print(json.dumps(g.measure()))"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        points[n] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  growth {vendor} {n}: {points[n]}", flush=True)
    setup(main_url)
    smallest, largest = min(points), max(points)
    rows = []
    for what in ("list", "search", "audit"):
        low, high = points[smallest][what]["p50_ms"], points[largest][what]["p50_ms"]
        rows.append(
            row(
                f"growth {what} p50, {smallest} → {largest}",
                high,
                "ms",
                baseline=low,
                baseline_what=f"p50 at {smallest}",
                target=f"≤ {GROWTH_LIMIT:g}× ({smallest} → {largest})",
                met=high / low <= GROWTH_LIMIT,
                by_size={n: points[n][what] for n in points},
            )
        )
    report("growth", rows)


if __name__ == "__main__":
    main()
