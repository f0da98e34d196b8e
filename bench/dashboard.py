"""Dashboard page and API time over N customers and M interactions, for an all-scope viewer
and a one-department viewer; baseline: the same SQL statements run bare, in the same run.

Usage: python bench/dashboard.py [CUSTOMERS] [INTERACTIONS]   (defaults 100000 1000000)
DATABASE_URL picks the database: a PostgreSQL URL names a server, on which a fresh database
`bench_dashboard` is created (dropped first); default a fresh SQLite file in bench/.data.
Prints p50/p99 in ms and writes bench/results/dashboard[-postgresql].json. BENCH_REPEAT sets
the samples per figure (default 20); BENCH_REUSE=1 measures again on the last data.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TARGET_P50_MS = 500  # an interactive page: half a second at 100k customers / 1M interactions
PG_DATABASE = "bench_dashboard"
# BENCH_REUSE=1 measures again on the data a previous run generated (migrated first).
REUSE = os.environ.get("BENCH_REUSE") == "1"


def fresh_postgres(url: str) -> str:
    """The URL of a newly created database beside the one `url` names."""
    import psycopg

    base, _sep, _name = url.rpartition("/")
    if REUSE:
        return f"{base}/{PG_DATABASE}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        connection.execute(f"CREATE DATABASE {PG_DATABASE}")
    return f"{base}/{PG_DATABASE}"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghao.settings")
    os.environ["GONGHAO_LOCAL_HTTP"] = "1"
    os.environ.setdefault("GONGHAO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        os.environ["DATABASE_URL"] = fresh_postgres(url)
    else:
        data = HERE / ".data"
        data.mkdir(exist_ok=True)
        if not REUSE:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{data}/dashboard.sqlite3{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{data}/dashboard.sqlite3"
    os.environ.setdefault("GONGHAO_CACHE_URL", "locmemcache://")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.GONGHAO_MFA_REQUIRED_ROLES = []
    settings.GONGHAO_MFA_REQUIRED_FOR_ALL = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm caches and the connection once, outside the samples
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def make_viewers() -> dict:
    """An all-scope viewer (system administrator) and the head of one leaf department."""
    from gonghao.access.models import Role, RoleGrant
    from gonghao.accounts.models import Employee
    from gonghao.core import clock
    from gonghao.org.models import Department

    roles = {r.code: r for r in Role.objects.all()}
    staff = list(Employee.objects.order_by("pk")[:3])
    admin, head, marketer = staff[0], staff[1], staff[2]
    head.department = Department.objects.get(code="D01")
    head.save(update_fields=["department"])
    now = clock.now()
    RoleGrant.objects.filter(employee__in=staff).delete()
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(employee=admin, role=roles["system_admin"], granted_at=now),
            RoleGrant(employee=head, role=roles["department_head"], granted_at=now),
            RoleGrant(employee=marketer, role=roles["marketing"], granted_at=now),
        ]
    )
    return {"all_scope": admin, "one_department": head, "marketing_all_scope": marketer}


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    interactions = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    opportunities = customers // 2
    repeat = int(os.environ.get("BENCH_REPEAT", "20"))
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import build, build_activity
    from gonghao.reports.dashboards import DashboardFilter, dashboard_for

    started = time.perf_counter()
    if not REUSE:
        build(customers)
        build_activity(interactions, opportunities)
    generated = time.perf_counter() - started
    print(
        f"{connection.vendor}: {customers} customers, {interactions} interactions, "
        f"{opportunities} opportunities generated in {generated:.1f}s"
    )
    with connection.cursor() as cursor:
        # What autovacuum does on a live server: statistics, and the visibility map that lets
        # PostgreSQL answer from the covering indexes alone (index-only scans).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    viewers = make_viewers()

    results: dict = {
        "benchmark": "dashboard",
        "database": connection.vendor,
        "customers": customers,
        "interactions": interactions,
        "opportunities": opportunities,
        "generation_s": round(generated, 1),
        "repeat": repeat,
        "target": f"page and API p50 <= {TARGET_P50_MS} ms",
        "baseline": "the same SQL statements the dashboard runs, executed bare on a cursor",
        "viewers": {},
        # The machine is shared: a load above its 2 cores stretches every figure alike.
        "load_average_before": [round(x, 1) for x in os.getloadavg()],
    }
    for label, viewer in viewers.items():
        client = Client()
        client.force_login(viewer)
        for period in (30, 365):
            filters = DashboardFilter(period=period)

            def service(viewer=viewer, filters=filters):
                # A fresh instance each time: no permission cache carried between requests.
                viewer.refresh_from_db()
                for attr in ("_gonghao_grants",):
                    viewer.__dict__.pop(attr, None)
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

            row = {
                "queries": len(statements),
                "service": summary(timed(service, repeat)),
                "page": summary(timed(page, repeat)),
                "api": summary(timed(api, repeat)),
                "bare_sql": summary(timed(bare, repeat)),
            }
            row["page_ratio_to_bare"] = round(
                row["page"]["p50_ms"] / max(row["bare_sql"]["p50_ms"], 0.01), 2
            )
            row["met"] = (
                row["page"]["p50_ms"] <= TARGET_P50_MS and row["api"]["p50_ms"] <= TARGET_P50_MS
            )
            results["viewers"][f"{label}/{period}d"] = row
            print(
                f"{label:>20} {period:>3}d  queries {row['queries']:2}"
                f" | page p50 {row['page']['p50_ms']:7.1f} p99 {row['page']['p99_ms']:7.1f}"
                f" | api p50 {row['api']['p50_ms']:7.1f} p99 {row['api']['p99_ms']:7.1f}"
                f" | bare SQL p50 {row['bare_sql']['p50_ms']:7.1f}"
                f" | ratio {row['page_ratio_to_bare']:.2f}"
                f" | {'met' if row['met'] else 'MISSED'}"
            )
    results["met"] = all(row["met"] for row in results["viewers"].values())
    results["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    suffix = "" if connection.vendor == "sqlite" else f"-{connection.vendor}"
    out = HERE / "results" / f"dashboard{suffix}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
