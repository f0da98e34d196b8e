"""The matrix harness itself (gonghao.testing.matrix): which cases a caller walks, that each case
is undone before the next, and that every kind of wrong answer is reported."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gonghao.crm.models import Customer
from gonghao.testing.matrix import (
    CUSTOMER_SCOPES,
    NOT_CHECKED,
    answer_problem,
    customer_target,
    each_in_savepoint,
)

TABLE = {
    ("list", "-"): {"admin": 200, "head": 200},
    ("detail", "in"): {"admin": 200, "head": 200},
    ("detail", "out"): {"head": 404},
    ("delete", "in"): {"head": 204, "marketer": 200},
}


def test_cases_per_caller():
    cases = CUSTOMER_SCOPES.cases
    # Out of scope: only for callers who have a record outside their scope.
    assert list(cases(TABLE, "head")) == [
        ("list", "-", 200),
        ("detail", "in", 200),
        ("detail", "out", 404),
        ("delete", "in", 204),
    ]
    # Scope "all": no outside record, and no case the table does not name.
    assert list(cases(TABLE, "admin")) == [("list", "-", 200), ("detail", "in", 200)]
    # No access at all: 403 everywhere unless the table says otherwise.
    assert list(cases(TABLE, "marketer")) == [
        ("list", "-", 403),
        ("detail", "in", 403),
        ("detail", "out", 403),
        ("delete", "in", 200),
    ]


def test_targets(crm):
    assert customer_target(crm, "rep_a", "in") == crm.customer_a
    assert customer_target(crm, "rep_a", "out") == crm.customer_c
    assert customer_target(crm, "head", "in") == crm.customer_b
    assert customer_target(crm, "nobody", "out") == crm.customer_a


def test_each_case_is_undone_before_the_next(crm):
    seen = []

    def check(name, number):
        seen.append(Customer.objects.count())
        Customer.objects.create(name=name)
        return "wrong" if number == 2 else None

    before = Customer.objects.count()
    problems = each_in_savepoint([("一", 1), ("二", 2), ("三", 3)], check)
    assert problems == ["('二', 2): wrong"]
    assert seen == [before, before, before]
    assert Customer.objects.count() == before


@dataclass
class Answer:
    """Just what the harness reads of a response."""

    status_code: int
    code: str = ""

    @property
    def content(self) -> bytes:
        return self.code.encode()

    def json(self) -> dict:
        return {"code": self.code}


@pytest.mark.parametrize(
    ("answer", "status", "written", "on_success", "codes", "problem"),
    [
        (Answer(200), 200, [], None, None, None),
        (Answer(200), 201, [], None, None, "got 200, expected 201: b''"),
        (Answer(201), 201, ["x.create"], "x.create", None, None),
        (Answer(201), 201, [], "x.create", None, "audit events []"),
        (Answer(200), 200, ["x.view"], None, None, "audit events ['x.view']"),
        (Answer(302), 302, ["x.view"], NOT_CHECKED, None, None),
        (Answer(403, "permission_denied"), 403, [], None, ("permission_denied",), None),
        (
            Answer(403, "permission_denied"),
            403,
            ["x.delete"],
            None,
            None,
            "a refusal wrote audit events ['x.delete']",
        ),
        (Answer(404, "other"), 404, [], None, ("not_found",), "error code other"),
        (Answer(404, "other"), 404, [], NOT_CHECKED, None, None),
    ],
)
def test_answer_problems(answer, status, written, on_success, codes, problem):
    log: list[str] = ["earlier"]

    def call():
        log.extend(written)
        return answer

    found = answer_problem(
        call, status, events=lambda: list(log), on_success=on_success, refusal_codes=codes
    )
    assert found == problem
