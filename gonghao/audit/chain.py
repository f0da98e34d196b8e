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
    """"2025-01-31T08:00:00.000000Z" (isoformat is several times faster than strftime)."""
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


def canonical_bytes(fields: dict[str, Any], prev_hash: str) -> bytes:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = format_time(payload["occurred_at"])
    payload["client_ip"] = canonical_ip(payload["client_ip"])
    payload["v"] = CHAIN_VERSION
    payload["prev_hash"] = prev_hash
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(fields, prev_hash)).hexdigest()
