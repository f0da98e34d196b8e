"""The forgotten-password path: codes by e-mail or SMS, limits, no enumeration, sessions ended."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client, TestCase

from gonghao.accounts.models import ApiToken, EmployeeStatus, PasswordResetCode
from gonghao.accounts.reset import hash_code
from gonghao.audit.models import AuditEvent
from gonghao.messaging.models import Message
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import NEW_PASSWORD, api_login, bearer, events, reload, web_login

REQUEST_URL = "/api/v1/auth/password-reset"
CONFIRM_URL = "/api/v1/auth/password-reset/confirm"
PAGE_URL = "/accounts/password/reset/"
CONFIRM_PAGE_URL = "/accounts/password/reset/confirm/"

EMAIL = "Zhang.Wei@Example.com"
PHONE = "+8613812345678"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.GONGHAO_OUTBOX_DIR = tmp_path
    settings.GONGHAO_EMAIL_BACKEND = "outbox"
    settings.GONGHAO_SMS_BACKEND = "outbox"
    return tmp_path


@pytest.fixture
def employee(db, frozen_clock):
    return make_employee("Zhang Wei", phone=PHONE, email=EMAIL.lower())


def post(url: str, body: dict, *, ip: str = "127.0.0.1", client: Client | None = None):
    # Run on-commit callbacks (message delivery) as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or Client()).post(
            url,
            body,
            content_type="application/json",
            headers={"Accept-Language": "en"},
            REMOTE_ADDR=ip,
        )


def ask(identifier: str, **kwargs):
    return post(REQUEST_URL, {"identifier": identifier}, **kwargs)


def confirm(identifier: str, code: str, new_password: str = NEW_PASSWORD, **kwargs):
    body = {"identifier": identifier, "code": code, "new_password": new_password}
    return post(CONFIRM_URL, body, **kwargs)


def outbox_texts(directory) -> list[str]:
    return [p.read_text() for p in sorted(directory.glob("*.txt"))]


def sent_code(directory, channel: str) -> str:
    texts = [t for t in outbox_texts(directory) if f"Channel: {channel}\n" in t]
    assert texts, outbox_texts(directory)
    body = texts[-1].split("\n\n", 1)[1]
    return CODE.search(body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def audit_text() -> str:
    return " ".join(
        f"{e.target_label} {e.params} {e.changes}" for e in AuditEvent.objects.order_by("seq")
    )


# --- asking for a code -------------------------------------------------------------------------


def test_a_code_goes_out_by_email_and_only_its_hash_is_stored(employee, outbox):
    response = ask("  zhang.wei@EXAMPLE.com ")

    assert response.status_code == 200
    assert response.json()["ok"] is True
    texts = outbox_texts(outbox)
    assert len(texts) == 1
    assert "To: zhang.wei@example.com" in texts[0]
    code = sent_code(outbox, "email")
    stored = PasswordResetCode.objects.get()
    assert stored.employee == employee
    assert stored.channel == "email"
    assert stored.code_hash == hash_code(employee.pk, code)
    assert code not in stored.code_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    assert stored.requested_ip == "127.0.0.1"
    # The outbox row is redacted once sent.
    assert code not in Message.objects.get().body


@pytest.mark.parametrize("typed", ["13812345678", "+86 138 1234 5678", "138-1234-5678"])
def test_a_code_goes_out_by_sms_for_the_phone(employee, outbox, typed):
    assert ask(typed).status_code == 200

    texts = outbox_texts(outbox)
    assert len(texts) == 1
    assert f"To: {PHONE}" in texts[0]
    assert "Channel: sms" in texts[0]
    assert PasswordResetCode.objects.get().channel == "sms"


def test_the_answer_reveals_nothing(db, frozen_clock, outbox):
    make_employee("Active", email="active@example.com")
    make_employee("Off", email="off@example.com", status=EmployeeStatus.DISABLED)
    make_employee("Gone", email="gone@example.com", status=EmployeeStatus.DEPARTED)
    make_employee("Locked", email="locked@example.com", status=EmployeeStatus.LOCKED)
    make_employee("Pending", email="pending@example.com", status=EmployeeStatus.PENDING)
    make_employee("Twin A", email="twin@example.com")
    make_employee("Twin B", email="twin@example.com")
    answers = [
        ask(identifier)
        for identifier in (
            "active@example.com",
            "nobody@example.com",
            "off@example.com",
            "gone@example.com",
            "locked@example.com",
            "pending@example.com",
            "twin@example.com",
            "13900000000",
            "not an identifier",
        )
    ]

    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len(outbox_texts(outbox)) == 1
    assert PasswordResetCode.objects.count() == 1
    reasons = [e.params["reason"] for e in events("auth.password_reset.requested")]
    assert reasons == [
        "sent",
        "unknown",
        "status_disabled",
        "status_departed",
        "status_locked",
        "status_pending",
        "ambiguous",
        "unknown",
        "malformed",
    ]
    assert all(e.actor_kind == "anonymous" for e in events("auth.password_reset.requested"))


@pytest.mark.django_db(transaction=True)
def test_the_answer_does_not_wait_for_the_code_to_be_sent(outbox):
    """The code goes out once the server has sent the answer (when it closes the response), so
    a request that really sends one is not slowed by the SMS or mail provider and cannot be
    told apart by its time from one that sends nothing."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from django.test import RequestFactory

    from gonghao.messaging.models import MessageStatus

    make_employee("Zhang Wei", phone=PHONE, email=EMAIL.lower())
    environ = (
        RequestFactory()
        .post(REQUEST_URL, {"identifier": EMAIL}, content_type="application/json")
        .environ
    )
    started: list[str] = []
    # As Django's test client does: the test database's connection must stay open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers: started.append(status))
        assert started == ["200 OK"]
        message = Message.objects.get()
        assert message.status == MessageStatus.QUEUED
        assert outbox_texts(outbox) == []

        response.close()  # what the WSGI server does once the answer is out
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(outbox_texts(outbox)) == 1
    assert sent_code(outbox, "email")


def test_a_temporarily_locked_account_gets_no_code(employee, outbox, frozen_clock):
    employee.locked_until = frozen_clock.current + timedelta(minutes=10)
    employee.save()

    assert ask(EMAIL).status_code == 200

    assert outbox_texts(outbox) == []
    assert events("auth.password_reset.requested")[0].params["reason"] == "locked"


def test_the_audit_never_holds_the_code_or_the_clear_identifier(employee, outbox):
    ask(EMAIL)
    code = sent_code(outbox, "email")
    ask("nobody@example.com")
    confirm(EMAIL, wrong(code))
    confirm(EMAIL, code)

    text = audit_text()
    assert code not in text
    for clear in (EMAIL.lower(), "nobody@example.com", PHONE, "13812345678", NEW_PASSWORD):
        assert clear not in text
    requested = events("auth.password_reset.requested")
    assert [e.params["identifier"] for e in requested] == ["z***@example.com", "n***@example.com"]
    assert requested[0].target_id == str(employee.pk)
    assert [e.params["reason"] for e in events("auth.password_reset.failed")] == ["wrong_code"]
    assert len(events("auth.password_reset.completed")) == 1


# --- confirming --------------------------------------------------------------------------------


def test_the_code_sets_the_new_password(employee, outbox, frozen_clock):
    employee.must_change_password = True
    employee.save()
    ask(EMAIL)
    changed_at = frozen_clock.advance(minutes=3)

    response = confirm(EMAIL, sent_code(outbox, "email"))

    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True}
    fresh = reload(employee)
    assert fresh.check_password(NEW_PASSWORD)
    assert fresh.must_change_password is False
    assert fresh.password_changed_at == changed_at
    assert api_login(employee, NEW_PASSWORD).status_code == 200
    assert api_login(employee, PASSWORD).status_code == 401
    completed = events("auth.password_reset.completed")
    assert len(completed) == 1
    assert completed[0].actor_employee_id == employee.employee_id


def test_the_code_expires_after_ten_minutes(employee, outbox, frozen_clock):
    ask(PHONE)
    code = sent_code(outbox, "sms")
    frozen_clock.advance(minutes=10, seconds=1)

    response = confirm(PHONE, code)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert reload(employee).check_password(PASSWORD)


def test_the_code_still_works_just_before_ten_minutes(employee, outbox, frozen_clock):
    ask(PHONE)
    frozen_clock.advance(minutes=9, seconds=59)

    assert confirm(PHONE, sent_code(outbox, "sms")).status_code == 200


def test_five_wrong_tries_kill_the_code(employee, outbox):
    ask(EMAIL)
    code = sent_code(outbox, "email")

    answers = [confirm(EMAIL, wrong(code)) for _ in range(5)]
    last = confirm(EMAIL, code)

    assert [a.status_code for a in answers] == [400] * 5
    assert last.status_code == 400
    assert last.json() == answers[0].json()
    assert last.json()["code"] == "invalid_code"
    assert PasswordResetCode.objects.get().attempts == 5
    assert reload(employee).check_password(PASSWORD)
    reasons = [e.params["reason"] for e in events("auth.password_reset.failed")]
    assert reasons == ["wrong_code"] * 4 + ["wrong_code_exhausted", "no_live_code"]


def test_four_wrong_tries_leave_the_code_usable(employee, outbox):
    ask(EMAIL)
    code = sent_code(outbox, "email")
    for _ in range(4):
        confirm(EMAIL, wrong(code))

    assert confirm(EMAIL, code).status_code == 200


def test_a_code_works_once(employee, outbox):
    ask(EMAIL)
    code = sent_code(outbox, "email")
    assert confirm(EMAIL, code).status_code == 200

    again = confirm(EMAIL, code, new_password="Another-Ginkgo-5521!")

    assert again.status_code == 400
    assert again.json()["code"] == "invalid_code"
    assert reload(employee).check_password(NEW_PASSWORD)


def test_a_new_code_voids_the_old_one(employee, outbox, frozen_clock):
    ask(EMAIL)
    first = sent_code(outbox, "email")
    frozen_clock.advance(minutes=2)
    ask(EMAIL)
    second = sent_code(outbox, "email")
    if first == second:
        pytest.skip("the two random codes happen to be equal")

    assert confirm(EMAIL, first).status_code == 400
    assert confirm(EMAIL, second).status_code == 200


def test_the_code_is_bound_to_the_channel_it_went_to(employee, outbox):
    ask(EMAIL)

    assert confirm(PHONE, sent_code(outbox, "email")).status_code == 400


def test_a_code_for_an_unknown_identifier_is_invalid_code(employee):
    response = confirm("nobody@example.com", "123456")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"


def test_an_account_disabled_after_the_request_cannot_finish(employee, outbox):
    ask(EMAIL)
    employee.status = EmployeeStatus.DISABLED
    employee.save()

    response = confirm(EMAIL, sent_code(outbox, "email"))

    assert response.status_code == 400
    assert events("auth.password_reset.failed")[0].params["reason"] == "status_disabled"


@pytest.mark.parametrize(
    "new_password",
    [
        pytest.param("Short-7a!", id="too-short"),
        pytest.param("password1234", id="common"),
        pytest.param("Lantern-13812345678", id="phone"),
        pytest.param(PASSWORD, id="same-as-old"),
    ],
)
def test_the_password_policy_applies(employee, outbox, new_password):
    ask(EMAIL)
    code = sent_code(outbox, "email")

    response = confirm(EMAIL, code, new_password=new_password)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "password_policy"
    assert body["details"]["fields"]["new_password"]
    assert reload(employee).check_password(PASSWORD)
    # The refusal counted a try, and the code still works.
    assert PasswordResetCode.objects.get().attempts == 1
    assert confirm(EMAIL, code).status_code == 200


def test_policy_messages_are_english_when_asked(employee, outbox):
    ask(EMAIL)

    response = confirm(EMAIL, sent_code(outbox, "email"), new_password="Short-7a!")

    assert response.json()["details"]["fields"]["new_password"] == [
        "The password must have at least 12 characters."
    ]


# --- ending every login, telling the employee --------------------------------------------------


def test_every_session_and_token_ends(employee, outbox):
    browser = Client()
    assert web_login(browser, employee.employee_id).status_code == 302
    other = make_employee("Someone Else")
    other_browser = Client()
    assert web_login(other_browser, other.employee_id).status_code == 302
    token = api_login(employee).json()["token"]
    assert Client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    ask(EMAIL)

    assert confirm(EMAIL, sent_code(outbox, "email")).status_code == 200

    assert Client().get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert not ApiToken.objects.filter(employee=employee, revoked_at__isnull=True).exists()
    page = browser.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert other_browser.get("/").status_code == 200
    assert Session.objects.count() == 1
    completed = events("auth.password_reset.completed")[0]
    assert completed.params["tokens_revoked"] == 1
    assert completed.params["sessions_ended"] == 1


def test_a_reset_by_email_is_told_by_sms(employee, outbox):
    ask(EMAIL)
    confirm(EMAIL, sent_code(outbox, "email"))

    notice = Message.objects.get(template="account.password_changed")
    assert notice.channel == "sms"
    assert notice.recipient == PHONE
    assert employee.employee_id in outbox_texts(outbox)[-1]


def test_a_reset_by_sms_is_told_by_email(employee, outbox):
    ask(PHONE)
    confirm(PHONE, sent_code(outbox, "sms"))

    notice = Message.objects.get(template="account.password_changed")
    assert notice.channel == "email"
    assert notice.recipient == EMAIL.lower()


def test_without_another_channel_the_notice_uses_the_same_one(db, frozen_clock, outbox):
    make_employee("Only Mail", email="only@example.com")
    ask("only@example.com")

    assert confirm("only@example.com", sent_code(outbox, "email")).status_code == 200

    notice = Message.objects.get(template="account.password_changed")
    assert notice.channel == "email"
    assert notice.recipient == "only@example.com"


# --- rate limits -------------------------------------------------------------------------------


def test_one_code_per_minute_and_five_per_hour_per_identifier(employee, outbox, frozen_clock):
    answers = [ask(EMAIL)]
    answers.append(ask(EMAIL))  # within the minute: same answer, nothing sent
    assert len(outbox_texts(outbox)) == 1
    for _ in range(6):
        frozen_clock.advance(minutes=1, seconds=1)
        answers.append(ask(EMAIL))

    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert PasswordResetCode.objects.count() == 5
    reasons = [e.params["reason"] for e in events("auth.password_reset.requested")]
    assert reasons.count("rate_limited") == 3
    frozen_clock.advance(hours=1)
    ask(EMAIL)
    assert PasswordResetCode.objects.count() == 6


def test_the_identifier_limit_also_holds_for_unknown_identifiers(db, frozen_clock):
    ask("nobody@example.com")
    ask("nobody@example.com")

    reasons = [e.params["reason"] for e in events("auth.password_reset.requested")]
    assert reasons == ["unknown", "rate_limited"]


def test_twenty_requests_per_hour_per_address(db, frozen_clock):
    answers = [ask(f"user{i}@example.com", ip="10.0.0.7") for i in range(21)]

    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[-1].json()["code"] == "too_many_requests"
    assert ask("user99@example.com", ip="10.0.0.8").status_code == 200
    frozen_clock.advance(hours=1, seconds=1)
    assert ask("user98@example.com", ip="10.0.0.7").status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"identifier": ""}, {"identifier": "x" * 255}, {"identifier": 12}],
)
def test_malformed_bodies_are_422(db, body):
    response = post(REQUEST_URL, body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


# --- the pages ---------------------------------------------------------------------------------


def page(client: Client, method: str, url: str, data: dict | None = None):
    kwargs = {"headers": {"Accept-Language": "en"}}
    if method == "post":
        with TestCase.captureOnCommitCallbacks(execute=True):
            return client.post(url, data or {}, **kwargs)
    return client.get(url, **kwargs)


def test_the_login_page_links_to_the_reset(db):
    html = page(Client(), "get", "/accounts/login/").content.decode()

    assert 'href="/accounts/password/reset/"' in html
    assert "Forgot password?" in html


def test_the_pages_reset_the_password(employee, outbox):
    browser = Client()
    form = page(browser, "get", PAGE_URL)
    assert form.status_code == 200
    assert "Phone number or e-mail" in form.content.decode()

    sent = page(browser, "post", PAGE_URL, {"identifier": "13812345678"})
    assert sent.status_code == 302
    assert sent["Location"] == CONFIRM_PAGE_URL
    confirm_page = page(browser, "get", CONFIRM_PAGE_URL)
    assert "a code has been sent" in confirm_page.content.decode()
    code = sent_code(outbox, "sms")

    mismatch = page(
        browser,
        "post",
        CONFIRM_PAGE_URL,
        {"code": code, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    assert mismatch.status_code == 200
    assert "The two passwords do not match." in mismatch.content.decode()

    bad_code = page(
        browser,
        "post",
        CONFIRM_PAGE_URL,
        {"code": wrong(code), "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "The code is not correct or has expired." in bad_code.content.decode()

    short = page(
        browser,
        "post",
        CONFIRM_PAGE_URL,
        {"code": code, "new_password": "Short-7a!", "new_password2": "Short-7a!"},
    )
    assert "The password must have at least 12 characters." in short.content.decode()

    done = page(
        browser,
        "post",
        CONFIRM_PAGE_URL,
        {"code": code, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/login/"
    login = page(browser, "get", "/accounts/login/")
    assert "Your password was changed." in login.content.decode()
    assert reload(employee).check_password(NEW_PASSWORD)
    assert web_login(browser, employee.employee_id, NEW_PASSWORD).status_code == 302


def test_the_confirm_page_needs_the_first_step(db):
    response = page(Client(), "get", CONFIRM_PAGE_URL)

    assert response.status_code == 302
    assert response["Location"] == PAGE_URL


def test_the_request_page_shows_the_same_answer_for_unknown_identifiers(db, outbox):
    browser = Client()
    response = page(browser, "post", PAGE_URL, {"identifier": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == CONFIRM_PAGE_URL
    assert outbox_texts(outbox) == []


def test_the_request_page_shows_the_address_limit(db, frozen_clock):
    browser = Client()
    for i in range(20):
        page(browser, "post", PAGE_URL, {"identifier": f"u{i}@example.com"})

    response = page(browser, "post", PAGE_URL, {"identifier": "last@example.com"})

    assert response.status_code == 200
    assert "Too many requests from your address." in response.content.decode()


def test_the_request_page_shows_field_errors(db):
    response = page(Client(), "post", PAGE_URL, {"identifier": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


# --- the second factor -------------------------------------------------------------------------


def test_a_reset_keeps_the_second_factor_at_the_next_login(employee, outbox):
    from .mfa_support import AUTHENTICATE_URL, authenticators, enable_totp

    enable_totp(employee)
    before = authenticators(employee)
    ask(EMAIL)
    assert confirm(EMAIL, sent_code(outbox, "email")).status_code == 200

    assert authenticators(employee) == before
    browser = Client()
    response = web_login(browser, employee.employee_id, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE_URL
    assert browser.get("/", headers={"Accept-Language": "en"}).status_code == 302
    token = api_login(employee, NEW_PASSWORD)
    assert token.status_code == 401
    assert token.json()["code"] == "second_factor_required"
    assert not ApiToken.objects.filter(employee=employee, revoked_at__isnull=True).exists()


@pytest.mark.parametrize("url", [PAGE_URL, "/accounts/login/"])
def test_the_pages_render_in_chinese(db, url):
    response = Client().get(url, headers={"Accept-Language": "zh-hans"})

    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
