"""Access reviews (定期审核): start a campaign, assign each grant to a reviewer, decide keep or
revoke, apply the campaign's default at the due date, remind, repeat, and report."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from gonghao.access import services as access
from gonghao.access.models import Role, RoleGrant
from gonghao.accounts.models import Employee, EmployeeStatus
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.crm.validation import _CONTROL as CONTROL_CHARACTERS
from gonghao.messaging.services import queue_message
from gonghao.org.models import Department

from . import access_audit_actions as actions
from .access_models import (
    AccessReviewCampaign,
    AccessReviewItem,
    CampaignScope,
    CampaignStatus,
    Decision,
    Outcome,
    Repeat,
    ReviewReminder,
    UndecidedDefault,
)
from .access_permissions import REVIEW_MANAGE
from .constants import MAX_REASON

MAX_CAMPAIGN_DAYS = 366
MAX_BULK = 200
REMINDER_TEMPLATE = "access_review.reminder"


# --- dates -------------------------------------------------------------------------------------


def local_today(now: datetime | None = None) -> date:
    return timezone.localdate(now or clock.now())


def closes_at_for(due_date: date) -> datetime:
    """A campaign is open for the whole of its due date, in the company's time zone."""
    return timezone.make_aware(datetime.combine(due_date + timedelta(days=1), time.min))


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_PERIOD_MONTHS = {Repeat.MONTHLY: 1, Repeat.QUARTERLY: 3, Repeat.YEARLY: 12}


def next_start(campaign: AccessReviewCampaign) -> date | None:
    months = _PERIOD_MONTHS.get(campaign.repeat)
    return add_months(campaign.starts_on, months) if months else None


# --- reviewers ---------------------------------------------------------------------------------


def review_managers() -> list[int]:
    """Active holders of access_review.manage, oldest first: the last fallback reviewers."""
    role_ids = [r.pk for r in Role.objects.all() if REVIEW_MANAGE in r.permissions]
    return list(
        RoleGrant.objects.in_force()
        .filter(role_id__in=role_ids, employee__status=EmployeeStatus.ACTIVE)
        .order_by("employee_id")
        .values_list("employee_id", flat=True)
        .distinct()
    )


class ReviewerChooser:
    """Picks each employee's reviewer: their manager, else the head of their department, else
    the heads above it, else the campaign owner, else another review manager. Nobody reviews
    their own grants, and only active employees review. A few queries in all, not per grant."""

    def __init__(self, employees: list[Employee], owner_id: int) -> None:
        self.owner_id = owner_id
        rows = Department.objects.values_list("pk", "parent_id", "head_id")
        self.departments = {pk: (parent_id, head_id) for pk, parent_id, head_id in rows}
        self.fallbacks = review_managers()
        candidates = {e.manager_id for e in employees} | {owner_id} | set(self.fallbacks)
        candidates |= {head for _parent, head in self.departments.values()}
        candidates.discard(None)
        self.active = set(
            Employee.objects.filter(pk__in=candidates, status=EmployeeStatus.ACTIVE).values_list(
                "pk", flat=True
            )
        )

    def chain(self, employee: Employee) -> list[int | None]:
        chain: list[int | None] = [employee.manager_id]
        seen: set[int] = set()
        department_id = employee.department_id
        while department_id is not None and department_id not in seen:
            seen.add(department_id)
            parent_id, head_id = self.departments.get(department_id, (None, None))
            chain.append(head_id)
            department_id = parent_id
        return [*chain, self.owner_id, *self.fallbacks]

    def reviewer_for(self, employee: Employee) -> int | None:
        for candidate in self.chain(employee):
            if candidate is not None and candidate != employee.pk and candidate in self.active:
                return candidate
        return None


# --- reads -------------------------------------------------------------------------------------


def restrict_campaigns(actor: Any) -> QuerySet[AccessReviewCampaign]:
    """Review managers see every campaign; reviewers the ones they have items in."""
    queryset = AccessReviewCampaign.objects.select_related("owner", "department", "role")
    if access.has_permission(actor, REVIEW_MANAGE):
        return queryset
    if actor is None or not getattr(actor, "pk", None):
        return queryset.none()
    mine = AccessReviewItem.objects.filter(reviewer_id=actor.pk).values("campaign_id")
    return queryset.filter(pk__in=mine)


def get_campaign_for(actor: Any, campaign_id: int) -> AccessReviewCampaign:
    found = restrict_campaigns(actor).filter(pk=campaign_id).first()
    if found is None:
        raise NotFound(_("No access review has this id."), code="review_not_found")
    return found


def _items() -> QuerySet[AccessReviewItem]:
    """Items with every related row a page, an API answer or the report shows."""
    return AccessReviewItem.objects.select_related(
        "campaign",
        "employee",
        "employee__department",
        "role",
        "grant",
        "reviewer",
        "decided_by",
    )


def items_for_reviewer(
    actor: Any, *, campaign_id: int | None = None, decision: str | None = None
) -> QuerySet[AccessReviewItem]:
    """The actor's own queue (undecided first), optionally one campaign or one decision."""
    queryset = _items().filter(reviewer_id=actor.pk)
    if campaign_id is not None:
        queryset = queryset.filter(campaign_id=campaign_id)
    if decision:
        queryset = queryset.filter(decision=decision)
    return queryset.order_by("-campaign__status", "campaign__closes_at", "employee__employee_id")


def get_item_for(actor: Any, item_id: int) -> AccessReviewItem:
    """An item the actor reviews (or, for review managers, any item); else not found."""
    queryset = _items().filter(pk=item_id)
    if not access.has_permission(actor, REVIEW_MANAGE):
        queryset = queryset.filter(reviewer_id=actor.pk)
    found = queryset.first()
    if found is None:
        raise NotFound(_("No access review item has this id."), code="review_item_not_found")
    return found


@dataclass(frozen=True)
class Counts:
    total: int
    pending: int
    kept: int
    revoked: int
    by_default: int
    already_ended: int
    unassigned: int


def _count_expressions(prefix: str = "") -> dict[str, Count]:
    def count(condition: Q | None = None) -> Count:
        return Count(f"{prefix}pk", filter=condition)

    return {
        "total": count(),
        "pending": count(Q(**{f"{prefix}decision": Decision.PENDING})),
        "kept": count(Q(**{f"{prefix}decision": Decision.KEEP})),
        "revoked": count(Q(**{f"{prefix}outcome": Outcome.REVOKED})),
        "by_default": count(Q(**{f"{prefix}by_default": True})),
        "already_ended": count(Q(**{f"{prefix}outcome": Outcome.ALREADY_ENDED})),
        "unassigned": count(Q(**{f"{prefix}reviewer__isnull": True})),
    }


_COUNTS_PREFIX = "count_"


def with_counts(queryset: QuerySet[AccessReviewCampaign]) -> QuerySet[AccessReviewCampaign]:
    """Campaigns with their item counts in the same query, for lists."""
    # Meta.ordering is dropped from GROUP BY queries: say it again.
    return queryset.annotate(
        **{f"{_COUNTS_PREFIX}{k}": v for k, v in _count_expressions("items__").items()}
    ).order_by("-created_at", "-id")


def counts_of(campaign: AccessReviewCampaign) -> Counts:
    if hasattr(campaign, f"{_COUNTS_PREFIX}total"):
        return Counts(
            **{k: getattr(campaign, f"{_COUNTS_PREFIX}{k}") for k in _count_expressions()}
        )
    row = AccessReviewItem.objects.filter(campaign=campaign).aggregate(**_count_expressions())
    return Counts(**row)


def report_items_for(actor: Any, campaign: AccessReviewCampaign) -> QuerySet[AccessReviewItem]:
    """Every item of the campaign, for its report: review managers only."""
    access.require(actor, REVIEW_MANAGE)
    return _items().filter(campaign=campaign).order_by("employee__employee_id", "role__code")


# --- starting a campaign -----------------------------------------------------------------------


def _clean_text(value: str, field: str, *, required: bool, limit: int = MAX_REASON) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        if required:
            message = _("Between 1 and %(limit)s characters are required.") % {"limit": limit}
        else:
            message = _("At most %(limit)s characters.") % {"limit": limit}
        raise ValidationFailed(field_errors={field: [message]})
    if CONTROL_CHARACTERS.search(value):
        raise ValidationFailed(field_errors={field: [_("Control characters are not allowed.")]})
    return value


def _in_scope_grants(
    scope: str, department: Department | None, role: Role | None
) -> QuerySet[RoleGrant]:
    grants = (
        RoleGrant.objects.in_force()
        .filter(employee__status=EmployeeStatus.ACTIVE)
        .select_related("employee", "role")
        .order_by("employee__employee_id", "role__code")
    )
    if scope == CampaignScope.DEPARTMENT:
        assert department is not None
        grants = grants.filter(employee__department_id__in=department.descendant_ids())
    elif scope == CampaignScope.ROLE:
        grants = grants.filter(role=role)
    return grants


def _open_campaign(
    *,
    actor: Any,
    owner: Employee,
    name: str,
    scope: str,
    department: Department | None,
    role: Role | None,
    starts_on: date,
    due_date: date,
    undecided_default: str,
    repeat: str,
    previous: AccessReviewCampaign | None = None,
) -> AccessReviewCampaign:
    campaign = AccessReviewCampaign.objects.create(
        name=name,
        scope=scope,
        department=department,
        role=role,
        owner=owner,
        starts_on=starts_on,
        due_date=due_date,
        closes_at=closes_at_for(due_date),
        undecided_default=undecided_default,
        repeat=repeat,
        previous=previous,
        created_at=clock.now(),
    )
    grants = list(_in_scope_grants(scope, department, role))
    chooser = ReviewerChooser([g.employee for g in grants], owner.pk)
    AccessReviewItem.objects.bulk_create(
        AccessReviewItem(
            campaign=campaign,
            grant=grant,
            employee_id=grant.employee_id,
            role_id=grant.role_id,
            reviewer_id=chooser.reviewer_for(grant.employee),
        )
        for grant in grants
    )
    params: dict[str, Any] = {
        "campaign": campaign.pk,
        "name": name,
        "items": len(grants),
        "scope": scope,
    }
    if department is not None:
        params["department"] = department.code
    if role is not None:
        params["role"] = role.code
    if previous is not None:
        params["previous"] = previous.pk
    record(
        actions.REVIEW_START,
        actor=actor,
        target=campaign,
        params=params,
        changes={
            "due_date": [None, due_date],
            "undecided_default": [None, undecided_default],
            "repeat": [None, repeat],
        },
    )
    return campaign


def start_campaign(
    *,
    actor: Any,
    name: str = "",
    scope: str,
    department: Department | None = None,
    role: Role | None = None,
    due_date: date | None = None,
    undecided_default: str = UndecidedDefault.REVOKE,
    repeat: str = Repeat.NONE,
) -> AccessReviewCampaign:
    """Start a campaign now over every grant in force in the scope."""
    access.require(actor, REVIEW_MANAGE)
    today = local_today()
    errors: dict[str, list[str]] = {}
    if scope not in CampaignScope.values:
        errors["scope"] = [_("Choose all, department or role.")]
    if scope == CampaignScope.DEPARTMENT and department is None:
        errors["department_id"] = [_("Choose the department to review.")]
    if scope == CampaignScope.ROLE and role is None:
        errors["role"] = [_("Choose the role to review.")]
    if scope != CampaignScope.DEPARTMENT:
        department = None
    if scope != CampaignScope.ROLE:
        role = None
    if due_date is None:
        due_date = today + timedelta(days=settings.GONGHAO_ACCESS_REVIEW_DEFAULT_DAYS)
    if due_date < today or due_date > today + timedelta(days=MAX_CAMPAIGN_DAYS):
        errors["due_date"] = [
            _("The due date must be between today and %(days)s days from now.")
            % {"days": MAX_CAMPAIGN_DAYS}
        ]
    if undecided_default not in UndecidedDefault.values:
        errors["undecided_default"] = [_("Choose revoke or keep.")]
    if repeat not in Repeat.values:
        errors["repeat"] = [_("Choose how the campaign repeats.")]
    try:
        name = _clean_text(name, "name", required=False, limit=200)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    if not name:
        name = _("Access review %(date)s") % {"date": today.isoformat()}
    with transaction.atomic():
        return _open_campaign(
            actor=actor,
            owner=actor,
            name=name,
            scope=scope,
            department=department,
            role=role,
            starts_on=today,
            due_date=due_date,
            undecided_default=undecided_default,
            repeat=repeat,
        )


# --- decisions ---------------------------------------------------------------------------------


def _apply(
    item: AccessReviewItem, decision: str, *, actor: Any, comment: str, by_default: bool
) -> None:
    """Record one decision and, for revoke, take the grant back in the same transaction."""
    outcome = Outcome.KEPT
    if decision == Decision.REVOKE:
        in_force = RoleGrant.objects.in_force().select_for_update().filter(pk=item.grant_id)
        if in_force.exists():
            access.revoke_role(
                item.employee,
                item.role.code,
                actor=actor,
                check_permission=False,
                audit_params={
                    "via": "access_review",
                    "campaign": item.campaign_id,
                    "item": item.pk,
                },
            )
            outcome = Outcome.REVOKED
        else:
            outcome = Outcome.ALREADY_ENDED
    item.decision = decision
    item.comment = comment
    item.decided_by = actor
    item.decided_at = clock.now()
    item.by_default = by_default
    item.outcome = outcome
    item.save(
        update_fields=["decision", "comment", "decided_by", "decided_at", "by_default", "outcome"]
    )
    params: dict[str, Any] = {
        "campaign": item.campaign_id,
        "item": item.pk,
        "role": item.role.code,
        "decision": decision,
        "outcome": outcome,
    }
    if by_default:
        params["by_default"] = True
    if comment:
        params["comment"] = comment
    record(
        actions.REVIEW_DECIDE,
        actor=actor,
        target=item.employee,
        params=params,
        changes={"decision": [Decision.PENDING, decision]},
    )


def decide_items(
    item_ids: list[int], *, actor: Any, decision: str, comment: str = ""
) -> list[AccessReviewItem]:
    """Keep or revoke the reviewer's items, all or none. A revoke needs a comment.

    Returns the items as decided, in id order, with what an answer shows loaded."""
    if decision not in (Decision.KEEP, Decision.REVOKE):
        raise ValidationFailed(field_errors={"decision": [_("Choose keep or revoke.")]})
    comment = _clean_text(comment, "comment", required=decision == Decision.REVOKE)
    wanted = sorted(set(item_ids))
    if not wanted or len(wanted) > MAX_BULK:
        raise ValidationFailed(
            field_errors={"item_ids": [_("Choose 1 to %(max)s items.") % {"max": MAX_BULK}]}
        )
    is_manager = access.has_permission(actor, REVIEW_MANAGE)
    with transaction.atomic():
        items = list(_items().select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk"))
        found = {item.pk: item for item in items}
        for pk in wanted:
            item = found.get(pk)
            if item is None or (item.reviewer_id != actor.pk and not is_manager):
                raise NotFound(
                    _("No access review item has this id."),
                    code="review_item_not_found",
                    details={"item": pk},
                )
            if item.reviewer_id != actor.pk or item.employee_id == actor.pk:
                raise PermissionDenied(
                    _("Only the assigned reviewer can decide this item."),
                    code="not_your_item",
                    details={"item": pk},
                )
            if item.campaign.status != CampaignStatus.OPEN:
                raise Conflict(
                    _("This access review is closed."),
                    code="review_closed",
                    details={"item": pk},
                )
            if item.decision != Decision.PENDING:
                raise Conflict(
                    _("This item was already decided."),
                    code="item_already_decided",
                    details={"item": pk, "decision": item.decision},
                )
        for item in items:
            _apply(item, decision, actor=actor, comment=comment, by_default=False)
    return items


def decide_item(item_id: int, *, actor: Any, decision: str, comment: str = "") -> AccessReviewItem:
    return decide_items([item_id], actor=actor, decision=decision, comment=comment)[0]


# --- scheduled work ----------------------------------------------------------------------------


def close_due_campaigns(now: datetime | None = None) -> dict[str, int]:
    """Give undecided items of campaigns past their due date the campaign's default.

    Each campaign closes in its own transaction, under a lock, so a second run (or a
    concurrent one) finds it closed and does nothing.
    """
    now = now or clock.now()
    totals = {"closed": 0, "defaulted": 0, "revoked": 0}
    due = AccessReviewCampaign.objects.filter(status=CampaignStatus.OPEN, closes_at__lte=now)
    for campaign_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            campaign = AccessReviewCampaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.status != CampaignStatus.OPEN:
                continue
            pending = list(
                AccessReviewItem.objects.select_for_update(of=("self",))
                .select_related("employee", "role")
                .filter(campaign=campaign, decision=Decision.PENDING)
                .order_by("pk")
            )
            for item in pending:
                item.campaign = campaign
                _apply(item, campaign.undecided_default, actor=None, comment="", by_default=True)
                totals["revoked"] += item.outcome == Outcome.REVOKED
            campaign.status = CampaignStatus.CLOSED
            campaign.closed_at = now
            campaign.save(update_fields=["status", "closed_at"])
            record(
                actions.REVIEW_CLOSE,
                target=campaign,
                params={
                    "campaign": campaign.pk,
                    "undecided": len(pending),
                    "default": campaign.undecided_default,
                },
                changes={"status": [CampaignStatus.OPEN, CampaignStatus.CLOSED]},
            )
            totals["closed"] += 1
            totals["defaulted"] += len(pending)
    return totals


def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """Remind reviewers with undecided items, from N days before the due date: at most once a
    day per reviewer and campaign (the ReviewReminder row is the proof)."""
    now = now or clock.now()
    today = local_today(now)
    horizon = today + timedelta(days=settings.GONGHAO_ACCESS_REVIEW_REMINDER_DAYS)
    campaigns = {
        c.pk: c
        for c in AccessReviewCampaign.objects.filter(
            status=CampaignStatus.OPEN, due_date__lte=horizon, closes_at__gt=now
        )
    }
    totals = {"reminded": 0, "skipped": 0}
    if not campaigns:
        return totals
    pending = (
        AccessReviewItem.objects.filter(
            campaign_id__in=list(campaigns),
            decision=Decision.PENDING,
            reviewer__isnull=False,
            reviewer__status=EmployeeStatus.ACTIVE,
        )
        .values("campaign_id", "reviewer_id")
        .annotate(n=Count("pk"))
        .order_by("campaign_id", "reviewer_id")
    )
    rows = list(pending)
    reviewers = Employee.objects.in_bulk({row["reviewer_id"] for row in rows})
    for row in rows:
        campaign, reviewer = campaigns[row["campaign_id"]], reviewers[row["reviewer_id"]]
        with transaction.atomic():
            _reminder, created = ReviewReminder.objects.get_or_create(
                campaign=campaign, reviewer=reviewer, sent_on=today, defaults={"pending": row["n"]}
            )
            if not created:
                totals["skipped"] += 1
                continue
            channel = "email" if reviewer.email else ("sms" if reviewer.phone else None)
            if channel is not None:
                queue_message(
                    channel=channel,
                    recipient=reviewer.email if channel == "email" else str(reviewer.phone),
                    template=REMINDER_TEMPLATE,
                    params={
                        "name": reviewer.name,
                        "campaign": campaign.name,
                        "pending": row["n"],
                        "due_date": campaign.due_date.isoformat(),
                    },
                    employee=reviewer,
                )
            record(
                actions.REVIEW_REMIND,
                target=reviewer,
                params={
                    "campaign": campaign.pk,
                    "pending": row["n"],
                    "channel": channel or "none",
                },
            )
            totals["reminded"] += 1
    return totals


def start_repeats(now: datetime | None = None) -> dict[str, int]:
    """Start the next campaign of each repeating one whose next period has begun: once, as the
    unique `previous` link and the lock on the previous campaign guarantee."""
    today = local_today(now)
    created = 0
    candidates = AccessReviewCampaign.objects.exclude(repeat=Repeat.NONE).filter(
        next_campaign__isnull=True
    )
    for campaign_id in list(candidates.values_list("pk", flat=True)):
        with transaction.atomic():
            previous = (
                AccessReviewCampaign.objects.select_for_update(of=("self",))
                .select_related("owner", "department", "role")
                .get(pk=campaign_id)
            )
            starts_on = next_start(previous)
            if starts_on is None or starts_on > today:
                continue
            if AccessReviewCampaign.objects.filter(previous=previous).exists():
                continue
            _open_campaign(
                actor=None,
                owner=previous.owner,
                name=previous.name,
                scope=previous.scope,
                department=previous.department,
                role=previous.role,
                starts_on=starts_on,
                due_date=starts_on + (previous.due_date - previous.starts_on),
                undecided_default=previous.undecided_default,
                repeat=previous.repeat,
                previous=previous,
            )
            created += 1
    return {"created": created}


# --- the report as a table ---------------------------------------------------------------------

REPORT_COLUMNS = (
    ("item", _lazy("Item")),
    ("employee_id", _lazy("工号")),
    ("name", _lazy("Name")),
    ("department", _lazy("Department")),
    ("role", _lazy("Role")),
    ("granted_at", _lazy("Granted at")),
    ("last_used_at", _lazy("Last used")),
    ("reviewer", _lazy("Reviewer")),
    ("decision", _lazy("Decision")),
    ("decided_by", _lazy("Decided by")),
    ("decided_at", _lazy("Decided at")),
    ("by_default", _lazy("By default")),
    ("outcome", _lazy("Outcome")),
    ("comment", _lazy("Comment")),
)


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def render_report_rows(actor: Any, campaign: AccessReviewCampaign) -> list[list[Any]]:
    """Header and one row per item: who decided what and when, and the last use.

    Cells are as stored: `render_csv` neutralises formulas when it writes them."""
    from .usage import grants_of, last_used

    items = list(report_items_for(actor, campaign))
    used = last_used(grants_of(items))
    rows = [[str(title) for _key, title in REPORT_COLUMNS]]
    for item in items:
        values = {
            "item": item.pk,
            "employee_id": item.employee.employee_id,
            "name": item.employee.name,
            "department": item.employee.department.name if item.employee.department_id else "",
            "role": item.role.code,
            "granted_at": _moment(item.grant.granted_at),
            "last_used_at": _moment(used.get(item.grant_id)),
            "reviewer": item.reviewer.employee_id if item.reviewer_id else "",
            "decision": item.get_decision_display(),
            "decided_by": item.decided_by.employee_id
            if item.decided_by_id
            else (_("system") if item.decided_at else ""),
            "decided_at": _moment(item.decided_at),
            "by_default": _("yes") if item.by_default else "",
            "outcome": item.get_outcome_display() if item.outcome else "",
            "comment": item.comment,
        }
        rows.append([values[key] for key, _title in REPORT_COLUMNS])
    return rows
