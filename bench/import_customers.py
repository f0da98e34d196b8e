"""Customer import at volume: the whole audited path (read, validate every row, look for
duplicates, bulk insert, link each record to its batch, one audit event) vs a raw executemany
of the same, already clean rows into the same table, in the same run.

Usage: python bench/import_customers.py [N]   (DATABASE_URL picks the database; default a
fresh SQLite file in bench/.data). Prints rows/s and the ratio for CSV and .xlsx and writes
bench/results/import_customers.json.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TARGET_ROWS_PER_S = 50_000
TARGET_RATIO = 0.2


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghao.settings")
    if "DATABASE_URL" not in os.environ:
        data = HERE / ".data"
        data.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data}/import.sqlite3{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{data}/import.sqlite3"
    os.environ.setdefault("GONGHAO_CACHE_URL", "locmemcache://")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ["DATABASE_URL"].startswith("postgres"):
        # flush cannot empty the append-only audit table: start from an empty schema instead.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


HEADER = ["名称", "级别", "来源", "状态", "负责人工号", "电话", "邮箱", "标签", "备注"]


def make_rows(size: int, owners: list[str]) -> list[list[str]]:
    from bench.data import company_name, phone

    rng = random.Random(11)
    sources = ["referral", "website", "展会", "Cold call", ""]
    rows = []
    for n in range(size):
        number = phone(rng)
        rows.append(
            [
                company_name(rng, n),
                rng.choice("ABCD"),
                rng.choice(sources),
                rng.choice(["lead", "active", "潜在客户", ""]),
                owners[n % len(owners)],
                f"{number[:3]} {number[3:7]} {number[7:]}" if n % 3 else number,
                f"buyer{n}@example.cn" if n % 4 == 0 else "",
                "VIP,华东" if n % 5 == 0 else "",
                "进口批次测试" if n % 7 == 0 else "",
            ]
        )
    return rows


def as_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def as_xlsx(rows) -> bytes:
    from gonghao.transfer.writers import write_xlsx

    return write_xlsx(HEADER, rows)


def clear_imported() -> None:
    from django.db import connection

    from gonghao.crm.models import Customer
    from gonghao.transfer.models import ImportBatch, ImportedRecord

    ImportedRecord.objects.all().delete()
    ImportBatch.objects.all().delete()
    Customer.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_customer")


def raw_executemany(actor, rows: list[list[str]], multirow: bool = False) -> float:
    """The baseline: the same rows, already clean, inserted by one executemany, no checks.

    `multirow` sends the same rows as multi-row INSERTs of 1,000 instead (a second, stricter
    baseline: on PostgreSQL a plain executemany costs a round trip per row)."""
    from django.db import connection, transaction

    from gonghao.core import clock
    from gonghao.crm.models import Customer, fold

    now = clock.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    owner_ids = dict(
        type(actor).objects.filter(employee_id__in={r[4] for r in rows}).values_list(
            "employee_id", "pk"
        )
    )
    departments = dict(type(actor).objects.values_list("pk", "department_id"))
    params = []
    for r in rows:
        digits = r[5].replace(" ", "")
        owner = owner_ids[r[4]]
        params.append(
            (
                "company", r[0], "", r[1], "", "lead", owner, departments[owner],
                "+86" + digits, digits, fold(r[0]), r[6], "", "", r[7], r[8],
                actor.pk, stamp, actor.pk, stamp,
            )
        )
    table = Customer._meta.db_table
    columns = (
        "kind, name, industry, level, source, status, owner_id, owner_department_id, phone, "
        "phone_digits, name_folded, email, id_number, address, tags, notes, created_by_id, "
        "created_at, updated_by_id, updated_at"
    )
    marks = ", ".join(["%s"] * 20)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if not multirow:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)
        else:
            for start in range(0, len(params), 1000):
                chunk = params[start : start + 1000]
                flat = [value for row in chunk for value in row]
                values = ", ".join([f"({marks})"] * len(chunk))
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", flat)
    return time.perf_counter() - started


def timed_import(actor, name: str, content: bytes) -> tuple[float, object]:
    from gonghao.transfer import services

    started = time.perf_counter()
    batch = services.import_file(
        actor=actor, kind="customers", file_name=name, content=content, commit=True
    )
    elapsed = time.perf_counter() - started
    assert batch.status == "committed", (batch.status, batch.errors[:5])
    return elapsed, batch


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    setup_django()
    from django.db import connection

    from bench.data import build
    from gonghao.access.services import grant_role
    from gonghao.crm.models import Customer

    actors = build(0, employees=200)
    importer = actors["rep"]
    # A department head of the root: the importer may give customers to anyone below.
    from gonghao.org.models import Department

    root = Department.objects.get(code="HQ")
    importer.department = root
    importer.save(update_fields=["department"])
    grant_role(importer, "department_head", actor=None, check_permission=False)
    owners = list(
        type(importer).objects.exclude(pk=actors["agent"].pk).values_list("employee_id", flat=True)
    )
    rows = make_rows(size, owners)
    files = {"csv": as_csv(rows)}
    started = time.perf_counter()
    files["xlsx"] = as_xlsx(rows)
    print(f"{connection.vendor}: {size} rows; xlsx written in {time.perf_counter() - started:.1f}s")

    raw_seconds = raw_executemany(importer, rows)
    assert Customer.objects.count() == size
    raw_rate = size / raw_seconds
    clear_imported()
    print(f"raw executemany: {raw_seconds:.2f}s = {raw_rate:,.0f} rows/s")
    multirow_seconds = raw_executemany(importer, rows, multirow=True)
    multirow_rate = size / multirow_seconds
    clear_imported()
    print(f"raw multi-row INSERT: {multirow_seconds:.2f}s = {multirow_rate:,.0f} rows/s")

    results = {
        "database": connection.vendor,
        "rows": size,
        "raw_executemany": {"seconds": round(raw_seconds, 3), "rows_per_s": round(raw_rate)},
        "raw_multirow_insert": {
            "seconds": round(multirow_seconds, 3),
            "rows_per_s": round(multirow_rate),
        },
        "target": {"csv_rows_per_s": TARGET_ROWS_PER_S, "ratio_to_raw": TARGET_RATIO},
        "formats": {},
    }
    for file_format, content in files.items():
        seconds, _batch = timed_import(importer, f"customers.{file_format}", content)
        assert Customer.objects.count() == size
        rate = size / seconds
        ratio = rate / raw_rate
        met = ratio >= TARGET_RATIO and (file_format != "csv" or rate >= TARGET_ROWS_PER_S)
        results["formats"][file_format] = {
            "bytes": len(content),
            "seconds": round(seconds, 3),
            "rows_per_s": round(rate),
            "ratio_to_raw": round(ratio, 3),
            "ratio_to_raw_multirow": round(rate / multirow_rate, 3),
            "met": met,
        }
        print(
            f"{file_format:>5}: {seconds:.2f}s = {rate:,.0f} rows/s, ratio to raw {ratio:.2f}"
            f" (multi-row {rate / multirow_rate:.2f}) ({'met' if met else 'MISSED'})"
        )
        clear_imported()
    out = HERE / "results" / "import_customers.json"
    if connection.vendor != "sqlite":
        out = HERE / "results" / f"import_customers-{connection.vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
