"""The canonical serialisation of an event and its SHA-256 link to the previous one."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from datetime import UTC, datetime, timedelta
from typing import Any

GENESIS_HASH = "0" * 64
ZERO = timedelta(0)

# The fields that are hashed, in order. Adding one is a format change: bump CHAIN_VERSION.
CHAIN_VERSION = 1
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_employee_id",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "params",
    "changes",
    "request_id",
    "client_ip",
    "user_agent",
    "channel",
)


def format_time(value: datetime) -> str:
    """ "2025-01-31T08:00:00.000000Z" (isoformat is several times faster than strftime)."""
    if value.utcoffset() != ZERO:
        value = value.astimezone(UTC)
    if value.year < 1000:  # strftime does not pad the year: keep its spelling
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@functools.lru_cache(maxsize=4096)
def canonical_ip(value: str | None) -> str:
    """One spelling per address: databases print some IPv6 forms differently (::ffff:1.2.3.4)."""
    if not value:
        return ""
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return value


# The canonical form is the compact, key-sorted JSON of the hashed fields plus "prev_hash" and "v"
# (json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)). It is assembled
# here field by field in that sorted order, which gives the same bytes several times faster:
# verifying a long log is mostly this function.
quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for str
_nested = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _json(value: Any) -> str:
    if type(value) is str:
        return quote(value)
    if value == {}:
        return "{}"
    return _nested(value)


def canonical_text(
    seq: int,
    occurred_at: datetime,
    actor_kind: str,
    actor_employee_id: str,
    action: str,
    target_type: str,
    target_id: str,
    target_label: str,
    params: Any,
    changes: Any,
    request_id: str,
    client_ip: str | None,
    user_agent: str,
    channel: str,
    prev_hash: str,
) -> str:
    """The hashed fields in HASHED_FIELDS order, then the previous hash."""
    return assemble(
        _json(action),
        _json(actor_employee_id),
        _json(actor_kind),
        _json(changes),
        _json(channel),
        quote(canonical_ip(client_ip)),
        format_time(occurred_at),
        _json(params),
        _json(prev_hash),
        _json(request_id),
        _json(seq),
        _json(target_id),
        _json(target_label),
        _json(target_type),
        _json(user_agent),
    )


def assemble(
    action: str,
    actor_employee_id: str,
    actor_kind: str,
    changes: str,
    channel: str,
    client_ip: str,
    occurred_at: str,
    params: str,
    prev_hash: str,
    request_id: str,
    seq: str,
    target_id: str,
    target_label: str,
    target_type: str,
    user_agent: str,
) -> str:
    """The canonical form from its values already spelt as JSON, in the keys' sorted order;
    `occurred_at` is the time's text (format_time), which goes in quoted."""
    return (
        f'{{"action":{action},"actor_employee_id":{actor_employee_id},'
        f'"actor_kind":{actor_kind},"changes":{changes},'
        f'"channel":{channel},"client_ip":{client_ip},'
        f'"occurred_at":"{occurred_at}","params":{params},'
        f'"prev_hash":{prev_hash},"request_id":{request_id},"seq":{seq},'
        f'"target_id":{target_id},"target_label":{target_label},'
        f'"target_type":{target_type},"user_agent":{user_agent},'
        f'"v":{CHAIN_VERSION}}}'
    )


def stored_json(text: str) -> str:
    """The canonical spelling of a JSON value as the database stored it (text)."""
    if text == "{}":
        return text
    return _json(json.loads(text))


def canonical_bytes(fields: dict[str, Any], prev_hash: str) -> bytes:
    return canonical_text(*(fields[name] for name in HASHED_FIELDS), prev_hash).encode()


def compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(fields, prev_hash)).hexdigest()
