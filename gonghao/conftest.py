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
