"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gonghao.testing.kit import MovableClock, api_as, make_cast


@pytest.fixture
def cast(db):
    return make_cast()


@pytest.fixture
def admin_api(cast):
    return api_as(cast.admin)


@pytest.fixture
def auditor_api(cast):
    return api_as(cast.auditor)


@pytest.fixture
def frozen_clock(monkeypatch):
    """A clock that only moves when the test says so."""
    movable = MovableClock(timezone.now())
    monkeypatch.setattr("gonghao.core.clock.now", movable)
    return movable


@pytest.fixture(autouse=True)
def _second_factor_policy_off(settings):
    """Most suites log administrators in with a password only; the 2FA tests
    (accounts/tests/test_mfa*.py) switch the enrolment policy back on."""
    settings.GONGHAO_MFA_REQUIRED_ROLES = []
    settings.GONGHAO_MFA_REQUIRED_FOR_ALL = False


@pytest.fixture(autouse=True)
def _audit_numbering_follows_the_log(request):
    """On PostgreSQL audit events are numbered by a sequence, which a rolled-back test does not
    rewind: start each database test's numbering where its log ends, as on SQLite, so tests
    can name events by number. (Gaps are covered by the audit tests.)"""
    wanted = next((n for n in ("transactional_db", "db") if n in request.fixturenames), None)
    if wanted is None and request.node.get_closest_marker("django_db") is None:
        return
    if wanted is not None:
        request.getfixturevalue(wanted)
    from django.db import connection, connections

    if connection.vendor == "postgresql":
        # and on the first chain, like a new connection (a connection keeps to its last chain)
        # (on the connection itself: `connection` is a proxy with a __dict__ of its own)
        for remembered in ("gonghao_audit_chain", "gonghao_audit_reservation"):
            connections["default"].__dict__.pop(remembered, None)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval('audit_event_seq', "
                "COALESCE((SELECT MAX(seq) FROM audit_auditevent), 0) + 1, false)"
            )
