"""Audit API: filtered, paginated events for auditors; chain verification."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from gonghao.access.services import require
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, IsoDateTime, paginate

from .models import AuditEvent
from .queries import AuditFilter, events_for
from .schemas import AuditEventListOut, VerifyOut
from .services import verify_and_record

router = Router()


def event_out(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor": event.actor_display,
        "actor_kind": event.actor_kind,
        "action": event.action,
        "summary": event.summary,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "changes": event.changes,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent,
        "channel": event.channel,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@router.get(
    "",
    response={200: AuditEventListOut, **READ_ERRORS},
    summary="List audit events (newest first) with filters",
)
def list_events(
    request: HttpRequest,
    employee_id: str = Query("", max_length=64, description="the actor's 工号"),
    action: str = Query("", max_length=64, description="an action code, or a prefix like auth.*"),
    target_type: str = Query("", max_length=64),
    target_id: str = Query("", max_length=64),
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    limit: int = 50,
    offset: int = 0,
):
    queryset = events_for(
        request.auth,
        AuditFilter(employee_id, action, target_type, target_id, since, until),
    )
    items, count = paginate(queryset, limit, offset)
    return {"items": [event_out(e) for e in items], "count": count}


@router.post(
    "/verify",
    response={200: VerifyOut, **WRITE_ERRORS},
    summary="Recompute the hash chain and report the first broken event",
)
def verify(request: HttpRequest):
    require(request.auth, "audit.verify")
    result = verify_and_record(actor=request.auth)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_broken_seq": result.first_broken_seq,
        "reason": result.reason,
    }
