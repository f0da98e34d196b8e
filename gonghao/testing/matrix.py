"""The permission-matrix harness: role × operation × in / out-of-scope cases run on one set of
data (each case undone before the next), what is wrong with one answer, and the customer scopes
of the CRM cast (gonghao.testing.crm) that the CRM matrices share."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

# (operation, scope) → expected status per role; scope is "in", "out" or "-" (no record).
ExpectedTable = dict[tuple[str, str], dict[str, int]]
Case = tuple[str, str, int]

# on_success of answer_problem: a success may write whatever events it likes.
NOT_CHECKED: Any = object()


@dataclass(frozen=True)
class Scopes:
    """For each caller, the name of the record inside their view scope and of the one outside;
    callers with no view permission at all are refused whatever the record."""

    in_scope: dict[str, str]
    out_of_scope: dict[str, str]
    no_access: tuple[str, ...]

    def cases(self, table: ExpectedTable, role: str) -> Iterator[Case]:
        """(operation, scope, expected status) for one caller: callers without access expect
        403 unless the table says otherwise; others only the rows that name them and a record
        they have."""
        for (operation, scope), expected in table.items():
            if scope == "in" and role not in self.in_scope and role not in self.no_access:
                continue
            if scope == "out" and role not in self.out_of_scope and role not in self.no_access:
                continue
            status = expected.get(role, 403 if role in self.no_access else None)
            if status is not None:
                yield operation, scope, status

    def target(self, records: Any, role: str, scope: str, *, anyone: str) -> Any:
        """The record a case acts on; `anyone` (a name on `records`) for callers without
        access: the answer must not depend on it."""
        if role in self.no_access:
            return getattr(records, anyone)
        return getattr(records, self.in_scope[role] if scope == "in" else self.out_of_scope[role])


ROLES = ["admin", "security_admin", "auditor", "head", "rep_a", "agent", "marketer", "nobody"]
# The cast's customers (scope "all" or no view permission at all: no outside record).
CUSTOMER_SCOPES = Scopes(
    in_scope={
        "admin": "customer_b",
        "head": "customer_b",
        "rep_a": "customer_a",
        "agent": "customer_c",
    },
    out_of_scope={"head": "customer_c", "rep_a": "customer_c"},
    no_access=("security_admin", "auditor", "marketer", "nobody"),
)


# What a refusal about a cast customer answers: no permission, or out of scope (not found).
CUSTOMER_REFUSAL_CODES = ("permission_denied", "customer_not_found")


def customer_target(crm: Any, role: str, scope: str) -> Any:
    return CUSTOMER_SCOPES.target(crm, role, scope, anyone="customer_a")


def each_in_savepoint(cases: Iterable[Case], check: Callable[..., str | None]) -> list[str]:
    """Run every case against the same data, undoing its writes before the next one."""
    mismatches = []
    for case in cases:
        savepoint = transaction.savepoint()
        try:
            problem = check(*case)
            if problem:
                mismatches.append(f"{case}: {problem}")
        finally:
            transaction.savepoint_rollback(savepoint)
    return mismatches


def answer_problem(
    call: Callable[[], Any],
    status: int,
    *,
    events: Callable[[], list[str]],
    on_success: str | None = NOT_CHECKED,
    refusal_codes: Collection[str] | None = None,
) -> str | None:
    """What is wrong with one call's answer, or None.

    The status must be `status`. A refusal (4xx) writes no audit event (`events` lists those
    written so far) and, given `refusal_codes`, answers one of those codes; a success writes
    exactly the event `on_success` (None: none at all) unless that is NOT_CHECKED.
    """
    before = events()
    response = call()
    if response.status_code != status:
        return f"got {response.status_code}, expected {status}: {response.content[:200]!r}"
    after = events()
    written = after[len(before) :]
    if status >= 400:
        if after != before:
            return f"a refusal wrote audit events {written}"
        if refusal_codes is not None and response.json()["code"] not in refusal_codes:
            return f"error code {response.json()['code']}"
    elif on_success is not NOT_CHECKED and written != ([on_success] if on_success else []):
        return f"audit events {written}"
    return None
