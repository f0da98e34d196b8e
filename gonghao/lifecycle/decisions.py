"""Deciding a four-eyes request (request_models.FourEyesRequest), the same for every type: the
row lock that makes two concurrent decisions decide once, who may not decide, recording it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gonghao.access import services as access
from gonghao.core import clock
from gonghao.core.errors import Conflict, PermissionDenied

from .request_models import FourEyesRequest

AnyRequest = TypeVar("AnyRequest", bound=FourEyesRequest)


def not_in_state(request: FourEyesRequest) -> Conflict:
    return Conflict(
        _("This request is %(status)s; it cannot be changed this way.")
        % {"status": request.get_status_display()},
        code="request_not_open",
        details={"status": request.status},
    )


def lock_in_state(
    queryset: QuerySet[AnyRequest],
    request: AnyRequest,
    allowed: Collection[str],
    *,
    lock: tuple[str, ...] = ("self",),
) -> AnyRequest:
    """The request read again under a row lock (on the `lock` tables of the queryset's joins),
    refused unless its status is one of `allowed`.

    A second decider waits on the lock (SQLite: on the IMMEDIATE transaction) and then finds
    the request decided, so two concurrent decisions decide once.
    """
    locked = queryset.select_for_update(of=lock).get(pk=request.pk)
    if locked.status not in allowed:
        raise not_in_state(locked)
    return locked


def refuse_own_request(request: FourEyesRequest, actor: Any) -> None:
    if request.requested_by_id == actor.pk:
        raise PermissionDenied(
            _("Four eyes: you cannot approve a request you filed yourself."),
            code="four_eyes_own_request",
        )


def refuse_roles_not_held(actor: Any, granted: Iterable[str]) -> None:
    """An approver may not grant a role they do not hold (GONGHAO_APPROVER_MUST_HOLD_ROLES)."""
    if not getattr(settings, "GONGHAO_APPROVER_MUST_HOLD_ROLES", True):
        return
    held = {role.code for role in access.roles_of(actor)}
    missing = sorted(set(granted) - held)
    if missing:
        raise PermissionDenied(
            _("Four eyes: you cannot grant roles you do not hold yourself: %(roles)s")
            % {"roles": ", ".join(missing)},
            code="four_eyes_roles",
            details={"roles": missing},
        )


def mark_decided(
    request: FourEyesRequest,
    *,
    actor: Any,
    to: str,
    reason: str | None = None,
    also_saved: tuple[str, ...] = (),
) -> str:
    """Record the decision on the locked request and save it; the status it had is returned.

    `reason` None leaves the stored reason as it is (an approval keeps the reason a request was
    once sent back with); `also_saved` names fields the caller set besides.
    """
    before = request.status
    request.status = to
    request.decided_by = actor
    request.decided_at = clock.now()
    request.updated_at = request.decided_at
    saved = ["status", "decided_by", "decided_at", "updated_at", *also_saved]
    if reason is not None:
        request.reason = reason
        saved.append("reason")
    request.save(update_fields=saved)
    return before
