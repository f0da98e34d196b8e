"""The /audit/ page: auditors read and filter the log; htmx gets the table alone."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.audit.services import record
from gonghao.org.models import Department
from gonghao.testing.kit import PASSWORD

from .util import actions_after, events_after, last_seq

PAGE = "/audit/"
EN = {"Accept-Language": "en"}


def logged_in(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def shown_seqs(response) -> list[int]:
    """The sequence numbers in the event table, top to bottom."""
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", body)]


@pytest.fixture
def tea(cast):
    department = Department.objects.create(code="TEA", name="Tea Garden")
    record("department.create", actor=cast.admin, target=department)
    record("department.update", actor=cast.admin, target=department, changes={"name": ["T", "Tea"]})
    return department


def test_anonymous_visitors_are_sent_to_log_in(cast):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/audit/"


@pytest.mark.parametrize("role", ["admin", "security_admin", "employee"])
def test_non_auditors_get_403(cast, role):
    response = logged_in(getattr(cast, role)).get(PAGE)
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert b"event-table" not in response.content
    # The same refusal for an htmx request: no fragment of the log leaks.
    htmx = logged_in(getattr(cast, role)).get(PAGE, headers={"HX-Request": "true"})
    assert htmx.status_code == 403
    assert b"<tbody>" not in htmx.content


def test_auditor_sees_the_events_newest_first(cast, tea):
    response = logged_in(cast.auditor).get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="event-table"' in html
    total = AuditEvent.objects.count()
    assert shown_seqs(response) == list(range(total, 0, -1))[:50]
    assert "<code>department.update</code>" in html
    assert f"{total} records" in html
    newest = AuditEvent.objects.order_by("-seq").first()
    assert newest.hash[:12] in html


def test_summaries_are_in_the_viewers_language(cast, tea):
    english = logged_in(cast.auditor, "en").get(PAGE, {"action": "department.*"})
    assert "Created department Tea Garden" in english.content.decode()
    assert "Changed department Tea Garden" in english.content.decode()
    assert '<html lang="en">' in english.content.decode()


def test_the_language_cookie_chooses_the_language(cast, tea):
    client = logged_in(cast.auditor, language="zh-hans")
    client.cookies["gonghao_language"] = "en"
    html = client.get(PAGE).content.decode()
    assert '<html lang="en">' in html
    assert "Created department Tea Garden" in html

    client.cookies["gonghao_language"] = "zh-hans"
    assert '<html lang="zh-hans">' in client.get(PAGE).content.decode()


def test_htmx_requests_get_only_the_table(cast, tea):
    client = logged_in(cast.auditor)

    response = client.get(PAGE, {"action": "department.*"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert html.lstrip().startswith('<table class="table')
    assert shown_seqs(response) == list(
        AuditEvent.objects.filter(action__startswith="department.").values_list("seq", flat=True)
    )
    assert "Created department Tea Garden" in html


def test_filter_by_action(cast, tea):
    response = logged_in(cast.auditor).get(PAGE, {"action": "department.create"})
    html = response.content.decode()
    assert shown_seqs(response) == list(
        AuditEvent.objects.filter(action="department.create").values_list("seq", flat=True)
    )
    assert "<code>department.update</code>" not in html
    assert "<code>auth.login.succeeded</code>" not in html
    # The form keeps what was asked for.
    assert 'value="department.create"' in html


def test_filter_by_lower_case_employee_id(cast, tea):
    client = logged_in(cast.auditor)
    response = client.get(PAGE, {"employee_id": cast.admin.employee_id.lower()})
    expected = list(
        AuditEvent.objects.filter(actor_employee_id=cast.admin.employee_id).values_list(
            "seq", flat=True
        )
    )
    assert len(expected) >= 2
    assert shown_seqs(response) == expected


def test_filter_by_target(cast, tea):
    response = logged_in(cast.auditor).get(
        PAGE, {"target_type": "org.department", "target_id": str(tea.pk)}
    )
    html = response.content.decode()
    assert len(shown_seqs(response)) == 2
    assert f"org.department {tea.pk}" in html
    # Changes are shown old → new.
    assert "T → Tea" in html


def test_filter_by_time(cast, frozen_clock):
    client = logged_in(cast.auditor)
    start = frozen_clock.advance(hours=2)
    late = record("auth.logout", actor=cast.employee)
    query = {"action": "auth.logout"}

    assert shown_seqs(client.get(PAGE, {**query, "since": start.isoformat()})) == [late.seq]
    assert late.seq not in shown_seqs(client.get(PAGE, {**query, "until": start.isoformat()}))


def test_no_match_says_so(cast, tea):
    html = logged_in(cast.auditor).get(PAGE, {"action": "nothing.*"}).content.decode()
    assert "No events match." in html
    assert "0 records" in html


def test_an_invalid_filter_shows_the_error_and_no_events(cast, tea):
    response = logged_in(cast.auditor).get(PAGE, {"since": "not a date"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid date/time." in html
    assert shown_seqs(response) == []


def test_pages_of_fifty(cast):
    for i in range(60):
        record("audit.verify", params={"result": "ok", "checked": i})
    total = AuditEvent.objects.count()
    client = logged_in(cast.auditor)

    first = client.get(PAGE, {"action": "audit.verify"})
    second = client.get(PAGE, {"action": "audit.verify", "page": 2})

    assert shown_seqs(first) == list(range(total, total - 50, -1))
    assert len(shown_seqs(second)) == 10
    assert "Page 1 of 2" in first.content.decode()
    # The next-page link keeps the filter.
    assert "?action=audit.verify&amp;page=2" in first.content.decode()


def test_the_login_form_then_the_audit_page(cast):
    client = Client(headers=EN)
    before = last_seq()

    response = client.post(
        "/accounts/login/", {"login": cast.auditor.employee_id.lower(), "password": PASSWORD}
    )

    assert response.status_code == 302
    assert actions_after(before) == ["auth.login.succeeded"]
    login = events_after(before)[0]
    assert (login.actor_employee_id, login.channel, login.client_ip) == (
        cast.auditor.employee_id,
        "web",
        "127.0.0.1",
    )
    page = client.get(PAGE, {"action": "auth.login.succeeded"})
    assert page.status_code == 200
    assert shown_seqs(page)[0] == login.seq
