"""Who is acting, from where, under which request id: carried in a context variable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str | None = None
    user_agent: str = ""
    actor: Any = None  # an Employee, or None for system / anonymous
    channel: str = "system"  # web, api, cli, system


_EMPTY = RequestContext()
# RequestContext is frozen, so sharing one default instance is safe.
_current: ContextVar[RequestContext] = ContextVar("gonghao_request_context", default=_EMPTY)


def current() -> RequestContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bind(**changes: Any) -> Iterator[RequestContext]:
    """Run a block with some context fields replaced; restores the previous context after."""
    ctx = replace(_current.get(), **changes)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def set_actor(actor: Any) -> None:
    """Record the authenticated employee for the rest of the current request."""
    _current.set(replace(_current.get(), actor=actor))
