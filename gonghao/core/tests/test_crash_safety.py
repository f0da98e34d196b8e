"""Killed mid-write, 20 times: nothing half-written, the audit chain intact, no 工号 twice.

A subprocess creates customers and allocates 工号 through the real services (each with its
audit event, in one transaction) and is SIGKILLed at a random moment, then started again.
Afterwards every business row has its audit event and every event its row, the chain verifies,
and on SQLite the file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from gonghao.accounts.models import EmployeeIdRecord
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_crm_cast

ROOT = Path(__file__).resolve().parents[3]
KILLS = 20


def database_url() -> str:
    """The URL of the test database this run created (not the configured one)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings.get("USER") or "")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{settings['NAME']}"


def writer_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": database_url(),
        "GONGHAO_VAR_DIR": str(tmp_path / "var"),
        "GONGHAO_SECRET_KEY": "crash-test-" + "k" * 50,
        "GONGHAO_CACHE_URL": "locmemcache://",
        "GONGHAO_DB_CONN_MAX_AGE": "0",
        "GONGHAO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def wait_until_the_server_drops_its_session(timeout: float = 10) -> None:
    """PostgreSQL rolls a killed client's transaction back once it sees the socket close: wait
    for that, so the next writer (and the next test) finds no lock left by a dead process."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IS NOT NULL AND state <> 'idle'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.02)


def run_and_kill(actor: str, env: dict[str, str], rng: random.Random) -> int:
    """Start the writer, wait until it has committed something, kill it at a random moment."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gonghao.testing.crash_writer", actor],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()  # blocks until the first commit (or an early death)
        if not first.strip().isdigit():
            process.kill()
            pytest.fail(f"the writer did not start writing: {first}{process.stderr.read()}")
        time.sleep(rng.uniform(0, 0.25))  # somewhere inside a later transaction
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        wait_until_the_server_drops_its_session()
        return int(first)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_writers_leave_no_half_writes(tmp_path):
    crm = make_crm_cast()
    actor = crm.head.employee_id
    env = writer_env(tmp_path)
    rng = random.Random(20261129)
    started = time.monotonic()
    for _kill in range(KILLS):
        run_and_kill(actor, env, rng)
    elapsed = time.monotonic() - started

    customers = set(
        Customer.objects.filter(name__startswith="崩溃测试").values_list("pk", flat=True)
    )
    created = list(
        AuditEvent.objects.filter(action="customer.create").values_list("target_id", flat=True)
    )
    assert len(customers) >= KILLS, "the writer barely wrote anything"
    assert sorted(int(t) for t in created) == sorted(customers)  # each row ↔ its one event

    records = EmployeeIdRecord.objects.filter(purpose="crash test")
    allocated = list(
        AuditEvent.objects.filter(action="employee_id.allocate", params__purpose="crash test")
        .values_list("target_id", flat=True)
    )
    assert sorted(int(t) for t in allocated) == sorted(records.values_list("pk", flat=True))
    all_ids = list(EmployeeIdRecord.objects.values_list("employee_id", flat=True))
    assert len(all_ids) == len(set(all_ids)), "a 工号 was issued twice"
    sequences = sorted(EmployeeIdRecord.objects.values_list("sequence", flat=True))
    assert len(sequences) == len(set(sequences))

    result = verify_chain()
    assert result.ok, result
    assert result.checked == AuditEvent.objects.count()

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchall() == [("ok",)]
    assert elapsed < 120, f"{KILLS} kill/restart cycles took {elapsed:.0f}s"
