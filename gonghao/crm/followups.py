"""Interactions (跟进记录): the customer's timeline, recording follow-ups, and "my follow-ups"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gonghao.access.services import has_permission, require
from gonghao.audit.services import record
from gonghao.core import clock, home
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.core.text import has_control_characters

from . import audit_actions
from . import permissions as perms
from .constants import InteractionKind
from .models import Contact, Customer, Interaction
from .queries import get_customer_for, require_any_access, restrict

# A clock a few minutes fast on the caller's side is not "the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
LIMITS = {"content": 5000, "outcome": 300}
DUE_CHOICES = ("today", "overdue", "all")


# --- reading ----------------------------------------------------------------------------------


def timeline_for(actor: Any, customer_id: int) -> QuerySet[Interaction]:
    """The customer's interactions, newest first, for anyone who can see the customer."""
    return interactions_of(get_customer_for(actor, customer_id))


def interactions_of(customer: Customer) -> QuerySet[Interaction]:
    """The interactions of a customer the caller has already checked (get_customer_for)."""
    return (
        Interaction.objects.filter(customer=customer)
        .select_related("employee", "contact", "customer")
        .order_by("-occurred_at", "-id")
    )


def today_for_viewer() -> date:
    """Today in the active time zone (the viewer's, set by the middleware)."""
    return timezone.localdate(clock.now())


def my_follow_ups(actor: Any, due: str = "all") -> QuerySet[Interaction]:
    """The actor's open follow-ups due today and/or overdue, on customers still visible to them."""
    require_any_access(actor)
    if due not in DUE_CHOICES:
        raise ValidationFailed(
            field_errors={
                "due": [_("Choose one of: %(values)s") % {"values": ", ".join(DUE_CHOICES)}]
            }
        )
    today = today_for_viewer()
    visible = restrict(Customer.objects.filter(deleted_at__isnull=True), actor, perms.VIEW)
    queryset = Interaction.objects.filter(
        employee=actor,
        follow_up_done_at__isnull=True,
        next_follow_up__isnull=False,
        customer__in=visible.values("pk"),
    )
    if due == "today":
        queryset = queryset.filter(next_follow_up=today)
    elif due == "overdue":
        queryset = queryset.filter(next_follow_up__lt=today)
    else:
        queryset = queryset.filter(next_follow_up__lte=today)
    return queryset.select_related("customer", "contact", "employee").order_by(
        "next_follow_up", "occurred_at", "id"
    )


@home.register
def home_follow_ups(request) -> home.HomeSection | None:
    """My follow-ups due today and overdue, on the home page when there are any."""
    lists = follow_up_lists(request.user)
    if not lists["follow_ups_today"] and not lists["follow_ups_overdue"]:
        return None
    return home.HomeSection("crm/_home_followups.html", lists)


def follow_up_lists(actor: Any, limit: int = 20) -> dict[str, list[Interaction]]:
    """The home page's two lists; empty for those who cannot see customers."""
    if not has_permission(actor, perms.VIEW):
        return {"follow_ups_today": [], "follow_ups_overdue": []}
    return {
        "follow_ups_today": list(my_follow_ups(actor, "today")[:limit]),
        "follow_ups_overdue": list(my_follow_ups(actor, "overdue")[:limit]),
    }


# --- validation -------------------------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def clean_interaction(customer: Customer, data: dict[str, Any]) -> dict[str, Any]:
    """Validate an interaction for `customer`; raise ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    allowed = {"kind", "occurred_at", "content", "outcome", "next_follow_up", "contact_id"}
    for name in sorted(set(data) - allowed):
        errors[name] = [_("Unknown field.")]
    kind = data.get("kind") or ""
    if kind not in InteractionKind.values:
        errors["kind"] = [
            _("Choose one of: %(values)s") % {"values": ", ".join(InteractionKind.values)}
        ]
    else:
        cleaned["kind"] = kind
    for name in ("content", "outcome"):
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = [_("Text is expected.")]
            continue
        value = value.strip()
        if has_control_characters(value, multiline=name == "content"):
            errors[name] = [_("Control characters are not allowed.")]
        elif len(value) > LIMITS[name]:
            errors[name] = [_("At most %(n)d characters.") % {"n": LIMITS[name]}]
        else:
            cleaned[name] = value
    if "content" in cleaned and not cleaned["content"]:
        errors["content"] = [_("Say what happened.")]
    now = clock.now()
    raw_when = data.get("occurred_at")
    if raw_when in (None, ""):
        occurred_at = now
    else:
        occurred_at = _as_datetime(raw_when)
        if occurred_at is None:
            errors["occurred_at"] = [_("Not a valid date and time.")]
        elif occurred_at > now + FUTURE_TOLERANCE:
            errors["occurred_at"] = [_("The time cannot be in the future.")]
    if occurred_at is not None:
        cleaned["occurred_at"] = occurred_at
    raw_next = data.get("next_follow_up")
    if raw_next not in (None, ""):
        next_follow_up = _as_date(raw_next)
        if next_follow_up is None:
            errors["next_follow_up"] = [_("Not a valid date.")]
        elif occurred_at is not None and next_follow_up < timezone.localdate(occurred_at):
            errors["next_follow_up"] = [_("The next follow-up cannot be before the interaction.")]
        else:
            cleaned["next_follow_up"] = next_follow_up
    else:
        cleaned["next_follow_up"] = None
    contact_id = data.get("contact_id")
    cleaned["contact"] = None
    if contact_id not in (None, ""):
        contact = None
        if isinstance(contact_id, int) or (isinstance(contact_id, str) and contact_id.isdigit()):
            contact = Contact.objects.filter(
                pk=int(contact_id), customer=customer, deleted_at__isnull=True
            ).first()
        if contact is None:
            errors["contact_id"] = [_("Choose a contact of this customer.")]
        cleaned["contact"] = contact
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


# --- writing ----------------------------------------------------------------------------------


def record_interaction(customer_id: int, *, actor: Any, data: dict[str, Any]) -> Interaction:
    """Record a follow-up by the actor; their earlier open follow-ups on the customer are done."""
    customer = get_customer_for(actor, customer_id)
    require(actor, perms.INTERACTION_CREATE)
    cleaned = clean_interaction(customer, data)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        now = clock.now()
        open_ones = Interaction.objects.filter(
            customer=customer,
            employee=actor,
            follow_up_done_at__isnull=True,
            next_follow_up__isnull=False,
        )
        closed = sorted(open_ones.values_list("pk", flat=True))
        if closed:
            Interaction.objects.filter(pk__in=closed).update(follow_up_done_at=now)
        interaction = Interaction.objects.create(customer=customer, employee=actor, **cleaned)
        changes: dict[str, list[Any]] = {
            "kind": [None, interaction.kind],
            "occurred_at": [None, interaction.occurred_at.isoformat()],
        }
        if interaction.next_follow_up:
            changes["next_follow_up"] = [None, interaction.next_follow_up.isoformat()]
        if interaction.contact_id:
            changes["contact"] = [None, interaction.contact.name]
        if closed:
            changes["follow_ups_done"] = [None, closed]
        record(
            audit_actions.INTERACTION_CREATE,
            actor=actor,
            target=customer,
            params={"kind": interaction.kind, "interaction": interaction.pk},
            changes=changes,
        )
    return interaction


def get_interaction_for(actor: Any, interaction_id: int) -> Interaction:
    """An interaction on a customer the actor can see (else 404)."""
    require_any_access(actor)
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None:
        raise NotFound(code="interaction_not_found")
    try:
        interaction.customer = get_customer_for(actor, interaction.customer_id)
    except NotFound:
        raise NotFound(code="interaction_not_found") from None
    return interaction


def mark_follow_up_done(interaction_id: int, *, actor: Any) -> Interaction:
    """Close one's own follow-up; already closed: nothing changes (and nothing is audited)."""
    interaction = get_interaction_for(actor, interaction_id)
    if interaction.employee_id != actor.pk:
        raise PermissionDenied(_("Only your own follow-ups can be marked done."))
    if interaction.next_follow_up is None:
        raise Conflict(_("This interaction has no follow-up to close."), code="no_follow_up")
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction_id)
        if locked.follow_up_done_at is not None:
            locked.customer = interaction.customer
            return locked
        locked.follow_up_done_at = clock.now()
        locked.save(update_fields=["follow_up_done_at"])
        record(
            audit_actions.INTERACTION_FOLLOW_UP_DONE,
            actor=actor,
            target=interaction.customer,
            params={"interaction": locked.pk},
            changes={
                "follow_up_done_at": [None, locked.follow_up_done_at.isoformat()],
            },
        )
    locked.customer = interaction.customer
    return locked
