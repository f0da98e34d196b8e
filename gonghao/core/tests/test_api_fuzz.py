"""Schemathesis over the whole OpenAPI document, in process, against Django's WSGI application.

Every operation gets generated requests that fit the schema (positive) and requests that do not
(negative), sent with a real bearer token of an all-powerful test employee, and once more as an
employee without any role. Checks: no server error, only documented statuses and content types,
bodies that match the documented schema, invalid input refused (negative_data_rejection), and
authentication enforced (ignored_auth). The seed is fixed (derandomized) so a run is repeatable.

Each request runs in a savepoint that is rolled back, so a generated DELETE or logout does not
change what the next request sees.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from gonghao.access.catalogue import PERMISSIONS
from gonghao.access.models import Role
from gonghao.access.services import grant_role
from gonghao.accounts.services import issue_token
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import make_employee

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# Examples per operation and mode: bounded for CI (2 cores, both databases). Raise it for a deep
# run: GONGHAO_FUZZ_EXAMPLES=200 pytest gonghao/core/tests/test_api_fuzz.py
PER_OPERATION = int(os.environ.get("GONGHAO_FUZZ_EXAMPLES", "20"))
EXAMPLES = {GenerationMode.POSITIVE: PER_OPERATION, GenerationMode.NEGATIVE: PER_OPERATION}
LOW_PRIVILEGE_EXAMPLES = max(2, PER_OPERATION // 3)
REPORT = os.environ.get("GONGHAO_FUZZ_REPORT", "")  # a file to append full failures to


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, kept on the test's connection (as django.test.Client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def superuser():
    """One employee holding every permission in the catalogue, with the widest data scope."""
    role = Role.objects.create(
        code="fuzz_all",
        name_zh="模糊测试全权",
        name_en="Fuzzing: everything",
        permissions=sorted(PERMISSIONS),
        data_scope="all",
    )
    employee = make_employee("全权测试员")
    grant_role(employee, role.code, actor=None, check_permission=False)
    return employee


class Fuzzer:
    def __init__(self, app, token: str) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.failures: dict[str, str] = {}

    def run(self, operation, mode: GenerationMode, examples: int) -> None:
        label = f"{operation.label} [{mode.value}]"

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            savepoint = transaction.savepoint()
            try:
                response = case.call(headers=self.headers)
                self.sent += 1
                self.statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=self.headers)
            finally:
                transaction.savepoint_rollback(savepoint)
                cache.clear()  # login-failure counters must not turn into lockouts

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # every operation's, not the first
            self.failures[label] = f"{type(error).__name__}: {error}"[:3000]
            if REPORT:
                with open(REPORT, "a") as out:
                    out.write(f"##### {label}\n{error}\n")


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 60
    return found


@pytest.mark.slow
def test_fuzz_the_whole_api_as_an_all_powerful_employee(db, wsgi_app):
    make_crm_cast()
    token, _ = issue_token(superuser(), name="fuzz")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    fuzzer = Fuzzer(wsgi_app, token)
    for operation in operations(schema):
        for mode, examples in EXAMPLES.items():
            fuzzer.run(operation, mode, examples)
    assert fuzzer.failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in fuzzer.failures.items())
    assert fuzzer.sent >= 200, fuzzer.sent
    # The data reached the services: successes, not only refusals.
    assert sum(n for status, n in fuzzer.statuses.items() if status < 300) >= 200


@pytest.mark.slow
def test_fuzz_the_whole_api_as_an_employee_without_roles(db, wsgi_app):
    make_crm_cast()
    token, _ = issue_token(make_employee("无权限测试员"), name="fuzz")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    fuzzer = Fuzzer(wsgi_app, token)
    for operation in operations(schema):
        fuzzer.run(operation, GenerationMode.POSITIVE, LOW_PRIVILEGE_EXAMPLES)
    assert fuzzer.failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in fuzzer.failures.items())
    print(f"fuzz without roles: {fuzzer.sent} requests, statuses {sorted(fuzzer.statuses.items())}")
    assert fuzzer.sent >= 200, fuzzer.sent
