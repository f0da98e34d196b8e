"""When a grant's permissions were last used, read from the audit log.

An audit event is evidence that its actor used a permission only when the action cannot be
done without it. `EVIDENCE` says, for each action, which permissions it needed; actions that
need none (logging in, changing one's own password, messages) are in `NOT_EVIDENCE`, and
events carrying a `via` param (a grant made by an approved workflow) prove nothing about the
actor's own permissions. A test walks the audit registry so every action is classified.

`last_used` answers for any number of grants with one query: the latest event per
(actor, action) among the actors concerned, then per grant the latest one that needed a
permission of the grant's role and happened while the grant existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Max

from gonghao.audit.models import AuditEvent

_CUSTOMER_RECORD = ("customer.view",)

EVIDENCE: dict[str, frozenset[str]] = {
    action: frozenset(perms)
    for action, perms in {
        # CRM: every act on a customer record first needs to see it.
        "customer.view": ("customer.view",),
        "customer.create": ("customer.create",),
        "customer.update": (*_CUSTOMER_RECORD, "customer.edit"),
        "customer.delete": (*_CUSTOMER_RECORD, "customer.delete"),
        "customer.restore": ("customer.restore",),
        "customer.transfer": (*_CUSTOMER_RECORD, "customer.transfer"),
        "customer.reveal": (*_CUSTOMER_RECORD, "customer.view_sensitive"),
        "customer.export": ("customer.export",),
        "contact.create": (*_CUSTOMER_RECORD, "customer.edit"),
        "contact.update": (*_CUSTOMER_RECORD, "customer.edit"),
        "contact.delete": (*_CUSTOMER_RECORD, "customer.edit"),
        "contact.reveal": (*_CUSTOMER_RECORD, "customer.view_sensitive"),
        "interaction.create": (*_CUSTOMER_RECORD, "interaction.create"),
        "interaction.follow_up_done": _CUSTOMER_RECORD,
        "opportunity.create": ("opportunity.view", "opportunity.create"),
        "opportunity.update": ("opportunity.view", "opportunity.edit"),
        "opportunity.stage": ("opportunity.view", "opportunity.edit"),
        "opportunity.delete": ("opportunity.view", "opportunity.delete"),
        "customer.share": (*_CUSTOMER_RECORD, "customer.share"),
        "customer.unshare": (*_CUSTOMER_RECORD, "customer.share"),
        "customer.pool_claim": ("customer.claim",),
        "customer.pool_view": ("customer.claim",),
        "stage.create": ("pipeline.manage",),
        "stage.update": ("pipeline.manage",),
        # Administration.
        "employee.create": ("employee.manage",),
        "employee.update": ("employee.manage",),
        "employee.enable": ("employee.manage",),
        "employee.offboard": ("employee.offboard",),
        "employee.offboard.schedule": ("employee.offboard",),
        "employee.offboard.cancel": ("employee.offboard",),
        "handover.export": ("employee.offboard",),
        "department.create": ("org.manage",),
        "department.update": ("org.manage",),
        "position.create": ("org.manage",),
        "position.update": ("org.manage",),
        "role.grant": ("role.manage",),
        "role.revoke": ("role.manage",),
        "role.update": ("role.manage",),
        "auth.mfa.reset": ("mfa.reset",),
        "audit.verify": ("audit.verify",),
        # Workflows.
        "employee_request.create": ("employee.request",),
        "employee_request.update": ("employee.request",),
        "employee_request.withdraw": ("employee.request",),
        "employee_request.approve": ("employee.approve",),
        "employee_request.reject": ("employee.approve",),
        "employee_request.return": ("employee.approve",),
        "access_review.start": ("access_review.manage",),
        "role_request.approve": ("role_request.approve",),
        "role_request.reject": ("role_request.approve",),
    }.items()
}

# Actions that need no permission, or whose permission depends on who is acted on (revoking
# one's own token needs none, another's needs token.manage): they prove nothing.
NOT_EVIDENCE = frozenset(
    {
        "auth.login.succeeded",
        "auth.login.failed",
        "auth.lockout",
        "auth.logout",
        "auth.session.expired",
        "auth.password.change",
        "auth.password.set",
        "auth.token.create",
        "auth.token.revoke",
        "employee.language",
        "auth.mfa.activated",
        "auth.mfa.deactivated",
        "auth.mfa.failed",
        "auth.mfa.recovery_codes_generated",
        "auth.password_reset.requested",
        "auth.password_reset.failed",
        "auth.password_reset.completed",
        "employee_id.allocate",
        "message.queue",
        "message.fail",
        "auth.login.not_allowed",
        "auth.mfa.code_sent",
        "auth.reauthenticated",
        "auth.step_up.refused",
        "auth.session.end",  # one's own sessions need nothing, another's need session.manage
        "customer.pool_release",  # the owner, or whoever may transfer the customer
        "import.commit",  # the permission depends on what was imported
        "export.run",  # likewise for what was exported
        # Written by scheduled jobs or as the consequence of another audited act.
        "customer.pool_return",
        "employee.dormant_disable",
        "employee.pii_erase",
        "handover.move",
        "access_review.decide",  # the reviewer acts on an assignment, not a permission
        "access_review.close",
        "access_review.remind",
        "role_request.create",  # a role manager or a department head
        "role_request.withdraw",
    }
)


def actions_for(permissions: Iterable[str]) -> set[str]:
    wanted = set(permissions)
    return {action for action, needed in EVIDENCE.items() if needed & wanted}


def grants_of(items: Iterable[Any]) -> list[Any]:
    """The grants of access review items, with the role and employee their item loaded."""
    grants = []
    for item in items:
        item.grant.role = item.role
        item.grant.employee = item.employee
        grants.append(item.grant)
    return grants


def last_used(grants: Iterable[Any]) -> dict[int, datetime | None]:
    """grant pk → when the grant's permissions were last used while it existed (or None).

    `grants` are RoleGrants with their role and employee loaded; one query whatever their
    number. Events are found by the actor's 工号, which the audit log indexes (with the time).
    """
    grants = list(grants)
    if not grants:
        return {}
    actions_by_role = {g.role_id: actions_for(g.role.permissions) for g in grants}
    actions = set().union(*actions_by_role.values())
    latest: dict[tuple[str, str], datetime] = {}
    if actions:
        rows = (
            AuditEvent.objects.filter(
                actor_employee_id__in=sorted({g.employee.employee_id for g in grants}),
                action__in=sorted(actions),
            )
            .exclude(params__has_key="via")
            .values("actor_employee_id", "action")
            .annotate(last=Max("occurred_at"))
            .order_by()
        )
        latest = {(row["actor_employee_id"], row["action"]): row["last"] for row in rows}
    answer: dict[int, datetime | None] = {}
    for grant in grants:
        moments = [
            latest[(grant.employee.employee_id, action)]
            for action in actions_by_role[grant.role_id]
            if (grant.employee.employee_id, action) in latest
        ]
        best = max(moments, default=None)
        # Use before this grant began was made under an earlier grant, not this one.
        answer[grant.pk] = best if best is not None and best >= grant.granted_at else None
    return answer
