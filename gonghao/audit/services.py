"""Writing events (`record`) and proving the chain intact (`verify_chain`)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from gonghao.core import clock, context

from . import registry
from .chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from .models import ActorKind, AuditChainHead, AuditEvent

MAX_LABEL = 255


def _text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL characters; SQLite could, but both must agree.
    return value.replace("\x00", "")


# Python writes floats from 1e16 up in exponent form; jsonb gives them back as integers.
_EXPONENT_FLOAT = 1e16


def _json_clean(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_clean(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) >= _EXPONENT_FLOAT:
        return int(value)
    return value


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database gives back."""
    text = json.dumps(value or {}, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return _json_clean(json.loads(text))


def _normal_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return None


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for the fields whose value changed."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None:
        return {"actor_kind": ActorKind.SYSTEM, "actor_employee_id": "", "actor_id": None}
    if actor == ActorKind.ANONYMOUS:
        return {"actor_kind": ActorKind.ANONYMOUS, "actor_employee_id": "", "actor_id": None}
    return {
        "actor_kind": ActorKind.EMPLOYEE,
        "actor_employee_id": actor.employee_id,
        "actor_id": actor.pk,
    }


def _lock_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1,
        defaults={
            "last_seq": last["seq"] if last else 0,
            "last_hash": last["hash"] if last else GENESIS_HASH,
        },
    )
    return head


def record(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: Any = "",
    target_label: str = "",
    params: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    `actor` is an Employee, None for the system, or ActorKind.ANONYMOUS. `target` is a model
    instance (its type, pk and str() are taken) or the explicit target_* arguments.
    """
    if not registry.is_registered(action):
        raise ValueError(f"unregistered audit action {action!r}")
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)
    ctx = context.current()
    fields: dict[str, Any] = {
        **_actor_fields(actor),
        "action": action,
        "target_type": _text(target_type),
        "target_id": "" if target_id is None else _text(str(target_id)),
        "target_label": _text(target_label or "")[:MAX_LABEL],
        "params": _jsonable(params),
        "changes": _jsonable(changes),
        "request_id": _text(ctx.request_id),
        "client_ip": _normal_ip(ctx.client_ip),
        "user_agent": _text(ctx.user_agent),
        "channel": ctx.channel,
    }
    with transaction.atomic():
        head = _lock_head()
        fields["seq"] = head.last_seq + 1
        fields["occurred_at"] = clock.now()
        fields["prev_hash"] = head.last_hash
        fields["hash"] = compute_hash(fields, head.last_hash)
        event = AuditEvent.objects.create(**fields)
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


VERIFY_BATCH = 5000


def _events_in_order() -> Iterable[dict[str, Any]]:
    names = [*HASHED_FIELDS, "prev_hash", "hash"]
    last_seq = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values(*names)[:VERIFY_BATCH]
        )
        if not batch:
            return
        yield from batch
        last_seq = batch[-1]["seq"]


def verify_chain() -> VerifyResult:
    """Recompute every hash; name the first event whose content or link does not match."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for row in _events_in_order():
        if row["seq"] != expected_seq:
            return VerifyResult(False, checked, expected_seq, "missing")
        if row["prev_hash"] != expected_prev:
            return VerifyResult(False, checked, row["seq"], "link")
        if compute_hash(row, row["prev_hash"]) != row["hash"]:
            return VerifyResult(False, checked, row["seq"], "content")
        expected_prev = row["hash"]
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != checked or head.last_hash != expected_prev):
        return VerifyResult(False, checked, checked + 1, "truncated")
    return VerifyResult(True, checked)


def verify_and_record(*, actor: Any = None) -> VerifyResult:
    """Run the verification and leave an audit event saying who ran it and what it found."""
    result = verify_chain()
    with transaction.atomic():
        record(
            registry.AUDIT_VERIFIED,
            actor=actor,
            params={
                "result": "ok" if result.ok else f"broken at #{result.first_broken_seq}",
                "checked": result.checked,
            },
        )
    return result


def database_vendor() -> str:
    return connection.vendor
