"""The public pool (公海): customers without an owner, claimed, released and returned to it.

- A customer with no owner is in the pool; holders of customer.claim see it (masked as their
  permissions say) and claim customers from it.
- Claiming is one conditional UPDATE (`owner IS NULL`): of two employees claiming at once,
  exactly one wins, the other gets 409 already_claimed.
- The cap (GONGHAO_POOL_CLAIM_CAP) counts the customers an employee *holds at once* because
  they claimed them from the pool; releasing one, or it being transferred or returned, frees a
  place. (A per-day cap would let a rep hoard the pool over a week.)
- The daily job `crm.pool_return` returns owned customers not followed up for
  GONGHAO_POOL_RETURN_DAYS days: the later of the last interaction (by anyone) and the date the
  current owner got the customer (created, transferred or claimed) must be older than that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission, hidden_fields_for, require
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.core.jobs import register_job
from gonghao.messaging import templates as message_templates
from gonghao.messaging.services import queue_message

from . import audit_actions
from . import permissions as perms
from .contacts import live_contacts
from .followups import interactions_of
from .models import Contact, Customer, Interaction
from .queries import get_customer_for, restrict, search_condition
from .validation import _CONTROL

REASON_LIMIT = 300
# The follow-ups a pool customer's page shows (the newest; the count says how many there are).
POOL_RECENT_FOLLOW_UPS = 10
# The most customer names one "returned to the pool" e-mail lists (the count is always given).
NOTICE_NAMES = 20

POOL_RETURNED = message_templates.register(
    "crm.pool_returned",
    subject={"zh-hans": "客户已退回公海", "en": "Customers returned to the public pool"},
    body={
        "zh-hans": (
            "%(name)s，您好：您的 %(count)s 个客户超过 %(days)s 天未跟进，已退回公海："
            "%(customers)s。如需继续跟进，可在公海中重新领取。"
        ),
        "en": (
            "Hello %(name)s, %(count)s of your customers were not followed up for %(days)s "
            "days and returned to the public pool: %(customers)s. Claim them again from the "
            "pool to keep following them up."
        ),
    },
)


# --- reading ----------------------------------------------------------------------------------


def pool_for(actor: Any, q: str = "") -> QuerySet[Customer]:
    """The customers in the pool, for holders of customer.claim; searched as the customer list
    is (name, phone, e-mail; the fields hidden from the actor are not searched)."""
    require(actor, perms.CLAIM)
    queryset = Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True)
    text = q.strip()
    if text:
        # Through the search index, the pool sized from the owner index as a rep's own
        # customers are: a small pool drives the search, a large one leaves it to the index.
        # LIKE read every pooled customer (a third of 20,000: 28 ms at the median; now 7 ms).
        in_pool = Customer.objects.filter(owner__isnull=True).order_by().values("owner_id")
        hidden = hidden_fields_for(actor, perms.VIEW)
        queryset = queryset.filter(search_condition(text, hidden, scope=[in_pool]))
    return queryset.order_by(F("pool_since").desc(nulls_last=True), "-id")


def pool_customer_for(actor: Any, customer_id: int) -> Customer:
    """One customer of the pool (no owner, not deleted), for holders of customer.claim.

    403 without customer.claim; 404 for an owned, deleted or missing customer, whatever the
    actor's scope: the pool's page shows nothing of a customer that has an owner. One claimed
    from the pool meanwhile says so (claiming it would say the same); any other: not found.
    """
    require(actor, perms.CLAIM)
    live = Customer.objects.filter(pk=customer_id, deleted_at__isnull=True)
    customer = live.filter(owner__isnull=True).first()
    if customer is not None:
        return customer
    if live.filter(claimed_at__isnull=False).exists():
        raise NotFound(
            _("This customer is no longer in the public pool: someone claimed it meanwhile."),
            code="already_claimed",
        )
    raise NotFound(code="customer_not_found")


def pool_contacts(customer: Customer) -> list[Contact]:
    """The live contacts of a pool customer (from pool_customer_for), primary first."""
    return list(live_contacts(customer))


def pool_follow_ups(customer: Customer, limit: int | None = None) -> tuple[list[Interaction], int]:
    """The newest follow-ups of a pool customer (from pool_customer_for), at most `limit`
    (default POOL_RECENT_FOLLOW_UPS), and how many it has."""
    timeline = interactions_of(customer)
    shown = list(timeline[: POOL_RECENT_FOLLOW_UPS if limit is None else limit])
    return shown, timeline.count()


def record_pool_view(customer: Customer, *, actor: Any) -> None:
    """Trace who opened a pool customer, as opening any customer is (GONGHAO_AUDIT_READS).

    Its own action: the read needs customer.claim, not customer.view (access reviews read the
    audit log for the permissions a grant's holder used).
    """
    if not settings.GONGHAO_AUDIT_READS:
        return
    with transaction.atomic():
        record(audit_actions.CUSTOMER_POOL_VIEW, actor=actor, target=customer)


def held_from_pool(actor: Any) -> int:
    """How many customers the actor holds because they claimed them (what the cap counts)."""
    return Customer.objects.filter(
        owner=actor, claimed_at__isnull=False, deleted_at__isnull=True
    ).count()


def may_release(actor: Any, customer: Customer) -> bool:
    """The owner, or someone who may transfer the customer, can release it to the pool."""
    if customer.owner_id is None:
        return False
    if customer.owner_id == actor.pk:
        return True
    return has_permission(actor, perms.TRANSFER) and reach_of(actor, perms.TRANSFER).covers(
        customer.owner_id, customer.owner_department_id
    )


# --- claiming and releasing -------------------------------------------------------------------


def claim_customer(customer_id: int, *, actor: Any) -> Customer:
    """Take a customer from the pool; 409 if someone was first or the actor's cap is reached."""
    require(actor, perms.CLAIM)
    found = Customer.objects.filter(pk=customer_id, deleted_at__isnull=True)
    # A customer that never went through the pool and that the actor cannot see is not found,
    # as everywhere else: "no longer in the pool" would confirm it exists. One claimed from the
    # pool (a lost race) still answers that it is no longer there.
    been_in_pool = found.filter(Q(owner__isnull=True) | Q(claimed_at__isnull=False)).exists()
    if not been_in_pool and not restrict(found, actor, perms.VIEW).exists():
        raise NotFound(code="customer_not_found")
    cap = settings.GONGHAO_POOL_CLAIM_CAP
    with transaction.atomic():
        # One claimer at a time per employee, so two claims of theirs cannot both pass the cap.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        held = held_from_pool(actor)
        if held >= cap:
            raise Conflict(
                _(
                    "You already hold %(held)d customers claimed from the pool; the limit is "
                    "%(cap)d. Release one first."
                )
                % {"held": held, "cap": cap},
                code="claim_cap_reached",
            )
        now = clock.now()
        won = Customer.objects.filter(
            pk=customer_id, owner__isnull=True, deleted_at__isnull=True
        ).update(
            owner=actor,
            owner_department=actor.department_id,
            owner_since=now,
            claimed_at=now,
            pool_since=None,
            updated_by=actor,
            updated_at=now,
        )
        if won != 1:
            raise Conflict(
                _("This customer is no longer in the public pool."), code="already_claimed"
            )
        customer = Customer.objects.select_related("owner", "owner_department").get(pk=customer_id)
        record(
            audit_actions.CUSTOMER_POOL_CLAIM,
            actor=actor,
            target=customer,
            changes={"owner": [None, actor.employee_id]},
        )
    return customer


def clean_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(field_errors={"reason": [_("Say why the customer is released.")]})
    reason = reason.strip()
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed(
            field_errors={"reason": [_("At most %(n)d characters.") % {"n": REASON_LIMIT}]}
        )
    if _CONTROL.search(reason):
        raise ValidationFailed(field_errors={"reason": [_("Control characters are not allowed.")]})
    return reason


def _to_pool(customer: Customer, now: datetime) -> str | None:
    previous = customer.owner.employee_id if customer.owner_id else None
    customer.owner = None
    customer.owner_department = None
    customer.owner_since = None
    customer.claimed_at = None
    customer.pool_since = now
    customer.save(
        update_fields=[
            "owner",
            "owner_department",
            "owner_since",
            "claimed_at",
            "pool_since",
            "updated_by",
            "updated_at",
        ]
    )
    return previous


def release_customer(customer_id: int, *, actor: Any, reason: Any) -> Customer:
    """Give a customer back to the pool, with a reason (audited)."""
    customer = get_customer_for(actor, customer_id)
    if not may_release(actor, customer):
        raise PermissionDenied(
            _("Only the owner, or someone who may transfer it, can release a customer.")
        )
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = (
            Customer.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=customer.pk)
        )
        if locked.owner_id != customer.owner_id:
            raise Conflict(_("The customer changed hands meanwhile."), code="owner_changed")
        locked.updated_by = actor
        previous = _to_pool(locked, clock.now())
        record(
            audit_actions.CUSTOMER_POOL_RELEASE,
            actor=actor,
            target=locked,
            params={"reason": reason},
            changes={"owner": [previous, None]},
        )
    return locked


# --- returning stale customers (the daily job) ------------------------------------------------


def _stale(now: datetime, days: int) -> QuerySet[Customer]:
    cutoff = now - timedelta(days=days)
    last_interaction = Subquery(
        Interaction.objects.filter(customer=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        Customer.objects.filter(owner__isnull=False, deleted_at__isnull=True)
        .annotate(
            last_touch=last_interaction,
            owned_since=Coalesce("owner_since", "created_at"),
        )
        .filter(owned_since__lt=cutoff)
        .filter(Q(last_touch__isnull=True) | Q(last_touch__lt=cutoff))
    )


def return_stale_customers(now: datetime | None = None) -> dict[str, int]:
    """Return to the pool every owned customer not followed up for N days; idempotent."""
    now = now or clock.now()
    days = settings.GONGHAO_POOL_RETURN_DAYS
    returned = 0
    by_owner: dict[int, tuple[Any, list[str]]] = {}
    for customer_id in list(_stale(now, days).values_list("pk", flat=True).order_by("pk")):
        with transaction.atomic():
            # Checked again under the lock: a follow-up or claim since the scan keeps it.
            locked = (
                _stale(now, days)
                .select_for_update(of=("self",))
                .select_related("owner")
                .filter(pk=customer_id)
                .first()
            )
            if locked is None:
                continue
            locked.updated_by = None
            former = locked.owner
            by_owner.setdefault(former.pk, (former, []))[1].append(locked.name)
            previous = _to_pool(locked, now)
            record(
                audit_actions.CUSTOMER_POOL_RETURN,
                actor=None,
                target=locked,
                params={"from": previous, "days": days},
                changes={"owner": [previous, None]},
            )
            returned += 1
    notified = _notify_former_owners(by_owner.values(), days)
    return {"returned": returned, "notified": notified}


def _notify_former_owners(owners, days: int) -> int:
    """One e-mail per former owner listing what they lost (those without an address: none)."""
    sent = 0
    for owner, names in owners:
        if not owner.email or not owner.is_active:
            continue
        shown = "、".join(names[:NOTICE_NAMES]) + ("…" if len(names) > NOTICE_NAMES else "")
        queue_message(
            channel="email",
            recipient=owner.email,
            template=POOL_RETURNED.code,
            params={"name": owner.name, "count": len(names), "days": days, "customers": shown},
            employee=owner,
            actor=None,
        )
        sent += 1
    return sent


@register_job(
    "crm.pool_return",
    every=timedelta(days=1),
    description=gettext_lazy(
        "Return customers not followed up for GONGHAO_POOL_RETURN_DAYS days to the public pool."
    ),
)
def pool_return_job(now: datetime) -> dict[str, int]:
    return return_stale_customers(now)
