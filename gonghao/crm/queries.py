"""Reading customers within the actor's scope; presenting them masked and field-filtered."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import CharField, F, Func, IntegerField, Q, QuerySet
from django.utils.translation import gettext as _

from gonghao.access.scopes import ScopeReach, reach_of
from gonghao.access.services import has_permission, hidden_fields_for
from gonghao.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghao.core.lookups import InSubquery
from gonghao.core.prepared import Bound, BoundList, InList, PreparedQuery

from . import permissions as perms
from . import search_index
from .constants import SENSITIVE_FIELDS
from .masking import mask
from .models import Customer, fold


def restrict(queryset: QuerySet[Customer], actor: Any, permission: str) -> QuerySet[Customer]:
    """Narrow any customer queryset to the rows the actor reaches with `permission`."""
    return within(queryset, reach_of(actor, permission))


def within(queryset: QuerySet[Customer], reach: ScopeReach) -> QuerySet[Customer]:
    if reach.nothing:
        return queryset.none()
    return queryset.filter(reach.q(record_field="pk"))


def require_any_access(actor: Any, permission: str = perms.VIEW) -> None:
    """Callers without the permission at all are refused outright (403), whatever the record."""
    if not has_permission(actor, permission):
        raise PermissionDenied()


def get_customer_for(
    actor: Any,
    customer_id: int,
    permission: str = perms.VIEW,
    *,
    deleted: bool = False,
    annotations: dict[str, Any] | None = None,
) -> Customer:
    """The customer if the actor can see it (else 404) and may act on it (else 403).

    `annotations`: more values read in the same query (the customer page's import batch)."""
    require_any_access(actor, perms.VIEW if not deleted else perms.RESTORE)
    base = Customer.objects.select_related("owner", "owner_department", "created_by", "updated_by")
    if annotations:
        base = base.annotate(**annotations)
    base = base.filter(deleted_at__isnull=not deleted)
    visible_permission = perms.VIEW if not deleted else perms.RESTORE
    customer = restrict(base, actor, visible_permission).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(code="customer_not_found")
    if permission != visible_permission:
        if not has_permission(actor, permission):
            raise PermissionDenied()
        reach = reach_of(actor, permission)
        if not reach.covers(customer.owner_id, customer.owner_department_id, customer.pk):
            raise PermissionDenied()
    return customer


SORTS = {
    "-added": ("-id",),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "level": ("level", "name", "id"),
}
# The order of a list when none is chosen (or the one chosen is unknown or hidden): the most
# recently updated customers first; for a search, the most recently added (newest record
# first). A searched list in that order is read from the search index in customer-id order
# and stops after its page (search_index.narrowing); any other order sorts every match first,
# thousands for a broad term.
DEFAULT_SORT = "-updated"
SEARCH_SORT = "-added"


@dataclass
class CustomerFilter:
    q: str = ""
    status: str = ""
    level: str = ""
    source: str = ""
    kind: str = ""
    owner_id: int | None = None
    department_id: int | None = None
    tag: str = ""
    sort: str = ""  # a key of SORTS; empty: the list's default (DEFAULT_SORT, SEARCH_SORT)
    deleted: bool = False
    shared: str = ""  # "with_me": only customers shared with the actor


SHARED_CHOICES = ("with_me",)


def search_digits(text: str) -> str:
    """The digits to look for in phone numbers: "+86 138 1234 1234" searches 13812341234."""
    digits = re.sub(r"\D", "", text)
    if text.lstrip().startswith("+86") or (len(digits) == 13 and digits.startswith("86")):
        digits = digits[2:]
    return digits


def search_condition(
    text: str,
    hidden: set[str] | frozenset[str] = frozenset(),
    reach: ScopeReach | None = None,
    *,
    scope: list[QuerySet] | None = None,
) -> Q:
    """Customers whose folded name contains the folded text, or whose phone contains its
    digits (three or more), or whose e-mail contains it (when it has an "@").

    The n-gram index (search_index) picks the candidates; the folded columns confirm them, so
    the result is exactly that of the plain `LIKE` conditions. Too short for the index: `LIKE`.
    `reach`, the scope the caller restricts the customers to, lets a narrow scope drive the
    search (search_index.narrowing); it never changes which customers match. `scope` gives
    those customers directly, as `scope_parts` would (the public pool, which no reach names).
    """
    folded = fold(text)
    digits = search_digits(text)
    by_phone = len(digits) >= 3 and "customer.phone" not in hidden
    by_email = "@" in text and "customer.email" not in hidden
    condition = Q(name_folded__contains=folded)
    if by_phone:
        condition |= Q(phone_digits__contains=digits)
    if by_email:
        condition |= Q(email__icontains=text)
    too_short = len(folded) < search_index.NAME_GRAM or (
        by_phone and len(digits) < search_index.PHONE_GRAM
    )
    if too_short or by_email:
        return condition
    if scope is None and reach is not None and not reach.everything and not reach.nothing:
        scope = scope_parts(reach)
    narrowed = search_index.narrowing(folded, digits if by_phone else "", scope)
    return narrowed & condition


def scope_parts(reach: ScopeReach) -> list[QuerySet]:
    """The reach's customers as querysets to count from indexes alone (the owner and the
    department indexes, the shares), for the search's probe to size the scope."""
    parts: list[QuerySet] = []
    if reach.owner_ids:
        owned = Customer.objects.filter(owner_id__in=sorted(reach.owner_ids))
        parts.append(owned.order_by().values("owner_id"))
    if reach.department_ids:
        held = Customer.objects.filter(owner_department_id__in=sorted(reach.department_ids))
        parts.append(held.order_by().values("owner_department_id"))
    parts.extend(direct.ids.order_by() for direct in reach.direct)
    return parts


# Filters a list applies by equality: the filter's name → (lookup, field of its value).
EQUALITY_FILTERS = {
    "status": ("status", CharField()),
    "kind": ("kind", CharField()),
    "level": ("level", CharField()),
    "source": ("source", CharField()),
    "owner_id": ("owner_id", IntegerField()),
    "department_id": ("owner_department_id", IntegerField()),
}
# Filters a role can hide (a hidden field can be neither searched nor filtered on).
HIDEABLE_FILTERS = ("level", "source")


def _list_access(actor: Any, filters: CustomerFilter, permission: str) -> tuple[str, frozenset]:
    """The permission a list is read under, checked, and the fields it hides."""
    visible_permission = perms.RESTORE if filters.deleted else permission
    require_any_access(actor, visible_permission)
    if filters.shared and filters.shared not in SHARED_CHOICES:
        raise ValidationFailed(
            field_errors={
                "shared": [_("Choose one of: %(values)s") % {"values": ", ".join(SHARED_CHOICES)}]
            }
        )
    return visible_permission, frozenset(hidden_fields_for(actor, visible_permission))


def _equality_filters(filters: CustomerFilter, hidden: frozenset) -> list[tuple[str, Any]]:
    applied = []
    for name in EQUALITY_FILTERS:
        value = getattr(filters, name)
        if value in ("", None) or (name in HIDEABLE_FILTERS and f"customer.{name}" in hidden):
            continue
        applied.append((name, value))
    return applied


def _tag_filtered(filters: CustomerFilter, hidden: frozenset) -> bool:
    return bool(filters.tag) and "customer.tags" not in hidden


def customers_for(actor: Any, filters: CustomerFilter, permission: str = perms.VIEW):
    """The customers the actor may list under `permission`, searched, filtered and sorted.

    Search and filters never reach fields the actor's roles hide.
    """
    visible_permission, hidden = _list_access(actor, filters, permission)
    return _customers(actor, filters, visible_permission, hidden)


def _customers(
    actor: Any, filters: CustomerFilter, visible_permission: str, hidden: frozenset
) -> QuerySet[Customer]:
    reach = reach_of(actor, visible_permission)
    queryset = within(_live_or_deleted(filters), reach)
    for condition in _conditions(actor, filters, hidden, reach):
        queryset = queryset.filter(condition)
    return queryset.order_by(*SORTS[applied_sort(filters, hidden)])


def _live_or_deleted(filters: CustomerFilter) -> QuerySet[Customer]:
    # Lists show the owner's 工号 and name; the department is used by its id only.
    return Customer.objects.select_related("owner").filter(deleted_at__isnull=not filters.deleted)


def _conditions(
    actor: Any, filters: CustomerFilter, hidden: frozenset, reach: ScopeReach
) -> list[Q]:
    """What the list's search and filters ask of its customers, beside the scope."""
    conditions = []
    text = filters.q.strip()
    if text:
        conditions.append(search_condition(text, hidden, reach))
    for name, value in _equality_filters(filters, hidden):
        conditions.append(Q(**{EQUALITY_FILTERS[name][0]: value}))
    if _tag_filtered(filters, hidden):
        conditions.append(Q(tags__icontains=filters.tag))
    if filters.shared == "with_me":
        from .share_reach import shared_customer_ids

        conditions.append(Q(pk__in=shared_customer_ids(actor)))
    return conditions


def _reach_parts(reach: ScopeReach) -> list[Q]:
    """The conditions the reach's scope ORs (ScopeReach.q with record_field="pk"): its owners,
    its departments, each reach of customers one by one (shares)."""
    parts = []
    if reach.owner_ids:
        parts.append(Q(owner_id__in=sorted(reach.owner_ids)))
    if reach.department_ids:
        parts.append(Q(owner_department_id__in=sorted(reach.department_ids)))
    parts.extend(Q(InSubquery(F("pk"), direct.ids)) for direct in reach.direct)
    return parts


def _parted(reach: ScopeReach) -> list[Q] | None:
    """The reach's parts when PostgreSQL is better given them apart (see _first_of_parts and
    of_customers_for); None for one part, everything or nothing, and on SQLite."""
    if connection.vendor != "postgresql" or reach.everything or reach.nothing:
        return None
    parts = _reach_parts(reach)
    return parts if len(parts) > 1 else None


def _first_of_parts(
    listed: QuerySet[Customer], parts: list[Q], order: tuple[str, ...], stop: int
) -> QuerySet[Customer]:
    """The customers of `listed` in any of `parts`, as a page ending at `stop` reads them on
    PostgreSQL: among each part's first `stop` customers in the list's order, each part read
    from its own index. Given the OR of the parts, with ORDER BY and LIMIT, the planner walks
    the sort index of the whole table instead, guessing every owner holds an average book: a
    rep owning 50 of 1,000,000 customers with one share waited 1.16 s for a page (0.8 ms
    this way). Order and slice the result as the page."""
    firsts = [listed.filter(part).order_by(*order).values("pk")[:stop] for part in parts]
    return Customer.objects.filter(pk__in=firsts[0].union(*firsts[1:]))


def of_customers_for(
    actor: Any, filters: CustomerFilter, permission: str = perms.VIEW, field: str = "customer_id"
) -> Q:
    """The condition on records whose `field` holds the id of one of customers_for(actor,
    filters, permission): the exports of contacts and follow-ups read those of the customers
    exported.

    On PostgreSQL a scope of several parts (a rep's own customers and those shared with them)
    is given as `field = ANY(ARRAY(UNION of each part's customers))`, each part read from its
    own index, the array made once. Given `field IN (customers in the OR of the parts)`,
    PostgreSQL guessed the rep's book at the average and read every customer (or every
    contact) to find the rep's: a rep owning 50 of 1,000,000 customers with one share waited
    0.46 s for the contacts of their 51 (0.7 ms this way), with 600 shares 6.6 s (12 ms).
    """
    visible_permission, hidden = _list_access(actor, filters, permission)
    reach = reach_of(actor, visible_permission)
    parts = _parted(reach)
    if parts is None:
        customers = _customers(actor, filters, visible_permission, hidden)
        return Q(**{f"{field}__in": customers.values("pk")})
    unscoped = _unscoped(actor, filters, hidden, reach).order_by()
    ids = [unscoped.filter(part).values("pk") for part in parts]
    return Q(InSubquery(F(field), ids[0].union(*ids[1:])))


def _unscoped(
    actor: Any, filters: CustomerFilter, hidden: frozenset, reach: ScopeReach
) -> QuerySet[Customer]:
    """The customers of the list's search and filters, before its scope narrows them."""
    queryset = Customer.objects.filter(deleted_at__isnull=not filters.deleted)
    for condition in _conditions(actor, filters, hidden, reach):
        queryset = queryset.filter(condition)
    return queryset


@dataclass(frozen=True)
class _ListShape:
    """What shapes the SQL of an unsearched customer list; its values go apart."""

    deleted: bool
    everything: bool
    # How many owners, departments and records one by one (shares) the scope lists.
    owners: int
    departments: int
    direct: int
    filters: tuple[str, ...]
    sort: str
    # Read the list whole and sort it (PostgreSQL, a small list in a WHOLE_SORTS order).
    whole: bool = False


def _build_list(shape: _ListShape, start: int | None, stop: int | None) -> QuerySet[Customer]:
    listed = Customer.objects.filter(deleted_at__isnull=not shape.deleted)
    for name in shape.filters:
        lookup, field = EQUALITY_FILTERS[name]
        listed = listed.filter(**{lookup: Bound(name, field)})
    order = SORTS[shape.sort] if not shape.whole else _unindexed(SORTS[shape.sort])
    queryset = listed
    if not shape.everything:
        # The scope, as access.scopes.ScopeReach.q() writes it, its shares as a list of ids.
        parts = [
            Q(InList(F(field), BoundList(name, length)))
            for field, name, length in (
                ("owner_id", "owners", shape.owners),
                ("owner_department_id", "departments", shape.departments),
                ("pk", "direct", shape.direct),
            )
            if length
        ]
        if (
            stop is not None
            and len(parts) > 1
            and connection.vendor == "postgresql"
            and not shape.whole
        ):
            # A page of a scope made of several parts: see _first_of_parts.
            queryset = _first_of_parts(listed, parts, order, stop)
        else:
            scope = Q(pk__in=[])
            for part in parts:
                scope |= part
            queryset = listed.filter(scope)
    queryset = queryset.select_related("owner").order_by(*order)
    return queryset if start is None else queryset[start:stop]


CUSTOMER_LIST = PreparedQuery(_build_list)

# The sorts whose index PostgreSQL may walk over the whole table for a small list. Given
# `owner_id IN (me) ORDER BY name, id LIMIT 50`, the planner guesses the rep's book at the
# average (5,000 of 1,000,000 customers for 200 owners), not the 50 it holds, and walks the
# `name` index until it has found 50 of them: 3.4 s. The same for `created_at` (its index is
# led by the date). The owner and department indexes give `updated` in order; `level` and
# `-added` were measured read from the owner index and sorted.
WHOLE_SORTS = ("name", "-name", "created", "-created")
# Up to how many customers a list is read whole and sorted for its first page of 50 (more
# for a deeper page, see _reads_whole). Walking the sort's index reads about
# stop × table / count rows to find a page ending at `stop`; reading the list whole, count
# rows. At 1,000,000 customers, 50 a page: an owner with 5,077 customers 25 ms whole against
# 41 ms walking; a department with 96,000, 233 ms against 0.7 ms.
WHOLE_UP_TO = 5000


def _reads_whole(count: int, stop: int) -> bool:
    """Whether a list of `count` customers in a WHOLE_SORTS order is better read whole and
    sorted for a page ending at `stop`: up to WHOLE_UP_TO for the first page of 50, growing
    with the square root of `stop` (the index walk's cost grows with it, the sort's does not)."""
    return count <= _whole_limit(stop)


def _whole_limit(stop: int) -> int:
    return int(WHOLE_UP_TO * math.sqrt(max(stop, 50) / 50))


def _unindexed(order: tuple[str, ...]) -> tuple[Any, ...]:
    """`order` with its first key wrapped where no index matches it (`COALESCE(name)`, which
    sorts as `name`): PostgreSQL then reads the list's customers from the scope's indexes and
    sorts them, instead of walking the sort's index over the whole table."""
    first, *rest = order
    key = Func(F(first.lstrip("-")), function="COALESCE")
    return (key.desc() if first.startswith("-") else key.asc(), *rest)


# Past this many customers reached one by one (shares), the list is not prepared: the ids
# would travel as one long parameter instead of a subquery.
MAX_PREPARED_DIRECT = 500


def page_bounds(item: slice) -> tuple[int, int | None]:
    """The start and stop of a page asked of a customer list (stop None: to the end, never
    before start); anything but a plain slice is refused."""
    if not isinstance(item, slice) or item.step is not None:
        raise TypeError("a customer list is read by pages: list[start:stop]")
    start = max(0, item.start or 0)
    return start, None if item.stop is None else max(start, item.stop)


class PreparedCustomerList:
    """An unsearched list of customers_for(), paged by slicing and counted like a QuerySet,
    each page and count run from SQL compiled once (core/prepared.py)."""

    ordered = True

    def __init__(self, shape: _ListShape, values: dict[str, Any]) -> None:
        self.shape = shape
        self.values = values
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = CUSTOMER_LIST.count(self.shape, None, None, **self.values)
        return self._count

    def __getitem__(self, item: slice) -> list[Customer]:
        start, stop = page_bounds(item)
        if stop == start:
            return []
        shape = self.shape
        if stop is not None and self._whole(stop):
            shape = replace(shape, whole=True)
        return CUSTOMER_LIST.all(shape, start, stop, **self.values)

    def _whole(self, stop: int) -> bool:
        """Whether the page is read from the list whole, sorted (see WHOLE_SORTS): on
        PostgreSQL, in those orders, for a small list. Its size is the count when the caller
        counted first (the pages do), else a count that stops past the limit (one query)."""
        if connection.vendor != "postgresql" or self.shape.sort not in WHOLE_SORTS:
            return False
        limit = _whole_limit(stop)
        size = self._count
        if size is None:
            size = self._plain().order_by().values("pk")[: limit + 1].count()
        return _reads_whole(size, stop)

    def _plain(self) -> QuerySet[Customer]:
        """The list as an ordinary QuerySet (its scope the plain OR), unordered."""
        shape, values = self.shape, self.values
        listed = Customer.objects.filter(deleted_at__isnull=not shape.deleted)
        for name in shape.filters:
            listed = listed.filter(**{EQUALITY_FILTERS[name][0]: values[name]})
        if shape.everything:
            return listed
        scope = Q(pk__in=[])
        for field, name in (
            ("owner_id", "owners"),
            ("owner_department_id", "departments"),
            ("pk", "direct"),
        ):
            if values.get(name):
                scope |= Q(**{f"{field}__in": values[name]})
        return listed.filter(scope)


# The sorts in which the owner and department parts of a scope are read from their own
# indexes in order (customer_owner_live, customer_dept_live). In another order a part's first
# rows may be found by walking the sort's index over the whole table (the planner guesses a
# rep's book at the average): by name, 823 ms against 623 ms for the OR (1,000,000 customers,
# a rep with 50 and 600 shares), so those orders keep the QuerySet (WholeSortedList for the
# WHOLE_SORTS).
PARTS_IN_ORDER = ("-updated", "updated")


class _CustomerPages:
    """A customers_for() QuerySet whose pages are read a way of their own (`_page`), counted
    once (a page sized by the count reuses it)."""

    ordered = True

    def __init__(self, listed: QuerySet[Customer]) -> None:
        self.listed = listed  # the customers_for() QuerySet
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.listed.count()
        return self._count

    def __getitem__(self, item: slice) -> list[Customer]:
        start, stop = page_bounds(item)
        if stop is None:
            return list(self.listed[start:])
        if stop == start:
            return []
        return self._page(start, stop)

    def _page(self, start: int, stop: int) -> list[Customer]:
        raise NotImplementedError


class PartedCustomerList(_CustomerPages):
    """customers_for() of a scope of several parts, on PostgreSQL, paged as the prepared list
    pages it (_first_of_parts) but not prepared: a reader with more than MAX_PREPARED_DIRECT
    shared customers, whose shares stay a subquery. Counted with the plain condition.

    A rep with 50 of 1,000,000 customers and 600 shares: page 1 in 3.9 ms (348 ms as the
    plain QuerySet, which walked the whole table's `updated_at` index), page 3 in 4.6 ms
    (1.8 s)."""

    def __init__(
        self, listed: QuerySet[Customer], unscoped: QuerySet[Customer], parts: list[Q]
    ) -> None:
        super().__init__(listed)
        self.unscoped = unscoped  # the same without its scope, which `parts` split
        self.parts = parts

    def _page(self, start: int, stop: int) -> list[Customer]:
        order = self.listed.query.order_by
        page = _first_of_parts(self.unscoped, self.parts, order, stop)
        return list(page.select_related("owner").order_by(*order)[start:stop])


class WholeSortedList(_CustomerPages):
    """customers_for() in a WHOLE_SORTS order, on PostgreSQL, not prepared (a reader with more
    than MAX_PREPARED_DIRECT shared customers): a small list's page is read whole and sorted
    (see PreparedCustomerList._whole), a large one's keeps the QuerySet's order.

    A rep with 50 of 1,000,000 customers and 600 shares, by name: page 1 in 5.6 ms (491 ms
    as the plain QuerySet, which walked the whole table's `name` index), page 3 in 3.9 ms
    (1.9 s)."""

    def _page(self, start: int, stop: int) -> list[Customer]:
        size = self._count
        if size is None:
            size = self.listed.order_by().values("pk")[: _whole_limit(stop) + 1].count()
        listed = self.listed
        if _reads_whole(size, stop):
            listed = listed.order_by(*_unindexed(tuple(listed.query.order_by)))
        return list(listed[start:stop])


def listed_customers(actor: Any, filters: CustomerFilter, permission: str = perms.VIEW):
    """customers_for() as a list page reads it: the same rows in the same order. The most
    common lists (unsearched, filtered by equality only) come prepared; others as a QuerySet."""
    visible_permission, hidden = _list_access(actor, filters, permission)
    if filters.q.strip() or filters.shared or _tag_filtered(filters, hidden):
        return _customers(actor, filters, visible_permission, hidden)
    reach = reach_of(actor, visible_permission)
    if reach.nothing:
        return _customers(actor, filters, visible_permission, hidden)
    values: dict[str, Any] = dict(_equality_filters(filters, hidden))
    if not reach.everything:
        direct = [pk for one in reach.direct for pk in one.id_list(MAX_PREPARED_DIRECT + 1)]
        if len(direct) > MAX_PREPARED_DIRECT:
            listed = _customers(actor, filters, visible_permission, hidden)
            parts = _parted(reach)
            sort = applied_sort(filters, hidden)
            if connection.vendor == "postgresql" and sort in WHOLE_SORTS:
                return WholeSortedList(listed)
            if parts is None or sort not in PARTS_IN_ORDER:
                return listed
            return PartedCustomerList(listed, _unscoped(actor, filters, hidden, reach), parts)
        values.update(
            owners=sorted(reach.owner_ids),
            departments=sorted(reach.department_ids),
            direct=sorted(set(direct)),
        )
    shape = _ListShape(
        deleted=filters.deleted,
        everything=reach.everything,
        owners=len(values.get("owners", ())),
        departments=len(values.get("departments", ())),
        direct=len(values.get("direct", ())),
        filters=tuple(name for name, _value in _equality_filters(filters, hidden)),
        sort=applied_sort(filters, hidden),
    )
    return PreparedCustomerList(shape, values)


def applied_sort(filters: CustomerFilter, hidden: set[str] | frozenset[str]) -> str:
    """The key of SORTS a list is ordered by: the one chosen, else the list's default."""
    chosen = filters.sort
    if chosen in SORTS and not (chosen == "level" and "customer.level" in hidden):
        return chosen
    return SEARCH_SORT if filters.q.strip() else DEFAULT_SORT


def sort_for(actor: Any, filters: CustomerFilter, permission: str = perms.VIEW) -> str:
    """The key of SORTS that customers_for(actor, filters, permission) orders by."""
    visible_permission = perms.RESTORE if filters.deleted else permission
    return applied_sort(filters, hidden_fields_for(actor, visible_permission))


PUBLIC_FIELDS = ("kind", "name", "status")
OPTIONAL_FIELDS = (
    "industry",
    "level",
    "source",
    "phone",
    "email",
    "id_number",
    "address",
    "tags",
    "notes",
)


def present(
    customer: Customer, actor: Any, *, permission: str = perms.VIEW, reveal: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The customer as the actor may see it: hidden fields left out, personal data masked.

    `reveal` names sensitive fields to show in clear; callers must have checked and audited it.
    """
    hidden = hidden_fields_for(actor, permission)
    data: dict[str, Any] = {name: getattr(customer, name) for name in PUBLIC_FIELDS}
    for name in OPTIONAL_FIELDS:
        if f"customer.{name}" in hidden:
            continue
        value = getattr(customer, name)
        if name in SENSITIVE_FIELDS and name not in reveal:
            value = mask(name, value)
        data[name] = value
    data["hidden_fields"] = sorted(h.split(".", 1)[1] for h in hidden if h.startswith("customer."))
    return data
