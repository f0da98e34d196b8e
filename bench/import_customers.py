"""Customer import at volume: the whole audited path (read, validate every row, look for
duplicates, bulk insert, search index, link each record to its batch, one audit event) vs a raw
executemany of the same, already clean rows into the same table, in the same run; CSV and xlsx.

The import writes BENCH_IMPORT_ROWS customers (100,000 at full scale, 10,000 at small) into a
scratch database of its own (`scratch-import_<rows>` beside the shared bench data, generated
once with its employees and reused), emptied of customers before and after each measurement: the shared
bench database is not touched.
"""

from __future__ import annotations

import csv
import io
import random
import time

from bench.common import report, row, scale, scratch_url, setup, vendor_of

TARGET_ROWS_PER_S = 50_000
TARGET_RATIO = 0.2


def scratch_database() -> str:
    """The import's own database, with the bench employees and no customers."""
    import os

    from bench.data import ensure

    shared = os.environ.get("BENCH_DATABASE_URL", "sqlite://")
    sizes = scale()
    # One per size: runs at two sizes (a quick one beside a long one) do not share a database.
    url = scratch_url(vendor_of(shared), f"import_{sizes['import_rows']}")
    empty = dict(sizes, customers=0, interactions=0, opportunities=0, audit_events=0)
    ensure(url, empty)
    return url


HEADER = ["名称", "级别", "来源", "状态", "负责人工号", "电话", "邮箱", "标签", "备注"]


def make_rows(size: int, owners: list[str]) -> list[list[str]]:
    from bench.data import customer_name, phone

    rng = random.Random(11)
    sources = ["referral", "website", "展会", "Cold call", ""]
    rows = []
    for n in range(size):
        number = phone(rng)
        rows.append(
            [
                customer_name(rng, n)[1],
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
    """Empty the scratch database of customers (and what hangs on them), fast."""
    from django.db import connection, transaction

    from gonghao.crm.models import Customer
    from gonghao.crm.search_index import CustomerGram
    from gonghao.transfer.models import ImportBatch, ImportedRecord

    tables = [
        ImportedRecord._meta.db_table,
        ImportBatch._meta.db_table,
        CustomerGram._meta.db_table,
        Customer._meta.db_table,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_customer")
            cursor.execute("VACUUM ANALYZE crm_customergram")


def raw_executemany(
    actor, rows: list[list[str]], multirow: bool = False, postings: bool = False
) -> float:
    """The baseline: the same rows, already clean, inserted by one executemany, no checks.

    `multirow` sends the same rows as multi-row INSERTs of 1,000 instead (a second, stricter
    baseline: on PostgreSQL a plain executemany costs a round trip per row). `postings` also
    writes the rows' search postings by a second executemany (about 16 per customer), as the
    import must: a figure for the JSON beside the target's baseline, which writes none."""
    from django.db import connection, transaction

    from gonghao.core import clock
    from gonghao.crm.models import Customer, fold
    from gonghao.crm.search_index import CustomerGram, grams_of

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
        if postings:
            cursor.execute(f"SELECT id, name_folded, phone_digits FROM {table}")
            grams = [
                (gram, pk) for pk, folded, digits in cursor.fetchall()
                for gram in grams_of(folded, digits)
            ]  # fmt: skip
            cursor.executemany(
                f"INSERT INTO {CustomerGram._meta.db_table} (gram, customer_id) VALUES (%s, %s)",
                grams,
            )
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


def importer_of(actors):
    """The bench's sales rep made head of the root department (idempotent), so they may give
    imported customers to anyone."""
    from gonghao.access.models import RoleGrant
    from gonghao.access.services import grant_role
    from gonghao.org.models import Department

    importer = actors["rep"]
    root = Department.objects.get(code="HQ")
    if importer.department_id != root.pk:
        importer.department = root
        importer.save(update_fields=["department"])
    if not RoleGrant.objects.filter(employee=importer, role__code="department_head").exists():
        grant_role(importer, "department_head", actor=None, check_permission=False)
    return importer


def main() -> None:
    size = scale()["import_rows"]
    setup(scratch_database())
    from django.db import connection

    from bench.data import actors as bench_actors
    from bench.data import random_staff
    from gonghao.crm.models import Customer

    actors = bench_actors()
    importer = importer_of(actors)
    clear_imported()
    owners = list(
        random_staff().exclude(pk=actors["agent"].pk).values_list("employee_id", flat=True)
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
    multirow_seconds = raw_executemany(importer, rows, multirow=True)
    multirow_rate = size / multirow_seconds
    clear_imported()
    postings_rate = size / raw_executemany(importer, rows, postings=True)
    clear_imported()
    print(
        f"raw executemany {raw_rate:,.0f} rows/s; raw multi-row INSERT {multirow_rate:,.0f} rows/s;"
        f" raw executemany with the search postings {postings_rate:,.0f} rows/s",
        flush=True,
    )

    lines = []
    for file_format, content in files.items():
        try:
            seconds, _batch = timed_import(importer, f"customers.{file_format}", content)
            assert Customer.objects.count() == size
        finally:
            clear_imported()
        rate = size / seconds
        ratio = rate / raw_rate
        floor = f" and ≥ {TARGET_ROWS_PER_S:,} rows/s" if file_format == "csv" else ""
        met = ratio >= TARGET_RATIO and (file_format != "csv" or rate >= TARGET_ROWS_PER_S)
        lines.append(
            row(
                f"import {size:,} customers, {file_format}",
                rate,
                "rows/s",
                baseline=raw_rate,
                baseline_what="raw executemany",
                target=f"≥ {TARGET_RATIO} of raw{floor}",
                met=met,
                rows=size,
                bytes=len(content),
                seconds=round(seconds, 3),
                raw_multirow_rows_per_s=round(multirow_rate),
                ratio_to_raw_multirow=round(rate / multirow_rate, 3),
                raw_with_postings_rows_per_s=round(postings_rate),
                ratio_to_raw_with_postings=round(rate / postings_rate, 3),
            )
        )
    report("import_customers", lines, import_rows=size)


if __name__ == "__main__":
    main()
