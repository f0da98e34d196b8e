"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime
    actor: str
    actor_kind: str
    action: str
    summary: str
    target_type: str
    target_id: str
    target_label: str
    changes: dict[str, Any]
    request_id: str
    client_ip: str | None
    user_agent: str
    channel: str
    prev_hash: str
    hash: str


class AuditEventListOut(Schema):
    items: list[AuditEventOut]
    count: int


class VerifyOut(Schema):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str
