"""The audit log queried by 工号 and a time range (the viewer's query: first page and count)."""

from __future__ import annotations

import random
from datetime import timedelta

from bench.common import latency, report, row, scale, setup, timed

TARGET_P99_MS = 20.0
PAGE = 50


def main() -> None:
    setup()
    from bench.data import EPOCH, actors, random_staff
    from gonghao.audit.models import AuditEvent
    from gonghao.audit.queries import AuditFilter, events_for

    sizes = scale()
    auditor = actors()["auditor"]
    ids = list(random_staff().values_list("employee_id", flat=True))
    rng = random.Random(5)
    samples: list[float] = []
    sizes_seen: list[int] = []
    for _ in range(sizes["samples"]):
        since = EPOCH + timedelta(days=rng.randrange(330))
        filters = AuditFilter(
            employee_id=rng.choice(ids), since=since, until=since + timedelta(days=30)
        )

        def run(filters=filters):
            found = events_for(auditor, filters)
            return list(found[:PAGE]), found.count()

        samples += timed(run, 1, warmup=0)
        sizes_seen.append(run()[1])
    result = latency(samples)
    report(
        "audit_query",
        [
            row(
                f"audit query by 工号 + 30 days over {AuditEvent.objects.count()} events, p99",
                result["p99_ms"],
                "ms",
                target=f"≤ {TARGET_P99_MS:g} ms",
                met=result["p99_ms"] <= TARGET_P99_MS,
                p50_ms=result["p50_ms"],
                median_matches=sorted(sizes_seen)[len(sizes_seen) // 2],
            )
        ],
    )


if __name__ == "__main__":
    main()
