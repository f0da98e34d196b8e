"""Customer search over N customers: the scoped, masked service path vs a bare LIKE query.

Usage: python bench/search_customers.py [N]   (DATABASE_URL picks the database; default a
fresh SQLite file in bench/.data). Prints p50/p99 in ms and writes bench/results/search.json.
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


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghao.settings")
    if "DATABASE_URL" not in os.environ:
        data = HERE / ".data"
        data.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data}/search.sqlite3{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{data}/search.sqlite3"
    os.environ.setdefault("GONGHAO_CACHE_URL", "locmemcache://")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ["DATABASE_URL"].startswith("postgres"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def timed(fn, repeat: int) -> list[float]:
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


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    setup_django()
    from django.db import connection

    from bench.data import build
    from gonghao.crm.models import Customer
    from gonghao.crm.queries import CustomerFilter, customers_for, present

    started = time.perf_counter()
    actors = build(size)
    print(
        f"{connection.vendor}: {size} customers generated in {time.perf_counter() - started:.1f}s"
    )

    terms = ["上海", "科技", "张伟", "Dragon", "13812", "有限公司99", "王", "Robotics Co. 4"]

    def scoped(actor, term):
        def run():
            page = customers_for(actor, CustomerFilter(q=term))
            rows = [present(c, actor) for c in page[:50]]
            return rows, page.count()

        return run

    def bare(term):
        def run():
            queryset = Customer.objects.filter(name__contains=term)
            return list(queryset.values("id", "name", "phone")[:50]), queryset.count()

        return run

    results = {"database": connection.vendor, "customers": size, "rows": []}
    for term in terms:
        row = {
            "term": term,
            "service_all_scope": summary(timed(scoped(actors["agent"], term), 20)),
            "sales_own_scope": summary(timed(scoped(actors["rep"], term), 20)),
            "bare_like": summary(timed(bare(term), 20)),
        }
        results["rows"].append(row)
        print(
            f"{term:>16}  all-scope p50 {row['service_all_scope']['p50_ms']:7.1f} ms"
            f"  p99 {row['service_all_scope']['p99_ms']:7.1f}"
            f" | own-scope p50 {row['sales_own_scope']['p50_ms']:6.1f}"
            f" | bare LIKE p50 {row['bare_like']['p50_ms']:7.1f}"
            f"  ratio {row['service_all_scope']['p50_ms'] / max(row['bare_like']['p50_ms'], 0.01):.2f}"
        )
    out = HERE / "results" / f"search-{connection.vendor}-{size}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
