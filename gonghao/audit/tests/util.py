"""Small helpers shared by the audit tests: the chain head, events after a point, raw SQL."""

from __future__ import annotations

from typing import Any

from django.db import connection

from gonghao.audit.chain import GENESIS_HASH
from gonghao.audit.models import AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import chain_heads, record

TABLE = "audit_auditevent"


def head() -> tuple[int, str]:
    """(last_seq, last_hash) of the chain written last; the genesis when nothing was written.

    A test's single connection writes to chain 1, unless another connection (a killed writer's,
    not yet reaped) still held it when the test began.
    """
    return max(chain_heads().values(), default=(0, GENESIS_HASH))


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def events_after(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def actions_after(seq: int) -> list[str]:
    """The action codes written after `seq`, in the order they were written."""
    return [e.action for e in events_after(seq)]


def record_some(count: int, **kwargs: Any) -> list[AuditEvent]:
    """`count` audit.verify events (a code every installation has), numbered in params."""
    return [
        record(AUDIT_VERIFIED, params={"result": f"r{i}", "checked": i}, **kwargs)
        for i in range(count)
    ]


def execute(sql: str, params: list[Any] | None = None) -> int:
    """Run raw SQL on the default connection; the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
        return {row[0] for row in cursor.fetchall()}
