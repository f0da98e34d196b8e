"""Offboarding hands a leaver's undecided access-review items to another reviewer.

The successor takes them unless the item is about the successor's own grant (nobody reviews
their own access); otherwise the usual chain picks the next reviewer (manager, department
heads, campaign owner, other review managers), skipping the leaver.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gonghao.accounts.models import Employee, EmployeeStatus

from .access_models import AccessReviewItem, CampaignStatus, Decision
from .handover import Move, register_handover_step
from .reviews import ReviewerChooser


def _open_items(employee: Employee):
    return (
        AccessReviewItem.objects.filter(
            reviewer=employee,
            decision=Decision.PENDING,
            campaign__status=CampaignStatus.OPEN,
        )
        .select_related("employee", "role", "campaign")
        .order_by("id")
    )


def _next_reviewer(item: AccessReviewItem, leaver: Employee, successor: Employee | None) -> Any:
    if (
        successor is not None
        and successor.pk != item.employee_id
        and successor.status == EmployeeStatus.ACTIVE
    ):
        return successor
    chooser = ReviewerChooser([item.employee], item.campaign.owner_id)
    chooser.active.discard(leaver.pk)
    reviewer_id = chooser.reviewer_for(item.employee)
    return Employee.objects.filter(pk=reviewer_id).first() if reviewer_id else None


def plan_review_items(employee: Employee, successor: Employee | None) -> list[Move]:
    moves = []
    for item in _open_items(employee):
        to = _next_reviewer(item, employee, successor)
        subject = item.employee
        label = f"{subject.employee_id} {subject.name} · {item.role} (#{item.campaign_id})"
        note = "" if to is not None else _("no other reviewer: the campaign default applies")
        kind, target_type = "access_review_item", "lifecycle.accessreviewitem"
        moves.append(Move(kind, target_type, item.pk, label, to=to, note=note))
    return moves


def apply_review_items(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    for move in moves:
        AccessReviewItem.objects.filter(
            pk=move.record_id, reviewer=employee, decision=Decision.PENDING
        ).update(reviewer=move.to)


register_handover_step(
    "lifecycle.review_items",
    label=gettext_lazy("Undecided access-review items"),
    plan=plan_review_items,
    apply=apply_review_items,
    order=60,
)
