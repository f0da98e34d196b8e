"""Audited write: creating a customer through the service (permission, validation, search
index, audit event with its hash chain) against the same service work without the audit event
(the same checks, the same row and search postings). One writer on every database; 8
concurrent writers on PostgreSQL (SQLite has a single writer).

The concurrent writers are processes, each with its own connection, as gunicorn's workers are:
threads of one interpreter would measure the GIL, not the database."""

from __future__ import annotations

import itertools
import multiprocessing
import statistics
import time

from bench.common import report, row, scale, setup

WRITERS = 8
TURNS = 6
counter = itertools.count()


def payload() -> dict:
    n = next(counter)
    return {"name": f"基准客户{n}号贸易", "phone": f"139{n % 10**8:08d}", "level": "B"}


def main() -> None:
    setup()
    from django.db import connection, connections, transaction

    from bench.data import actors
    from gonghao.access.services import require
    from gonghao.core import clock
    from gonghao.crm import permissions as perms
    from gonghao.crm.models import Customer
    from gonghao.crm.services import _check_owner_in_reach, _refuse_hidden, create_customer
    from gonghao.crm.validation import clean_customer_fields

    sizes = scale()
    rep = actors()["writer"]

    def audited() -> None:
        create_customer(actor=rep, data=payload())

    def unaudited() -> None:
        # create_customer without its audit event: the same checks and the same row (search
        # postings included), nothing else.
        data = payload()
        require(rep, perms.CREATE)
        _refuse_hidden(rep, perms.CREATE, {k for k, v in data.items() if v not in (None, "")})
        cleaned = clean_customer_fields(data, partial=False)
        _check_owner_in_reach(rep, perms.CREATE, rep)
        with transaction.atomic():
            customer = Customer(**cleaned)
            customer.owner = rep
            customer.owner_department_id = rep.department_id
            customer.owner_since = clock.now()
            customer.created_by = rep
            customer.updated_by = rep
            customer.save()

    def per_write(fn, n: int) -> tuple[float, float]:
        """Wall-clock and this process's CPU milliseconds per write."""
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        return (
            (time.perf_counter() - start) / n * 1000,
            (time.process_time() - start_cpu) / n * 1000,
        )

    n = sizes["writes"]
    for _ in range(20):  # warm both paths' caches before the clock starts
        unaudited()
        audited()
    # Interleaved turns, the side that goes first alternating, and the median turn of each
    # side: drift (cache, checkpoints, a neighbour's load) hits both alike, and one disturbed
    # turn does not decide the figure.
    plain_turns, audited_turns = [], []
    for turn in range(TURNS):
        sides = [(unaudited, plain_turns), (audited, audited_turns)]
        for fn, turns in sides if turn % 2 == 0 else reversed(sides):
            turns.append(per_write(fn, max(1, n // TURNS)))
    plain_ms = statistics.median(wall for wall, _cpu in plain_turns)
    audited_ms = statistics.median(wall for wall, _cpu in audited_turns)
    turn_ratios = [a[0] / p[0] for a, p in zip(audited_turns, plain_turns, strict=True)]
    # SQLite works in this process: its CPU time is the write's cost without a neighbour's load.
    cpu_ratio = statistics.median(cpu for _wall, cpu in audited_turns) / statistics.median(
        cpu for _wall, cpu in plain_turns
    )
    rows = [
        row(
            "audited create customer, one writer",
            audited_ms,
            "ms",
            baseline=plain_ms,
            baseline_what="same insert, no audit",
            target="≤ 1.3×",
            met=audited_ms / plain_ms <= 1.3,
            writes=n,
            turn_ratios=[round(r, 2) for r in turn_ratios],
            cpu_ratio=round(cpu_ratio, 2),
        )
    ]

    if connection.vendor == "postgresql":

        def writer_process(fn, index: int, start_at: float, stop_at: float, done) -> None:
            global counter
            counter = itertools.count(10_000_000 * (index + 1) + next(counter))
            count = 0
            connection.ensure_connection()
            time.sleep(max(0.0, start_at - time.time()))
            while time.time() < stop_at:
                fn()
                count += 1
            connections.close_all()
            done.put(count)

        def throughput(fn, seconds: float) -> float:
            # Forked children must not share the parent's connection: close it before forking.
            connections.close_all()
            context = multiprocessing.get_context("fork")
            done = context.Queue()
            start_at = time.time() + 1.0  # every writer connected before the clock starts
            stop_at = start_at + seconds
            processes = [
                context.Process(target=writer_process, args=(fn, i, start_at, stop_at, done))
                for i in range(WRITERS)
            ]
            for process in processes:
                process.start()
            total = sum(done.get(timeout=seconds + 120) for _ in processes)
            for process in processes:
                process.join()
            return total / seconds

        seconds = max(3.0, sizes["load_seconds"])
        plain_rate = throughput(unaudited, seconds)
        audited_rate = throughput(audited, seconds)
        rows.append(
            row(
                f"audited create customer, {WRITERS} concurrent writers",
                audited_rate,
                "w/s",
                baseline=plain_rate,
                baseline_what="unaudited w/s",
                target="≥ 0.7 of unaudited",
                met=audited_rate / plain_rate >= 0.7,
            )
        )
    report("audited_write", rows)


if __name__ == "__main__":
    main()
