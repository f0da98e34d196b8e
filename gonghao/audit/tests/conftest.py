"""Fixtures of the audit tests."""

from __future__ import annotations

import pytest
from django.db import connection

from gonghao.audit import guards


@pytest.fixture
def unguarded(db):
    """An attacker with DDL rights: the append-only triggers are dropped, then put back."""
    guards.remove(connection)
    yield
    guards.install(connection)
