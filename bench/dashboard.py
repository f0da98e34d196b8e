"""Dashboard page and API time over the generated customers, interactions (follow-ups) and
opportunities, for an all-scope viewer, a marketing viewer (aggregates without people) and a
one-department head, over 30 and 365 days; baseline: the same SQL statements the dashboard
runs, executed bare on a cursor, in the same run.

The issue's scale is 100,000 customers and 1,000,000 interactions:
`BENCH_CUSTOMERS=100000 BENCH_INTERACTIONS=1000000 make bench BENCH=dashboard`.
BENCH_DASHBOARD_REPEAT sets the samples per figure (default 20, 10 at small scale).
"""

from __future__ import annotations

import os

from bench.common import build_static_manifest, latency, report, row, scale, setup, timed

TARGET_P50_MS = 500  # an interactive page: half a second at 100k customers / 1M interactions


def borrow_viewers():
    """The viewers: the bench's department head as is, and two sales reps from the end of the
    staff list lent a system administrator's and a marketer's role for the run (give_back()
    restores their grants, so the shared data is left as found)."""
    from bench.data import actors, random_staff
    from gonghao.access.models import Role, RoleGrant
    from gonghao.core import clock

    roles = {r.code: r for r in Role.objects.all()}
    admin, marketer = list(random_staff().order_by("-pk")[:2])
    lent = [admin, marketer]
    saved = list(RoleGrant.objects.filter(employee__in=lent).values())
    RoleGrant.objects.filter(employee__in=lent).delete()
    now = clock.now()
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(employee=admin, role=roles["system_admin"], granted_at=now),
            RoleGrant(employee=marketer, role=roles["marketing"], granted_at=now),
        ]
    )

    def give_back() -> None:
        RoleGrant.objects.filter(employee__in=lent).delete()
        RoleGrant.objects.bulk_create([RoleGrant(**values) for values in saved])

    viewers = {"all scope": admin, "marketing": marketer, "one department": actors()["head"]}
    return viewers, give_back


def main() -> None:
    setup()
    build_static_manifest()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gonghao.crm.models import Customer, Interaction, Opportunity
    from gonghao.reports.dashboards import DashboardFilter, dashboard_for

    sizes = scale()
    repeat = int(
        os.environ.get("BENCH_DASHBOARD_REPEAT", "10" if sizes["scale"] == "small" else "20")
    )
    settings.GONGHAO_MFA_REQUIRED_ROLES = []
    settings.GONGHAO_MFA_REQUIRED_FOR_ALL = False
    counts = {
        "customers": Customer.objects.count(),
        "interactions": Interaction.objects.count(),
        "opportunities": Opportunity.objects.count(),
    }
    print(f"{connection.vendor}: {counts}", flush=True)
    viewers, give_back = borrow_viewers()
    rows = []
    try:
        for label, viewer in viewers.items():
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(viewer)
            for period in (30, 365):
                filters = DashboardFilter(period=period)

                def service(viewer=viewer, filters=filters):
                    # A fresh instance each time: no permission cache carried between requests.
                    viewer.refresh_from_db()
                    viewer.__dict__.pop("_gonghao_grants", None)
                    return dashboard_for(viewer, filters)

                with CaptureQueriesContext(connection) as captured:
                    service()
                statements = [q["sql"] for q in captured.captured_queries]

                def bare(statements=statements):
                    with connection.cursor() as cursor:
                        for sql in statements:
                            cursor.execute(sql)
                            cursor.fetchall()

                def page(client=client, period=period):
                    response = client.get(f"/dashboard/?period={period}")
                    assert response.status_code == 200, response.status_code

                def api(client=client, period=period):
                    response = client.get(f"/api/v1/dashboard?period={period}")
                    assert response.status_code == 200, response.content[:200]

                bare_lat = latency(timed(bare, repeat, warmup=1))
                for kind, fn in (("page", page), ("API", api)):
                    lat = latency(timed(fn, repeat, warmup=1))
                    rows.append(
                        row(
                            f"dashboard {kind}, {label}, {period} d, p50",
                            lat["p50_ms"],
                            "ms",
                            baseline=bare_lat["p50_ms"],
                            baseline_what="same SQL bare",
                            target=f"p50 ≤ {TARGET_P50_MS} ms",
                            met=lat["p50_ms"] <= TARGET_P50_MS,
                            p99_ms=lat["p99_ms"],
                            queries=len(statements),
                            samples=repeat,
                            **counts,
                        )
                    )
    finally:
        give_back()
    report("dashboard", rows, **counts)


if __name__ == "__main__":
    main()
