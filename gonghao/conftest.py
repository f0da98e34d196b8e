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
