"""An employee's preferred language: set by the switcher or the API, used on every page they
open and in the messages sent to them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.messaging.models import Message
from gonghao.messaging.services import queue_message
from gonghao.testing.kit import api_as, make_employee

pytestmark = pytest.mark.django_db

PREFERENCES = "/api/v1/me/preferences"


def language_events(employee) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action="employee.language", target_id=str(employee.pk)).order_by(
            "seq"
        )
    )


def page_language(client: Client, **headers) -> str:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.context["LANGUAGE_CODE"]


@pytest.fixture
def employee():
    return make_employee("李四")


def test_the_switcher_remembers_the_choice_for_the_employee(employee):
    client = Client()
    client.force_login(employee)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.language == "en"
    [event] = language_events(employee)
    assert event.actor_employee_id == employee.employee_id
    assert event.params == {"language": "en"}
    assert event.changes == {"language": ["", "en"]}
    # Choosing the same language again changes nothing and leaves no second event.
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert len(language_events(employee)) == 1


def test_the_switcher_without_a_login_only_sets_the_cookie():
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not AuditEvent.objects.filter(action="employee.language").exists()


def test_an_unknown_language_from_the_switcher_is_ignored(employee):
    client = Client()
    client.force_login(employee)

    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    employee.refresh_from_db()
    assert employee.language == ""
    assert language_events(employee) == []


def test_pages_follow_the_preference_over_the_browser_language(employee):
    employee.language = "zh-hans"
    employee.save(update_fields=["language"])
    client = Client()
    client.force_login(employee)

    assert page_language(client, **{"Accept-Language": "en"}) == "zh-hans"


def test_without_a_preference_pages_follow_the_browser(employee):
    client = Client()
    client.force_login(employee)

    assert page_language(client, **{"Accept-Language": "en"}) == "en"
    assert page_language(client, **{"Accept-Language": "zh-CN"}) == "zh-hans"


def test_the_cookie_of_this_browser_wins_over_the_preference(employee):
    employee.language = "zh-hans"
    employee.save(update_fields=["language"])
    client = Client()
    client.force_login(employee)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert page_language(client) == "en"


def test_the_preference_follows_the_employee_to_another_browser(employee):
    first = Client()
    first.force_login(employee)
    first.post("/i18n/setlang/", {"language": "en", "next": "/"})

    second = Client()  # no cookie, a Chinese browser
    second.force_login(employee)

    assert page_language(second, **{"Accept-Language": "zh-CN"}) == "en"


def test_the_api_reads_and_sets_the_preference(employee):
    api = api_as(employee)

    assert api.get(PREFERENCES).json() == {
        "language": "",
        "languages": [{"code": "zh-hans", "name": "简体中文"}, {"code": "en", "name": "English"}],
    }
    response = api.put(PREFERENCES, {"language": "EN"})

    assert response.status_code == 200
    assert response.json()["language"] == "en"
    assert api.get("/api/v1/me").json()["language"] == "en"
    assert len(language_events(employee)) == 1
    # "" goes back to the default.
    assert api.put(PREFERENCES, {"language": ""}).json()["language"] == ""
    employee.refresh_from_db()
    assert employee.language == ""


@pytest.mark.parametrize("language", ["fr", "zh-tw", "x" * 16])
def test_an_unknown_language_is_refused_in_the_callers_language(employee, language):
    for lang, text in (("en", "Unknown language"), ("zh-hans", "未知的语言")):
        response = api_as(employee, language=lang).put(PREFERENCES, {"language": language})

        assert response.status_code == 422
        body = response.json()
        assert text in body["message"]
        assert "language" in body["details"]["fields"]
    employee.refresh_from_db()
    assert employee.language == ""
    assert language_events(employee) == []


def test_a_language_code_longer_than_the_field_is_refused(employee):
    response = api_as(employee).put(PREFERENCES, {"language": "x" * 17})

    assert response.status_code == 422
    assert language_events(employee) == []


def test_messages_to_an_employee_go_out_in_their_language(employee):
    employee.email = "li.si@example.com"
    employee.language = "en"
    employee.save(update_fields=["email", "language"])
    params = {"name": employee.name, "employee_id": employee.employee_id, "password": "x"}

    def send(**language):
        return queue_message(
            channel="email",
            recipient=employee.email,
            template="account.initial_password",
            params=params,
            employee=employee,
            **language,
        )

    preferred = send()
    explicit = send(language="zh-hans")
    employee.language = ""
    default = send()

    assert preferred.language == "en"
    assert explicit.language == "zh-hans"  # a page's own language (e.g. a reset) wins
    assert default.language == settings.LANGUAGE_CODE
    assert Message.objects.filter(employee=employee).count() == 3
