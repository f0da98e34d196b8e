"""Writing events (`record`) and proving the chain intact (`verify_chain`)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from gonghao.core import clock, context

from . import guards, registry
from .chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    assemble,
    canonical_ip,
    canonical_text,
    compute_hash,
    quote,
    stored_json,
)
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
    if isinstance(value, float):
        if value == 0:  # jsonb has no negative zero: -0.0 comes back as 0.0
            return 0.0
        if value.is_integer() and abs(value) >= _EXPONENT_FLOAT:
            return int(value)
    return value


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database gives back."""
    if not value:  # most events have no params or no changes: skip the round trip
        return {}
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


@dataclass(frozen=True)
class _Link:
    """Where the next event goes: its chain, its seq and the hash it links to."""

    chain: int
    seq: int
    prev_hash: str


def ensure_chain_heads(count: int | None = None) -> None:
    """Create the head rows of chains 1..count that are missing, each from its last event.

    Run after every migrate, so heads exist before writers need them (a head created inside a
    writer's transaction is invisible to other writers until it commits). Otherwise a head is
    only missing when someone deleted it: rebuilding it from the chain's last event, never
    from the genesis, keeps the chain unforked.
    """
    count = chain_count() if count is None else count
    present = set(AuditChainHead.objects.filter(pk__lte=count).values_list("pk", flat=True))
    missing = []
    for chain in range(1, count + 1):
        if chain in present:
            continue
        last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
        missing.append(
            AuditChainHead(
                pk=chain,
                last_seq=last["seq"] if last else 0,
                last_hash=last["hash"] if last else GENESIS_HASH,
            )
        )
    AuditChainHead.objects.bulk_create(missing, ignore_conflicts=True)


_READ_FIRST_HEAD = "SELECT last_seq, last_hash FROM audit_auditchainhead WHERE id = 1"


def _next_link_single_writer() -> _Link:
    """SQLite: one writer at a time (IMMEDIATE transactions), so one chain and no gaps in seq."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_FIRST_HEAD)
        head = cursor.fetchone()
        if head is None:
            ensure_chain_heads(1)
            cursor.execute(_READ_FIRST_HEAD)
            head = cursor.fetchone()
    return _Link(1, head[0] + 1, head[1])


# The head row is locked in a materialised CTE so that nextval() runs only once the lock is held:
# within a chain, seq then grows in the order the events are linked. A writer first tries its
# connection's own head, by key alone: it nearly always finds it free, and reads one row where
# reading every head (and every dead version of them, on a busy server) cost more than the insert.
# Within a transaction that has already appended to a chain, the head row still names the
# chain's last committed event; its tip is in a transaction-local setting (guards.py).
_CLAIM_OWN_HEAD = f"""
    WITH head AS MATERIALIZED (
        SELECT id, {guards.EFFECTIVE_HASH} AS last_hash FROM audit_auditchainhead
        WHERE id = %s FOR UPDATE SKIP LOCKED
    )
    SELECT id, last_hash, nextval('audit_event_seq') FROM head
"""  # noqa: S608 (constants only)
# A writer that lost its own chain takes the free chain appended to least recently: one no other
# writer keeps to, if any (taking the lowest free one took another writer's idle chain, whose
# writer then took the next one's: with every writer on a chain of its own, they kept
# displacing each other).
_CLAIM_FREE_HEAD = f"""
    WITH head AS MATERIALIZED (
        SELECT id, {guards.EFFECTIVE_HASH} AS last_hash FROM audit_auditchainhead WHERE id <= %s
        ORDER BY last_seq, id LIMIT 1 FOR UPDATE SKIP LOCKED
    )
    SELECT id, last_hash, nextval('audit_event_seq') FROM head
"""  # noqa: S608 (constants only)
_WAIT_FOR_HEAD = f"""
    WITH head AS MATERIALIZED (
        SELECT id, {guards.EFFECTIVE_HASH} AS last_hash FROM audit_auditchainhead
        WHERE id = %s FOR UPDATE
    )
    SELECT id, last_hash, nextval('audit_event_seq') FROM head
"""  # noqa: S608 (constants only)


def _next_link_concurrent(count: int) -> _Link:
    """PostgreSQL: lock the first free chain head, this connection's own chain first.

    SKIP LOCKED never skips a row the transaction itself holds, so every event of a transaction
    goes to the one chain it locked first, and a writer that holds no head never waits for one
    while holding another: no deadlock. Connections keep to the chain they last used, so eight
    writers settle on eight chains.
    """
    preferred = getattr(connection, "gonghao_audit_chain", 1)
    if preferred > count:
        preferred = 1
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_OWN_HEAD, [preferred])
        found = cursor.fetchone()
        if found is None:  # another writer holds it, or it is missing: the first free head
            cursor.execute(_CLAIM_FREE_HEAD, [count])
            found = cursor.fetchone()
        if found is None:  # no head free, or none at all: rebuild missing ones, own first
            ensure_chain_heads(count)
            cursor.execute(_CLAIM_OWN_HEAD, [preferred])
            found = cursor.fetchone()
            if found is None:
                cursor.execute(_CLAIM_FREE_HEAD, [count])
                found = cursor.fetchone()
        if found is None:  # every chain is busy: queue on this connection's own chain
            cursor.execute(_WAIT_FOR_HEAD, [preferred])
            found = cursor.fetchone()
    chain, prev_hash, seq = found
    connection.gonghao_audit_chain = chain
    return _Link(chain, seq, prev_hash)


def chain_count() -> int:
    if connection.vendor == "postgresql":
        return max(1, settings.GONGHAO_AUDIT_CHAINS)
    return 1


def _link(fields: dict[str, Any], link: _Link, occurred_at: Any) -> None:
    fields["chain"] = link.chain
    fields["seq"] = link.seq
    fields["occurred_at"] = occurred_at
    fields["prev_hash"] = link.prev_hash
    fields["hash"] = compute_hash(fields, link.prev_hash)


@dataclass(frozen=True)
class _Reservation:
    """PostgreSQL: what a connection expects of the chain it last appended to: that the
    chain's head is still its own last event, and a seq drawn after that event, under the
    head's lock, for its next one."""

    chain: int
    last_hash: str
    next_seq: int


def _append_concurrent(fields: dict[str, Any], count: int) -> None:
    """PostgreSQL: append the event in one statement when the connection's own chain is as it
    left it, else claim a head first (`_next_link_concurrent`) and insert.

    A writer nearly always finds its chain as it left it (connections keep to their chain), so
    the event is linked to the head it expects and inserted by a statement that locks that
    head and inserts only if the head still names that event and an earlier seq: one round
    trip instead of two. Whatever else happened meanwhile (another writer appended, this
    connection's transaction rolled back, the head is locked or gone), nothing is inserted and
    the event is linked afresh. Either way the insert draws the seq for the connection's next
    event, after this one and under the lock, so that within a chain seq keeps growing in link
    order.
    """
    occurred_at = clock.now()
    reserved = getattr(connection, "gonghao_audit_reservation", None)
    if reserved is not None and reserved.chain <= count:
        _link(fields, _Link(reserved.chain, reserved.next_seq, reserved.last_hash), occurred_at)
        next_seq = _insert_if_head_is(fields, reserved)
        if next_seq is not None:
            connection.gonghao_audit_reservation = _Reservation(
                reserved.chain, fields["hash"], next_seq
            )
            return
    _link(fields, _next_link_concurrent(count), occurred_at)
    next_seq = _insert(fields, draw_next_seq=True)
    connection.gonghao_audit_reservation = _Reservation(fields["chain"], fields["hash"], next_seq)


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
    fields = _event_fields(
        action,
        actor=actor,
        target=target,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        params=params,
        changes=changes,
        ctx=context.current(),
    )
    # No savepoint of its own: an event that cannot be written must fail the caller's whole
    # transaction, never leave its change unaudited.
    with transaction.atomic(savepoint=False):
        # The head triggers (guards.py) move the chain's head to the last inserted event.
        if connection.vendor == "postgresql":
            _append_concurrent(fields, chain_count())
        else:
            _link(fields, _next_link_single_writer(), clock.now())
            _insert(fields)
    event = AuditEvent(**fields)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def record_many(entries: Iterable[dict[str, Any]]) -> int:
    """Append one event per entry (each the keyword arguments of `record`, `action` included),
    in that order, linked one after another on one chain; the number of events written.

    For a change that touches many records at once (an offboarding hands over every customer
    of the departing employee): the events go by one statement run over all their rows, where
    `record` costs a round trip each. They are the events `record` would write, in one
    transaction with the caller's change, and share one time.
    """
    ctx = context.current()
    batch = [_event_fields(ctx=ctx, **entry) for entry in entries]
    if not batch:
        return 0
    with transaction.atomic(savepoint=False):
        occurred_at = clock.now()
        if connection.vendor == "postgresql":
            link = _next_link_concurrent(chain_count())
            # n - 1 more numbers for the batch and one for the connection's next event, drawn
            # in order under the head's lock: within the chain, seq keeps growing in link order.
            seqs = [link.seq, *_draw_seqs(len(batch))]
        else:
            link = _next_link_single_writer()
            seqs = list(range(link.seq, link.seq + len(batch)))
        prev_hash = link.prev_hash
        for fields, seq in zip(batch, seqs, strict=False):
            _link(fields, _Link(link.chain, seq, prev_hash), occurred_at)
            prev_hash = fields["hash"]
        _insert_many(batch)
        if connection.vendor == "postgresql":
            connection.gonghao_audit_reservation = _Reservation(link.chain, prev_hash, seqs[-1])
    return len(batch)


def _event_fields(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: Any = "",
    target_label: str = "",
    params: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    ctx: context.RequestContext,
) -> dict[str, Any]:
    """An event's fields before it is linked: what `record` stores besides chain, seq, time
    and hashes."""
    if not registry.is_registered(action):
        raise ValueError(f"unregistered audit action {action!r}")
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)
    return {
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


# The INSERT of one event, written once: compiling it through the ORM for every event cost more
# than running it. Values go through the same field adapters the ORM would use, so the stored
# row is the same; no RETURNING, since the primary key is `seq`, which we chose.
_EVENT_FIELDS = AuditEvent._meta.concrete_fields
# Identifiers from the model's metadata; the values go as parameters.
_EVENT_COLUMNS = ", ".join(f'"{field.column}"' for field in _EVENT_FIELDS)
_INSERT_EVENT = "INSERT INTO {table} ({columns}) VALUES ({values})".format(  # noqa: S608
    table=AuditEvent._meta.db_table,
    columns=_EVENT_COLUMNS,
    values=", ".join(["%s"] * len(_EVENT_FIELDS)),
)


def _adapter(field: Any) -> Any:
    """How the ORM would hand this field's value to the driver, as a function of the
    connection's operations and the value; None: as it is (str, int, a key's int or None)."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        # what JSONField.get_db_prep_save comes to for a plain JSON value
        encoder = field.encoder
        return lambda ops, value: ops.adapt_json_value(value, encoder)
    if kind == "DateTimeField":
        return lambda ops, value: (
            ops.adapt_datetimefield_value(value)
            if timezone.is_aware(value)
            else field.get_db_prep_save(value, connection)  # warns and converts, as the ORM does
        )
    if kind == "GenericIPAddressField":  # spelt as the field spells it (::ffff:1.2.3.4)
        return lambda ops, value: ops.adapt_ipaddressfield_value(field.get_prep_value(value))
    if kind in {"CharField", "BigIntegerField", "PositiveSmallIntegerField", "ForeignKey"}:
        return None
    return lambda _ops, value: field.get_db_prep_save(value, connection)


_EVENT_PLAN = [(field.attname, _adapter(field)) for field in _EVENT_FIELDS]
_DRAW_NEXT_SEQ = " RETURNING nextval('audit_event_seq')"


def _values(fields: dict[str, Any]) -> list[Any]:
    ops = connection.ops  # looked up once: each lookup through the proxy costs microseconds
    return [
        fields[name] if adapt is None else adapt(ops, fields[name]) for name, adapt in _EVENT_PLAN
    ]


def _insert(fields: dict[str, Any], *, draw_next_seq: bool = False) -> int | None:
    """Insert the event; on PostgreSQL, with `draw_next_seq`, return a seq drawn after it."""
    with connection.cursor() as cursor:
        if not draw_next_seq:
            cursor.execute(_INSERT_EVENT, _values(fields))
            return None
        cursor.execute(_INSERT_EVENT + _DRAW_NEXT_SEQ, _values(fields))
        return cursor.fetchone()[0]


_DRAW_SEQS = "SELECT nextval('audit_event_seq') FROM generate_series(1, %s)"


def _draw_seqs(count: int) -> list[int]:
    """PostgreSQL: `count` numbers from the event sequence, in the order drawn."""
    with connection.cursor() as cursor:
        cursor.execute(_DRAW_SEQS, [count])
        return sorted(row[0] for row in cursor.fetchall())


def _insert_many(batch: list[dict[str, Any]]) -> None:
    """The events by one statement run over all their rows: psycopg sends the rows in one
    pipeline, SQLite steps one prepared statement. (Multi-row VALUES cost more: psycopg parses
    a statement that long anew each time.)"""
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT_EVENT, [_values(fields) for fields in batch])


def _cast_type(field: Any) -> str:
    # Character columns are cast to text, not to varchar(n): assigning text to varchar(n)
    # refuses an over-long value, as the plain INSERT does, where a cast would cut it silently
    # (and the stored value would no longer match its hash).
    if field.get_internal_type() == "CharField":
        return "text"
    return field.db_type(connection)


_INSERT_IF_HEAD_IS: str | None = None


def _insert_if_head_is(fields: dict[str, Any], reserved: _Reservation) -> int | None:
    """PostgreSQL: lock the reserved chain's head and insert the event if the head still names
    the event the reservation follows and an earlier seq; the seq for the next event, or None
    when nothing was inserted."""
    global _INSERT_IF_HEAD_IS
    if _INSERT_IF_HEAD_IS is None:
        # INSERT … SELECT: the values are cast to their columns' types, which a SELECT list
        # does not infer. Identifiers from the model's metadata; the values go as parameters.
        casts = ", ".join(f"CAST(%s AS {_cast_type(field)})" for field in _EVENT_FIELDS)
        _INSERT_IF_HEAD_IS = (
            "WITH head AS MATERIALIZED ("  # noqa: S608
            f" SELECT id FROM {AuditChainHead._meta.db_table} WHERE id = %s"
            f" AND {guards.EFFECTIVE_HASH} = %s AND {guards.EFFECTIVE_SEQ} < %s"
            " FOR UPDATE SKIP LOCKED)"
            f" INSERT INTO {AuditEvent._meta.db_table} ({_EVENT_COLUMNS})"
            f" SELECT {casts} FROM head{_DRAW_NEXT_SEQ}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_IF_HEAD_IS,
            [reserved.chain, reserved.last_hash, reserved.next_seq, *_values(fields)],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


VERIFY_BATCH = 10000

# The hashed fields other than seq, in the order `chain.assemble` takes them.
_SPELT_FIELDS = (
    "action",
    "actor_employee_id",
    "actor_kind",
    "changes",
    "channel",
    "client_ip",
    "occurred_at",
    "params",
    "request_id",
    "target_id",
    "target_label",
    "target_type",
    "user_agent",
)


def _time_spelt(column: str) -> str:
    """SQL giving the column's time as `chain.format_time` spells it, for the years events have
    (a time it spells otherwise only sends that event to the ORM's reading)."""
    if connection.vendor == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    # SQLite holds Django's text of the UTC time, without the fraction when it is zero.
    return f"replace({column}, ' ', 'T') || CASE WHEN length({column}) = 19 THEN '.000000Z' ELSE 'Z' END"  # noqa: E501


def _spelt_rows_in_seq_order() -> Iterable[tuple[Any, ...]]:
    """(chain, seq, prev_hash, hash, *_SPELT_FIELDS) of every event, in seq order, in batches,
    read by a plain cursor: each value as the database holds it (JSON and addresses as text),
    the time spelt by the database. Converting every value through the ORM (datetimes, JSON
    decoding) took longer than working out and hashing the canonical form."""
    quote_name = connection.ops.quote_name
    columns = []
    for name in ("chain", "seq", "prev_hash", "hash", *_SPELT_FIELDS):
        column = quote_name(AuditEvent._meta.get_field(name).column)
        columns.append(_time_spelt(column) if name == "occurred_at" else column)
    seq_column = quote_name(AuditEvent._meta.get_field("seq").column)
    # Only the model's quoted names are formatted in; the bounds are parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote_name(AuditEvent._meta.db_table)}"  # noqa: S608
        f" WHERE {seq_column} > %s ORDER BY {seq_column} LIMIT %s"
    )
    last_seq = -(2**63)
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last_seq, VERIFY_BATCH])
            batch = cursor.fetchall()
            if not batch:
                return
            yield from batch
            last_seq = batch[-1][1]


def _spelt_text(
    seq: int,
    prev_hash: str,
    action: str,
    actor_employee_id: str,
    actor_kind: str,
    changes: str,
    channel: str,
    client_ip: str | None,
    occurred_at: str,
    params: str,
    request_id: str,
    target_id: str,
    target_label: str,
    target_type: str,
    user_agent: str,
) -> str:
    """The canonical form of an event read by `_spelt_rows_in_seq_order`."""
    return assemble(
        quote(action),
        quote(actor_employee_id),
        quote(actor_kind),
        stored_json(changes),
        quote(channel),
        quote(canonical_ip(client_ip)),
        occurred_at,
        stored_json(params),
        quote(prev_hash),
        quote(request_id),
        str(seq),
        quote(target_id),
        quote(target_label),
        quote(target_type),
        quote(user_agent),
    )


def _recomputed_hash(seq: int) -> str | None:
    """The event's hash worked out from its fields as the ORM reads them, the way `record`
    hashed them: the judge whenever the quick reading disagrees. None when its values cannot
    be read as their fields' types (a change made behind the database's back)."""
    try:
        row = AuditEvent.objects.filter(seq=seq).values_list(*HASHED_FIELDS, "prev_hash").first()
        if row is None:
            return None
        return hashlib.sha256(canonical_text(*row).encode()).hexdigest()
    except (AttributeError, TypeError, ValueError):  # e.g. a time that is no time (None)
        return None


def seq_is_gapless() -> bool:
    """SQLite numbers events under its single write lock; PostgreSQL draws seq from a sequence,
    which a rolled-back transaction leaves with a gap."""
    return connection.vendor != "postgresql"


def verify_chain() -> VerifyResult:
    """Recompute every hash and link; name the first event that does not match.

    Events are read once, in seq order; the events of one chain come in the order they were
    linked, since seq is drawn under the chain's lock. Reasons: "missing" (a number is absent
    where numbering has no gaps), "link" (an event does not link to its chain's previous event:
    one before it was removed or re-hashed), "content" (an event was changed), "truncated" (a
    chain's last events are gone: its head says so).

    Each event's canonical form is built from its values as stored (`_spelt_text`); an event
    whose hash that does not give is read again through the ORM and hashed exactly as `record`
    did (`_recomputed_hash`), so the quick path can cost time but never change a verdict.
    """
    chain_tips: dict[int, tuple[int, str]] = {}  # chain -> (seq, hash) of its last event
    gapless = seq_is_gapless()
    previous_seq = 0
    checked = 0
    sha256 = hashlib.sha256
    for chain, seq, prev_hash, stored_hash, *spelt in _spelt_rows_in_seq_order():
        if gapless and seq != previous_seq + 1:
            return VerifyResult(False, checked, previous_seq + 1, "missing")
        if prev_hash != chain_tips.get(chain, (0, GENESIS_HASH))[1]:
            return VerifyResult(False, checked, seq, "link")
        try:
            quick = sha256(_spelt_text(seq, prev_hash, *spelt).encode()).hexdigest()
        except (TypeError, ValueError):  # a value of a type no event is written with
            quick = None
        if quick != stored_hash and _recomputed_hash(seq) != stored_hash:
            return VerifyResult(False, checked, seq, "content")
        chain_tips[chain] = (seq, stored_hash)
        previous_seq = seq
        checked += 1
    for chain, head in chain_heads().items():
        last_seq, last_hash = chain_tips.get(chain, (0, GENESIS_HASH))
        if head != (last_seq, last_hash):
            return VerifyResult(False, checked, last_seq + 1, "truncated")
    return VerifyResult(True, checked)


def chain_heads() -> dict[int, tuple[int, str]]:
    """Chain -> (seq, hash) of its last event, as the current transaction sees the log: on
    PostgreSQL the head rows move at commit, and the events this transaction appended are
    taken into account here (guards.py)."""
    if connection.vendor != "postgresql":
        return {
            chain: (last_seq, last_hash)
            for chain, last_seq, last_hash in AuditChainHead.objects.order_by("pk").values_list(
                "pk", "last_seq", "last_hash"
            )
        }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {guards.EFFECTIVE_SEQ}, {guards.EFFECTIVE_HASH}"  # noqa: S608
            f" FROM {AuditChainHead._meta.db_table} ORDER BY id"
        )
        return {chain: (last_seq, last_hash) for chain, last_seq, last_hash in cursor.fetchall()}


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
