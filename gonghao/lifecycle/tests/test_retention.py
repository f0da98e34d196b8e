"""Erasure of departed employees' personal data, dormant accounts, re-enabling: the jobs with a
movable clock, idempotence, the audit events and the manager's message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gonghao.accounts.models import Employee, PasswordHistory
from gonghao.audit.models import AuditEvent
from gonghao.core import jobs
from gonghao.lifecycle.offboarding import offboard_employee
from gonghao.messaging.models import Message
from gonghao.messaging.services import queue_message
from gonghao.testing.kit import PASSWORD, ApiClient, api_for, make_employee


@pytest.fixture
def client():
    """Pages in English: these tests read English text (the default language is zh-Hans)."""
    return Client(headers={"Accept-Language": "en"})


def run(name: str) -> jobs.JobOutcome:
    return jobs.run_job(jobs.get_job(name), force=True)


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


@pytest.fixture
def admin(cast):
    return cast.admin


# --- erasure -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erasure_after_retention_keeps_the_id_and_name_and_is_idempotent(
    admin, frozen_clock, settings
):
    settings.GONGHAO_DEPARTED_PII_RETENTION_DAYS = 30
    leaver = make_employee("离职者", phone="+8613812345678", email="leaver@example.cn")
    PasswordHistory.objects.create(employee=leaver, password=leaver.password)
    queue_message(
        channel="email",
        recipient=leaver.email,
        template="account.password_changed",
        params={"name": leaver.name, "employee_id": leaver.employee_id, "changed_at": "x"},
        employee=leaver,
    )
    offboard_employee(leaver, actor=admin, successor=None)
    stays = make_employee("在职者", phone="+8613912345678", email="stays@example.cn")

    frozen_clock.advance(days=30)
    assert run("lifecycle.erase_departed_pii").result == {"erased": 0}  # not more than 30 days
    frozen_clock.advance(days=1)
    before = last_seq()
    assert run("lifecycle.erase_departed_pii").result == {"erased": 1}

    leaver.refresh_from_db()
    assert leaver.phone == "" and leaver.email == ""
    assert leaver.employee_id and leaver.name == "离职者"
    assert not leaver.has_usable_password()
    assert leaver.personal_data_erased_at == frozen_clock()
    assert not PasswordHistory.objects.filter(employee=leaver).exists()
    message = Message.objects.get(employee=leaver)
    assert "leaver" not in message.recipient + message.body + str(message.params)
    stays.refresh_from_db()
    assert stays.email == "stays@example.cn"
    events = list(AuditEvent.objects.filter(seq__gt=before))
    assert [e.action for e in events] == ["employee.pii_erase"]
    event = events[0]
    assert event.target_id == str(leaver.pk) and event.actor_kind == "system"
    assert event.params["fields"] == "phone, email"
    text = str(event.params) + str(event.changes) + event.target_label
    assert "leaver@example.cn" not in text and "13812345678" not in text
    # Audit events about the employee still point at the 工号.
    assert AuditEvent.objects.filter(action="employee.offboard", target_id=str(leaver.pk)).exists()

    seq = last_seq()
    assert run("lifecycle.erase_departed_pii").result == {"erased": 0}
    assert last_seq() == seq


@pytest.mark.django_db
def test_employee_page_and_api_show_the_erasure(admin, frozen_clock, settings, client):
    settings.GONGHAO_DEPARTED_PII_RETENTION_DAYS = 1
    leaver = make_employee("离职者", email="leaver@example.cn")
    offboard_employee(leaver, actor=admin, successor=None)
    frozen_clock.advance(days=2)
    run("lifecycle.erase_departed_pii")
    client.force_login(admin)
    page = client.get(f"/employees/{leaver.employee_id}/").content.decode()
    assert "personal data erased on" in page
    body = api_for(admin).get(f"/api/v1/employees/{leaver.employee_id}").json()
    assert body["personal_data_erased_at"] is not None and body["status"] == "departed"


# --- dormant accounts --------------------------------------------------------------------------


@pytest.mark.django_db
def test_dormant_accounts_are_disabled_and_their_manager_told(cast, frozen_clock, settings):
    settings.GONGHAO_DORMANT_DAYS = 90
    manager = make_employee("经理", email="manager@example.cn")
    never = make_employee("从未登录", manager=manager)
    logged = make_employee("常登录", manager=manager)
    Employee.objects.filter(pk=logged.pk).update(last_login=frozen_clock() + timedelta(days=50))
    old_login = make_employee("久未登录", manager=manager)
    Employee.objects.filter(pk=old_login.pk).update(last_login=frozen_clock() - timedelta(days=3))

    frozen_clock.advance(days=85)
    assert run("lifecycle.disable_dormant").result["disabled"] == 0
    # Counting from creation: 91 days later the never-logged-in account is dormant; the
    # one whose last login was 3 days before the start is too.
    frozen_clock.advance(days=6)
    cast.admin.last_login = frozen_clock()
    cast.admin.save()
    for e in (cast.security_admin, cast.auditor, cast.employee, manager):
        Employee.objects.filter(pk=e.pk).update(last_login=frozen_clock())
    before = last_seq()
    outcome = run("lifecycle.disable_dormant")
    assert outcome.result == {"disabled": 2, "managers_told": 2}
    statuses = dict(
        Employee.objects.filter(pk__in=[never.pk, logged.pk, old_login.pk]).values_list(
            "name", "status"
        )
    )
    assert statuses == {"从未登录": "disabled", "常登录": "active", "久未登录": "disabled"}
    events = [e for e in AuditEvent.objects.filter(seq__gt=before).order_by("seq")]
    disables = [e for e in events if e.action == "employee.dormant_disable"]
    assert {e.target_id for e in disables} == {str(never.pk), str(old_login.pk)}
    assert all(e.actor_kind == "system" for e in disables)
    notices = Message.objects.filter(template="account.dormant_disabled_manager_notice")
    assert notices.count() == 2
    assert {m.recipient for m in notices} == {"manager@example.cn"}
    assert never.employee_id in " ".join(m.body for m in notices)
    # A disabled account cannot log in.
    refused = ApiClient().post(
        "/api/v1/auth/token", {"employee_id": never.employee_id, "password": PASSWORD}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "account_inactive"
    # Idempotent.
    seq = last_seq()
    assert run("lifecycle.disable_dormant").result == {"disabled": 0, "managers_told": 0}
    assert last_seq() == seq


@pytest.mark.django_db
def test_dormant_notice_in_the_default_language_and_none_without_a_manager(
    cast, frozen_clock, settings
):
    settings.GONGHAO_DORMANT_DAYS = 10
    lonely = make_employee("没有经理")
    for e in (cast.admin, cast.security_admin, cast.auditor, cast.employee):
        Employee.objects.filter(pk=e.pk).update(last_login=frozen_clock() + timedelta(days=11))
    frozen_clock.advance(days=11)
    assert run("lifecycle.disable_dormant").result == {"disabled": 1, "managers_told": 0}
    lonely.refresh_from_db()
    assert lonely.status == "disabled"


@pytest.mark.django_db
def test_re_enabling_is_an_audited_admin_action_and_restarts_the_count(
    cast, frozen_clock, settings
):
    settings.GONGHAO_DORMANT_DAYS = 10
    sleeper = make_employee("休眠者")
    Employee.objects.filter(pk=sleeper.pk).update(last_login=frozen_clock() - timedelta(days=1))
    for e in (cast.admin, cast.security_admin, cast.auditor, cast.employee):
        Employee.objects.filter(pk=e.pk).update(last_login=frozen_clock() + timedelta(days=30))
    frozen_clock.advance(days=11)
    run("lifecycle.disable_dormant")
    sleeper.refresh_from_db()
    assert sleeper.status == "disabled"

    refused = api_for(cast.employee).post(f"/api/v1/employees/{sleeper.employee_id}/enable")
    assert refused.status_code == 403
    admin_api = api_for(cast.admin)
    before = last_seq()
    response = admin_api.post(f"/api/v1/employees/{sleeper.employee_id}/enable")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert [e.action for e in AuditEvent.objects.filter(seq__gt=before)] == ["employee.enable"]
    again = admin_api.post(f"/api/v1/employees/{sleeper.employee_id}/enable")
    assert again.status_code == 409 and again.json()["code"] == "not_disabled"
    # The next run does not disable it again at once: the count starts from re-enabling.
    assert run("lifecycle.disable_dormant").result["disabled"] == 0
    sleeper.refresh_from_db()
    assert sleeper.status == "active"


@pytest.mark.django_db
def test_departed_cannot_be_re_enabled(cast):
    leaver = make_employee("离职者")
    offboard_employee(leaver, actor=cast.admin, successor=None)
    response = api_for(cast.admin).post(f"/api/v1/employees/{leaver.employee_id}/enable")
    assert response.status_code == 409 and response.json()["code"] == "not_disabled"


@pytest.mark.django_db
def test_employee_api_shows_login_and_password_dates(cast):
    employee = make_employee("看日期")
    when = timezone.now() - timedelta(days=3)
    Employee.objects.filter(pk=employee.pk).update(last_login=when, last_failed_login_at=when)
    body = api_for(cast.admin).get(f"/api/v1/employees/{employee.employee_id}").json()
    assert body["last_login"] and body["last_failed_login_at"] and body["password_changed_at"]
