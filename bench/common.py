"""What every benchmark script shares: the bench database, the scale, timing, and the report.

A benchmark script (see bench/README.md) calls `setup()` first, which points Django at the
bench database prepared by `bench/run.py` (or prepares it), then measures, then `report()`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", HERE / "results"))
VAR = ROOT / "var" / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_NAME = os.environ.get("BENCH_PG_NAME", "bench_gonghao")  # one per checkout benching at once

SCALES = {
    "full": {
        "customers": 1_000_000,
        "interactions": 1_000_000,
        "audit_events": 1_000_000,
        "employees": 200,
        "growth": (10_000, 100_000, 1_000_000),
        "writes": 2_000,
        "samples": 200,
        "load_seconds": 10,
        "import_rows": 100_000,
    },
    "small": {
        "customers": 20_000,
        "interactions": 20_000,
        "audit_events": 20_000,
        "employees": 200,
        "growth": (5_000, 10_000, 20_000),  # from 5,000 the rep fills a 50-row page
        "writes": 1_200,
        "samples": 60,
        "load_seconds": 4,
        "import_rows": 10_000,
    },
}


def scale() -> dict[str, Any]:
    """Sizes for this run: BENCH_SCALE=full|small, each overridable (BENCH_CUSTOMERS=…)."""
    name = os.environ.get("BENCH_SCALE", "full")
    sizes = dict(SCALES[name], scale=name)
    knobs = ("customers", "interactions", "opportunities", "audit_events", "employees", "writes")
    for key in (*knobs, "samples", "import_rows"):
        if os.environ.get(f"BENCH_{key.upper()}"):
            sizes[key] = int(os.environ[f"BENCH_{key.upper()}"])
    if os.environ.get("BENCH_LOAD_SECONDS"):
        sizes["load_seconds"] = float(os.environ["BENCH_LOAD_SECONDS"])
    if os.environ.get("BENCH_GROWTH"):
        sizes["growth"] = tuple(int(n) for n in os.environ["BENCH_GROWTH"].split(","))
    # Opportunities for the dashboard: one for every two customers unless set.
    sizes.setdefault("opportunities", sizes["customers"] // 2)
    return sizes


def postgres_server_url() -> str | None:
    """The PostgreSQL server to bench on, if any (GONGHAO_TEST_PG or a postgres DATABASE_URL)."""
    for name in ("GONGHAO_TEST_PG", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgres"):
            return url
    return None


def database_url(vendor: str, customers: int, *, main: bool = True) -> str:
    """The bench database for a vendor and size: never the product's own database."""
    suffix = "" if main else f"_{customers}"
    if vendor == "sqlite":
        VAR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{VAR}/bench{suffix or '-' + str(customers)}.sqlite3"
    server = postgres_server_url()
    if server is None:
        raise SystemExit("no PostgreSQL server: set GONGHAO_TEST_PG")
    base = server.rsplit("/", 1)[0]
    return f"{base}/{PG_NAME}{suffix}"


def scratch_url(vendor: str, name: str) -> str:
    """A database of a script's own (e.g. the import's), beside the shared bench data."""
    if vendor == "sqlite":
        VAR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{VAR}/scratch-{name}.sqlite3"
    server = postgres_server_url()
    if server is None:
        raise SystemExit("no PostgreSQL server: set GONGHAO_TEST_PG")
    return f"{server.rsplit('/', 1)[0]}/{PG_NAME}_scratch_{name}"


def load_average() -> list[float]:
    """The machine's load (1, 5, 15 min): on a shared machine it stretches every figure."""
    return [round(x, 1) for x in os.getloadavg()]


def vendor_of(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def setup(url: str | None = None) -> str:
    """Configure Django on the bench database (BENCH_DATABASE_URL, else `url`). Returns it."""
    url = url or os.environ.get("BENCH_DATABASE_URL")
    if not url:
        sizes = scale()
        url = database_url("sqlite", sizes["customers"])
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("GONGHAO_CACHE_URL", "locmemcache://")
    os.environ.setdefault("GONGHAO_LOCAL_HTTP", "1")
    import django

    django.setup()
    return url


def build_static_manifest() -> None:
    """Pages name their static files through whitenoise's manifest: build it (a fresh checkout
    has none), before rendering any page."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_in_turns(fns: dict[str, Callable[[], Any]], repeat: int, warmup: int = 2) -> dict:
    """Samples of each function, taken one of each in turn (the order rotating): what a
    neighbour's load or a cache does to one sample it does to the others' nearby samples."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    names = list(fns)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(repeat):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            start = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def latency(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(percentile(samples, 0.99), 3),
        "n": len(samples),
    }


def row(
    what: str,
    figure: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_what: str = "",
    target: str = "",
    met: bool | None = None,
    ratio: float | None = None,
    **details: Any,
) -> dict[str, Any]:
    """One line of the table. `ratio` defaults to figure / baseline."""
    if ratio is None and baseline:
        ratio = figure / baseline
    return {
        "what": what,
        "figure": round(figure, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "baseline_what": baseline_what,
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": met,
        "details": details,
    }


def report(name: str, rows: list[dict[str, Any]], **context: Any) -> None:
    """Print the rows and store them in bench/results/<name>.json under this database."""
    from django.db import connection

    vendor = connection.vendor
    for line in rows:
        print(format_row(vendor, line), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[vendor] = {
        "scale": scale(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": load_average(),
        "rows": rows,
        **context,
    }
    path.write_text(json.dumps(stored, ensure_ascii=False, indent=2, default=str) + "\n")


def format_row(vendor: str, line: dict[str, Any]) -> str:
    verdict = {True: "MET", False: "MISSED", None: "-"}[line["met"]]
    baseline = (
        f"{line['baseline']:g} ({line['baseline_what']})" if line["baseline"] is not None else "-"
    )
    ratio = f"{line['ratio']:.2f}" if line["ratio"] is not None else "-"
    return (
        f"[{vendor:10}] {line['what']:<48} {line['figure']:>10g} {line['unit']:<6}"
        f" | baseline {baseline} | ratio {ratio} | target {line['target'] or '-'} | {verdict}"
    )
