"""`make bench`: generate (or reuse) the bench databases, then run every benchmark script on
each database and print the table. See bench/README.md for the script convention.

Usage: python bench/run.py [name ...]   (names of bench/*.py scripts; default all of them)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import (  # noqa: E402
    RESULTS,
    ROOT,
    database_url,
    format_row,
    postgres_server_url,
    scale,
)

NOT_BENCHMARKS = {"common", "data", "loadgen", "run", "settings", "urls", "__init__"}


def scripts() -> list[str]:
    """bench/*.py files with a main() run under `if __name__ == "__main__":`."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS or path.stem.startswith("_"):
            continue
        text = path.read_text()
        if "def main(" in text and '__name__ == "__main__"' in text:
            found.append(path.stem)
    return found


def main() -> int:
    from bench.data import ensure

    chosen = sys.argv[1:] or scripts()
    sizes = scale()
    vendors = ["sqlite"] + (["postgresql"] if postgres_server_url() else [])
    if os.environ.get("BENCH_DATABASES"):
        vendors = os.environ["BENCH_DATABASES"].split(",")
    started = time.time()
    failed: list[str] = []
    print(f"bench scale {sizes['scale']}: {json.dumps(sizes)}; databases: {vendors}", flush=True)
    for vendor in vendors:
        url = database_url(vendor, sizes["customers"])
        ensure(url, sizes)
        env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT))
        env.pop("DATABASE_URL", None)
        for name in chosen:
            print(f"== {vendor}: {name}", flush=True)
            began = time.time()
            done = subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=ROOT, env=env)
            print(f"   ({time.time() - began:.0f}s)", flush=True)
            if done.returncode != 0:
                failed.append(f"{vendor}:{name}")
    print(f"\n== summary ({time.time() - started:.0f}s)")
    for name in chosen:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        stored = json.loads(path.read_text())
        for vendor in vendors:
            for line in stored.get(vendor, {}).get("rows", []):
                print(format_row(vendor, line))
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
