"""Times in audit queries: any ISO 8601 offset works (PostgreSQL itself refuses offsets past
±15:59, so they go to the database in UTC); one that leaves the calendar is a clear 422."""

from __future__ import annotations

import pytest

from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return api_for(make_crm_cast().auditor)


@pytest.mark.parametrize(
    "query",
    [
        "until=1684-06-07T09%3A54%3A53%2B16%3A49",
        "since=2026-01-01T00%3A00%3A00-23%3A59",
        "since=2026-01-01T00%3A00%3A00%2B08%3A00&until=2026-12-31T23%3A59%3A59Z",
    ],
)
def test_unusual_offsets_are_answered(auditor, query):
    response = auditor.get(f"/api/v1/audit-events?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["count"] >= 0


def test_a_time_that_cannot_be_moved_to_utc_is_a_422(auditor):
    response = auditor.get("/api/v1/audit-events?until=0001-01-01T00%3A00%3A00%2B16%3A49")
    assert response.status_code == 422
    assert "until" in response.json()["details"]["fields"]
