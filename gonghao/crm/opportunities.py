"""Opportunities and the pipeline: scoped reads, the board, and the services that change them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission, hidden_fields_for, require
from gonghao.audit.services import diff, record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from . import audit_actions
from . import permissions as perms
from .constants import Currency
from .models import Opportunity, Stage, StageChange
from .queries import get_customer_for

VIEW = perms.OPPORTUNITY_VIEW
CREATE = perms.OPPORTUNITY_CREATE
EDIT = perms.OPPORTUNITY_EDIT
DELETE = perms.OPPORTUNITY_DELETE
MANAGE = perms.PIPELINE_MANAGE

HIDEABLE = ("amount", "probability")
EDITABLE_FIELDS = ("name", "amount", "currency", "probability", "expected_close")
MAX_AMOUNT = Decimal(10) ** 12
NAME_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- reading -----------------------------------------------------------------------------------


def restrict_opportunities(queryset: QuerySet, actor: Any, permission: str = VIEW) -> QuerySet:
    """Narrow an opportunity queryset to the rows the actor reaches through their own owner."""
    reach = reach_of(actor, permission)
    if reach.nothing:
        return queryset.none()
    return queryset.filter(reach.q(record_field="pk"))


def hidden_for(actor: Any, permission: str = VIEW) -> set[str]:
    """Opportunity field names (amount, probability) the actor's roles hide."""
    return {
        code.split(".", 1)[1]
        for code in hidden_fields_for(actor, permission)
        if code.startswith("opportunity.")
    }


def may(actor: Any, permission: str, opportunity: Opportunity) -> bool:
    return has_permission(actor, permission) and reach_of(actor, permission).covers(
        opportunity.owner_id, opportunity.owner_department_id, opportunity.pk
    )


def get_opportunity_for(actor: Any, opportunity_id: int, permission: str = VIEW) -> Opportunity:
    """The opportunity if the actor can see it (else 404) and may act on it (else 403)."""
    if not has_permission(actor, VIEW):
        raise PermissionDenied()
    base = Opportunity.objects.select_related(
        "customer", "stage", "owner", "owner_department", "created_by"
    ).filter(deleted_at__isnull=True)
    opportunity = restrict_opportunities(base, actor).filter(pk=opportunity_id).first()
    if opportunity is None:
        raise NotFound(code="opportunity_not_found")
    if permission != VIEW and not may(actor, permission, opportunity):
        raise PermissionDenied()
    return opportunity


SORTS = {
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "close": ("expected_close", "id"),
    "-close": ("-expected_close", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


@dataclass
class OpportunityFilter:
    q: str = ""
    stage: str = ""
    owner_id: int | None = None
    customer_id: int | None = None
    closing_before: date | None = None
    closing_after: date | None = None
    sort: str = "-updated"


def opportunities_for(actor: Any, filters: OpportunityFilter | None = None) -> QuerySet:
    """The opportunities the actor may see, filtered and sorted (never by a hidden field)."""
    if not has_permission(actor, VIEW):
        raise PermissionDenied()
    filters = filters or OpportunityFilter()
    queryset = Opportunity.objects.select_related("customer", "stage", "owner").filter(
        deleted_at__isnull=True
    )
    queryset = restrict_opportunities(queryset, actor)
    text = filters.q.strip()
    if text:
        queryset = queryset.filter(name__icontains=text)
    if filters.stage:
        queryset = queryset.filter(stage__code=filters.stage)
    if filters.owner_id is not None:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.closing_before is not None:
        queryset = queryset.filter(expected_close__lte=filters.closing_before)
    if filters.closing_after is not None:
        queryset = queryset.filter(expected_close__gte=filters.closing_after)
    sort = filters.sort if filters.sort in SORTS else "-updated"
    if sort.lstrip("-") == "amount" and "amount" in hidden_for(actor):
        sort = "-updated"
    return queryset.order_by(*SORTS[sort])


def customer_opportunities_for(actor: Any, customer_id: int) -> QuerySet:
    """A customer's opportunities the actor may see; the customer itself must be visible."""
    get_customer_for(actor, customer_id)
    return opportunities_for(actor, OpportunityFilter(customer_id=customer_id))


def present(opportunity: Opportunity, actor: Any, hidden: set[str] | None = None) -> dict:
    """The opportunity as the actor may see it: hidden fields are left out entirely."""
    hidden = hidden_for(actor) if hidden is None else hidden
    data: dict[str, Any] = {
        "id": opportunity.pk,
        "name": opportunity.name,
        "customer": {"id": opportunity.customer_id, "name": opportunity.customer.name},
        "currency": opportunity.currency,
        "stage": stage_ref(opportunity.stage),
        "expected_close": opportunity.expected_close,
        "owner": (
            {"employee_id": opportunity.owner.employee_id, "name": opportunity.owner.name}
            if opportunity.owner_id
            else None
        ),
        "owner_department_id": opportunity.owner_department_id,
        "closed_at": opportunity.closed_at,
        "created_at": opportunity.created_at,
        "updated_at": opportunity.updated_at,
        "hidden_fields": sorted(hidden),
    }
    for name in HIDEABLE:
        if name not in hidden:
            data[name] = getattr(opportunity, name)
    return data


def stage_ref(stage: Stage) -> dict:
    return {
        "code": stage.code,
        "name": str(stage),
        "is_won": stage.is_won,
        "is_lost": stage.is_lost,
    }


def history_of(actor: Any, opportunity_id: int) -> QuerySet:
    opportunity = get_opportunity_for(actor, opportunity_id)
    return StageChange.objects.filter(opportunity=opportunity).select_related(
        "from_stage", "to_stage", "changed_by"
    )


def active_stages() -> QuerySet:
    return Stage.objects.filter(is_active=True).order_by("position", "id")


def stages_for(actor: Any) -> QuerySet:
    """Every stage, for those who work the pipeline or configure it."""
    if not (has_permission(actor, VIEW) or has_permission(actor, MANAGE)):
        raise PermissionDenied()
    return Stage.objects.order_by("position", "id")


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    totals: list[tuple[str, Decimal]] = field(default_factory=list)  # empty if amount is hidden
    cards: list[Opportunity] = field(default_factory=list)


BOARD_CARDS_PER_COLUMN = 50


def board_for(actor: Any, filters: OpportunityFilter | None = None) -> list[BoardColumn]:
    """The pipeline: one column per active stage with the actor's opportunities in it.

    Totals are per currency, and absent when the actor may not see amounts.
    """
    queryset = opportunities_for(actor, filters)
    show_amount = "amount" not in hidden_for(actor)
    columns = {stage.pk: BoardColumn(stage) for stage in active_stages()}
    for row in queryset.order_by().values("stage_id").annotate(n=Count("id")):
        if row["stage_id"] in columns:
            columns[row["stage_id"]].count = row["n"]
    if show_amount:
        rows = (
            queryset.order_by("currency")
            .values("stage_id", "currency")
            .annotate(total=Sum("amount"))
        )
        for row in rows:
            if row["stage_id"] in columns:
                columns[row["stage_id"]].totals.append((row["currency"], row["total"]))
    for column in columns.values():
        column.cards = list(
            queryset.filter(stage_id=column.stage.pk).order_by("expected_close", "-updated_at")[
                :BOARD_CARDS_PER_COLUMN
            ]
        )
    return list(columns.values())


# --- validation --------------------------------------------------------------------------------


def _clean_text(value: Any, limit: int) -> tuple[str | None, str | None]:
    if not isinstance(value, str):
        return None, _("Text is expected.")
    value = value.strip()
    if not value:
        return None, _("A name is required.")
    if _CONTROL.search(value):
        return None, _("Control characters are not allowed.")
    if len(value) > limit:
        return None, _("At most %(n)d characters.") % {"n": limit}
    return value, None


def _clean_amount(value: Any) -> tuple[Decimal | None, str | None]:
    if isinstance(value, bool) or value is None:
        return None, _("A number is expected.")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        return None, _("A number is expected.")
    if not amount.is_finite():
        return None, _("A number is expected.")
    if amount < 0:
        return None, _("The amount cannot be negative.")
    if amount >= MAX_AMOUNT:
        return None, _("The amount must be under 1,000,000,000,000.")
    if amount != amount.quantize(Decimal("0.01")):
        return None, _("At most two decimal places.")
    return amount.quantize(Decimal("0.01")), None


def _clean_probability(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int):
        return None, _("A whole number from 0 to 100 is expected.")
    if not 0 <= value <= 100:
        return None, _("A whole number from 0 to 100 is expected.")
    return value, None


def _clean_date(value: Any) -> tuple[date | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, date):
        return value, None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value), None
        except ValueError:
            pass
    return None, _("A date (YYYY-MM-DD) is expected.")


def clean_opportunity_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and normalise the given fields; raise ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(data) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        errors[name] = [_("Unknown field.")]
    if "name" in data or not partial:
        value, error = _clean_text(data.get("name"), NAME_LIMIT)
        if error:
            errors["name"] = [error]
        else:
            cleaned["name"] = value
    if "amount" in data:
        value, error = _clean_amount(data["amount"])
        if error:
            errors["amount"] = [error]
        else:
            cleaned["amount"] = value
    if "currency" in data:
        if data["currency"] not in Currency.values:
            errors["currency"] = [
                _("Choose one of: %(values)s") % {"values": ", ".join(Currency.values)}
            ]
        else:
            cleaned["currency"] = data["currency"]
    if "probability" in data and data["probability"] is not None:
        value, error = _clean_probability(data["probability"])
        if error:
            errors["probability"] = [error]
        else:
            cleaned["probability"] = value
    if "expected_close" in data:
        value, error = _clean_date(data["expected_close"])
        if error:
            errors["expected_close"] = [error]
        else:
            cleaned["expected_close"] = value
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


def _active_stage(code: Any, field_name: str = "stage") -> Stage:
    stage = Stage.objects.filter(code=code).first() if isinstance(code, str) and code else None
    if stage is None:
        raise ValidationFailed(field_errors={field_name: [_("No stage has this code.")]})
    if not stage.is_active:
        raise ValidationFailed(field_errors={field_name: [_("This stage is no longer in use.")]})
    return stage


def first_stage() -> Stage:
    stage = active_stages().filter(is_won=False, is_lost=False).first()
    if stage is None:
        raise ValidationFailed(field_errors={"stage": [_("No open stage is configured.")]})
    return stage


def _refuse_hidden(actor: Any, permission: str, fields: set[str]) -> None:
    blocked = sorted(fields & hidden_for(actor, permission))
    if blocked:
        raise ValidationFailed(
            field_errors={name: [_("This field is not available to you.")] for name in blocked},
            code="field_hidden",
        )


def _check_owner_in_reach(actor: Any, permission: str, owner: Any) -> None:
    if owner is None or not owner.is_active:
        raise ValidationFailed(field_errors={"owner": [_("The owner must be an active employee.")]})
    if not reach_of(actor, permission).covers(owner.pk, owner.department_id):
        raise PermissionDenied(
            _("You cannot give an opportunity to an employee outside your scope."),
            code="owner_out_of_scope",
        )


# --- services ----------------------------------------------------------------------------------


def snapshot(opportunity: Opportunity) -> dict[str, Any]:
    data = {name: getattr(opportunity, name) for name in EDITABLE_FIELDS}
    data["stage"] = opportunity.stage.code
    data["owner"] = opportunity.owner.employee_id if opportunity.owner_id else None
    data["customer"] = opportunity.customer_id
    return data


def _closed_at_for(stage: Stage, current: Any) -> Any:
    if stage.is_closed:
        return current or clock.now()
    return None


def create_opportunity(
    *,
    actor: Any,
    customer_id: int,
    data: dict[str, Any],
    stage_code: str | None = None,
    owner: Any = None,
) -> Opportunity:
    """A new opportunity on a customer the actor can see; its first stage change is recorded."""
    require(actor, CREATE)
    customer = get_customer_for(actor, customer_id)
    _refuse_hidden(actor, CREATE, {k for k, v in data.items() if v is not None})
    cleaned = clean_opportunity_fields(data, partial=False)
    stage = _active_stage(stage_code) if stage_code else first_stage()
    owner = owner or actor
    _check_owner_in_reach(actor, CREATE, owner)
    with transaction.atomic():
        opportunity = Opportunity(customer=customer, stage=stage, **cleaned)
        if "probability" not in cleaned:
            opportunity.probability = stage.probability
        opportunity.closed_at = _closed_at_for(stage, None)
        opportunity.owner = owner
        opportunity.owner_department_id = owner.department_id
        opportunity.created_by = actor
        opportunity.save()
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=None,
            to_stage=stage,
            changed_by=actor,
            changed_at=clock.now(),
        )
        record(
            audit_actions.OPPORTUNITY_CREATE,
            actor=actor,
            target=opportunity,
            changes={
                k: v for k, v in diff({}, snapshot(opportunity)).items() if v[1] not in ("", None)
            },
        )
    return opportunity


def update_opportunity(
    opportunity_id: int, *, actor: Any, data: dict[str, Any], owner: Any = None
) -> Opportunity:
    """Change an opportunity's fields (not its stage: see move_opportunity) or its owner."""
    get_opportunity_for(actor, opportunity_id, EDIT)
    _refuse_hidden(actor, EDIT, set(data))
    cleaned = clean_opportunity_fields(data, partial=True)
    if owner is not None:
        _check_owner_in_reach(actor, EDIT, owner)
    with transaction.atomic():
        opportunity = (
            Opportunity.objects.select_for_update(of=("self",))
            .select_related("stage", "owner", "customer")
            .get(pk=opportunity_id)
        )
        before = snapshot(opportunity)
        for name, value in cleaned.items():
            setattr(opportunity, name, value)
        if owner is not None:
            opportunity.owner = owner
            opportunity.owner_department_id = owner.department_id
        changes = diff(before, snapshot(opportunity))
        if not changes:
            return opportunity
        opportunity.save()
        record(audit_actions.OPPORTUNITY_UPDATE, actor=actor, target=opportunity, changes=changes)
    return opportunity


def move_opportunity(
    opportunity_id: int, *, actor: Any, stage_code: str, probability: int | None = None
) -> Opportunity:
    """Move to another stage: history row, probability from the stage unless given, closing."""
    get_opportunity_for(actor, opportunity_id, EDIT)
    if probability is not None:
        _refuse_hidden(actor, EDIT, {"probability"})
        cleaned = clean_opportunity_fields({"probability": probability}, partial=True)
        probability = cleaned["probability"]
    stage = _active_stage(stage_code)
    with transaction.atomic():
        opportunity = (
            Opportunity.objects.select_for_update(of=("self",))
            .select_related("stage", "owner", "customer")
            .get(pk=opportunity_id)
        )
        if opportunity.stage_id == stage.pk:
            return opportunity
        previous = opportunity.stage
        before = {
            "stage": previous.code,
            "probability": opportunity.probability,
            "closed_at": opportunity.closed_at,
        }
        opportunity.stage = stage
        opportunity.probability = stage.probability if probability is None else probability
        opportunity.closed_at = _closed_at_for(stage, opportunity.closed_at)
        if previous.is_closed and stage.is_closed:
            opportunity.closed_at = clock.now()  # won ↔ lost: closed anew
        opportunity.save()
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=previous,
            to_stage=stage,
            changed_by=actor,
            changed_at=clock.now(),
        )
        after = {
            "stage": stage.code,
            "probability": opportunity.probability,
            "closed_at": opportunity.closed_at,
        }
        record(
            audit_actions.OPPORTUNITY_STAGE,
            actor=actor,
            target=opportunity,
            params={"from": previous.code, "to": stage.code},
            changes=diff(before, after),
        )
    return opportunity


def delete_opportunity(opportunity_id: int, *, actor: Any) -> Opportunity:
    get_opportunity_for(actor, opportunity_id, DELETE)
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity_id)
        opportunity.deleted_at = clock.now()
        opportunity.save(update_fields=["deleted_at", "updated_at"])
        record(audit_actions.OPPORTUNITY_DELETE, actor=actor, target=opportunity)
    return opportunity


# --- stage configuration -----------------------------------------------------------------------

STAGE_FIELDS = ("code", "name_zh", "name_en", "position", "probability", "is_won", "is_lost")
STAGE_FIELDS_ALL = (*STAGE_FIELDS, "is_active")
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def clean_stage_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(data) - set(STAGE_FIELDS_ALL)):
        errors[name] = [_("Unknown field.")]
    if "code" in data or not partial:
        code = data.get("code")
        if not isinstance(code, str) or not _CODE.fullmatch(code.strip()):
            errors["code"] = [
                _("1 to 32 lower-case letters, digits, hyphens or underscores are expected.")
            ]
        else:
            cleaned["code"] = code.strip()
    for name in ("name_zh", "name_en"):
        if name in data or not partial:
            value, error = _clean_text(data.get(name), 50)
            if error:
                errors[name] = [error]
            else:
                cleaned[name] = value
    if "position" in data and data["position"] is not None:
        value = data["position"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
            errors["position"] = [_("A whole number from 0 to 32767 is expected.")]
        else:
            cleaned["position"] = value
    if "probability" in data and data["probability"] is not None:
        value, error = _clean_probability(data["probability"])
        if error:
            errors["probability"] = [error]
        else:
            cleaned["probability"] = value
    for name in ("is_won", "is_lost", "is_active"):
        if name in data and data[name] is not None:
            if not isinstance(data[name], bool):
                errors[name] = [_("True or false is expected.")]
            else:
                cleaned[name] = data[name]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


def _stage_snapshot(stage: Stage) -> dict[str, Any]:
    return {name: getattr(stage, name) for name in STAGE_FIELDS_ALL}


def _code_taken(code: str, exclude_pk: int | None = None) -> None:
    taken = Stage.objects.filter(code=code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise Conflict(_("Another stage already has this code."), code="stage_code_taken")


def _won_and_lost(stage: Stage) -> None:
    if stage.is_won and stage.is_lost:
        raise ValidationFailed(
            field_errors={"is_lost": [_("A stage cannot be both won and lost.")]}
        )


def create_stage(*, actor: Any, data: dict[str, Any]) -> Stage:
    require(actor, MANAGE)
    cleaned = clean_stage_fields(data, partial=False)
    stage = Stage(**cleaned)
    _won_and_lost(stage)
    with transaction.atomic():
        _code_taken(stage.code)
        stage.save()
        record(
            audit_actions.STAGE_CREATE,
            actor=actor,
            target=stage,
            target_label=stage.code,
            changes=diff({}, _stage_snapshot(stage)),
        )
    return stage


def get_stage(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise NotFound(code="stage_not_found")
    return stage


def update_stage(stage_id: int, *, actor: Any, data: dict[str, Any]) -> Stage:
    """Change a stage; one with open opportunities in it cannot be switched off (409)."""
    require(actor, MANAGE)
    cleaned = clean_stage_fields(data, partial=True)
    with transaction.atomic():
        stage = Stage.objects.select_for_update().filter(pk=stage_id).first()
        if stage is None:
            raise NotFound(code="stage_not_found")
        before = _stage_snapshot(stage)
        for name, value in cleaned.items():
            setattr(stage, name, value)
        _won_and_lost(stage)
        changes = diff(before, _stage_snapshot(stage))
        if not changes:
            return stage
        if "code" in changes:
            _code_taken(stage.code, exclude_pk=stage.pk)
        was_open = not (before["is_won"] or before["is_lost"])
        if "is_active" in changes and not stage.is_active and was_open:
            in_use = Opportunity.objects.filter(stage_id=stage.pk, deleted_at__isnull=True)
            if in_use.exists():
                raise Conflict(
                    _("Open opportunities are in this stage: move them before switching it off."),
                    code="stage_in_use",
                )
        stage.save()
        record(
            audit_actions.STAGE_UPDATE,
            actor=actor,
            target=stage,
            target_label=stage.code,
            changes=changes,
        )
    return stage
