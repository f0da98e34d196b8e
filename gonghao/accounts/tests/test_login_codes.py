"""One-time login codes by SMS / e-mail as a fallback second factor: off by default, never under
mlps3; 6 digits, 5 minutes, 5 tries, bound to the login attempt, a new code voids the old one,
one send per minute, stored hashed, audited without the code; API and the web 2FA page."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from gonghao.accounts.models import ApiToken, SecondFactorCode
from gonghao.audit.models import AuditEvent
from gonghao.messaging.models import Message
from gonghao.testing.kit import PASSWORD, make_employee

from .auth_support import events, web_login
from .mfa_support import AUTHENTICATE_URL, clear_cache, enable_totp, follow_clock
from .test_password_reset import outbox_texts, sent_code

CODE_URL = "/api/v1/auth/token/otp-code"
TOKEN_URL = "/api/v1/auth/token"
PHONE = "+8613812345678"
ANSWER = (
    "If the 工号 and password are right and one-time codes are allowed for this account, "
    "a code has been sent to the registered phone or e-mail. It is valid for 5 minutes."
)


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.GONGHAO_OUTBOX_DIR = tmp_path
    settings.GONGHAO_EMAIL_BACKEND = "outbox"
    settings.GONGHAO_SMS_BACKEND = "outbox"
    settings.GONGHAO_MFA_FALLBACK_CODES = True
    clear_cache()
    yield tmp_path
    clear_cache()


@pytest.fixture
def employee(db, frozen_clock, monkeypatch):
    follow_clock(monkeypatch, frozen_clock)
    person = make_employee("张三", phone=PHONE, email="zhang@example.com")
    enable_totp(person)
    return person


def post(url: str, body: dict, client: Client | None = None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or Client()).post(
            url, body, content_type="application/json", headers={"Accept-Language": "en"}
        )


def ask(employee, password: str = PASSWORD):
    response = post(CODE_URL, {"employee_id": employee.employee_id, "password": password})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": ANSWER}
    return response


def token_with(employee, otp: str):
    return post(TOKEN_URL, {"employee_id": employee.employee_id, "password": PASSWORD, "otp": otp})


def reasons() -> list[str]:
    return [e.params["reason"] for e in events("auth.mfa.code_sent")]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the API ----------------------------------------------------------------------------------


def test_a_code_by_sms_lets_the_token_endpoint_pass_once(employee, outbox):
    ask(employee)
    code = sent_code(outbox, "sms")

    assert token_with(employee, code).status_code == 200
    again = token_with(employee, code)
    assert again.status_code == 401 and again.json()["code"] == "invalid_second_factor"
    assert reasons() == ["sent"]
    event = events("auth.mfa.code_sent")[0]
    assert event.params["channel"] == "sms" and PHONE not in str(event.params)


def test_only_the_hash_is_stored_and_the_audit_log_never_holds_the_code(employee, outbox):
    ask(employee)
    code = sent_code(outbox, "sms")
    token_with(employee, code)

    stored = SecondFactorCode.objects.get()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert code not in Message.objects.get().body
    audit = " ".join(f"{e.params} {e.changes}" for e in AuditEvent.objects.all())
    assert code not in audit


def test_e_mail_when_no_phone_is_registered(db, frozen_clock, monkeypatch, outbox):
    follow_clock(monkeypatch, frozen_clock)
    person = make_employee("李四", email="li@example.com")
    enable_totp(person)
    ask(person)
    assert token_with(person, sent_code(outbox, "email")).status_code == 200


def test_a_wrong_password_gets_the_same_answer_and_nothing_is_sent(employee, outbox):
    ask(employee, password="Wrong-Password-1!")
    assert outbox_texts(outbox) == [] and reasons() == []
    assert [e.params["reason"] for e in events("auth.login.failed")] == ["wrong_password"]


def test_off_by_default_and_never_under_mlps3(employee, outbox, settings):
    settings.GONGHAO_MFA_FALLBACK_CODES = False
    ask(employee)
    settings.GONGHAO_MFA_FALLBACK_CODES = True
    settings.GONGHAO_PASSWORD_PRESET = "mlps3"
    ask(employee)
    assert outbox_texts(outbox) == [] and reasons() == ["disabled", "disabled"]


def test_no_code_for_an_employee_without_a_second_factor(db, outbox):
    person = make_employee("王五", phone="+8613900000000")
    ask(person)
    assert outbox_texts(outbox) == [] and reasons() == ["no_second_factor"]


def test_a_code_is_valid_for_five_minutes(employee, outbox, frozen_clock):
    ask(employee)
    code = sent_code(outbox, "sms")
    frozen_clock.advance(minutes=5)
    response = token_with(employee, code)
    assert response.status_code == 401 and response.json()["code"] == "invalid_second_factor"


def test_just_inside_five_minutes_works(employee, outbox, frozen_clock):
    ask(employee)
    code = sent_code(outbox, "sms")
    frozen_clock.advance(minutes=4, seconds=59)
    assert token_with(employee, code).status_code == 200


def test_five_tries_then_the_code_is_dead(employee, outbox, settings):
    settings.GONGHAO_LOCKOUT_THRESHOLD = 100  # the tries of the code, not the 工号 lockout
    ask(employee)
    code = sent_code(outbox, "sms")
    for _ in range(5):
        assert token_with(employee, wrong(code)).json()["code"] == "invalid_second_factor"
    assert SecondFactorCode.objects.get().attempts == 5
    assert token_with(employee, code).status_code == 401
    assert not ApiToken.objects.filter(employee=employee).exists()


def test_wrong_codes_count_towards_the_lockout(employee, outbox):
    ask(employee)
    code = sent_code(outbox, "sms")
    for _ in range(4):
        token_with(employee, wrong(code))
    assert token_with(employee, wrong(code)).status_code == 423


def test_one_send_per_minute_and_a_new_code_voids_the_old_one(employee, outbox, frozen_clock):
    ask(employee)
    first = sent_code(outbox, "sms")
    ask(employee)
    assert len(outbox_texts(outbox)) == 1
    frozen_clock.advance(seconds=61)
    ask(employee)
    second = sent_code(outbox, "sms")
    assert reasons() == ["sent", "rate_limited", "sent"]

    if first != second:
        assert token_with(employee, first).status_code == 401
    assert token_with(employee, second).status_code == 200


# --- the web 2FA page -------------------------------------------------------------------------


def _at_second_factor(employee) -> Client:
    browser = Client()
    response = web_login(browser, employee.employee_id)
    assert response["Location"] == AUTHENTICATE_URL
    return browser


def _send(browser: Client):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return browser.post("/accounts/2fa/code/", headers={"Accept-Language": "en"})


def test_web_send_me_a_code_instead(employee, outbox):
    browser = _at_second_factor(employee)
    page = browser.get(AUTHENTICATE_URL, headers={"Accept-Language": "en"})
    assert "Send me a code instead" in page.content.decode()

    assert _send(browser)["Location"] == AUTHENTICATE_URL
    code = sent_code(outbox, "sms")
    response = browser.post(AUTHENTICATE_URL, {"code": code})

    assert response.status_code == 302 and response["Location"] == "/"
    assert browser.get("/").status_code == 200
    assert len(events("auth.login.succeeded")) == 1


def test_web_wrong_code_is_refused_counted_and_audited(employee, outbox):
    browser = _at_second_factor(employee)
    _send(browser)
    code = sent_code(outbox, "sms")

    page = browser.post(AUTHENTICATE_URL, {"code": wrong(code)})

    assert page.status_code == 200
    assert SecondFactorCode.objects.get().attempts == 1
    assert [e.params["reason"] for e in events("auth.mfa.failed")] == ["wrong_otp"]
    assert browser.post(AUTHENTICATE_URL, {"code": code})["Location"] == "/"


def test_codes_are_bound_to_the_login_attempt_that_asked(employee, outbox, frozen_clock):
    browser = _at_second_factor(employee)
    _send(browser)
    web_code = sent_code(outbox, "sms")
    assert token_with(employee, web_code).status_code == 401  # not the API's attempt

    other = _at_second_factor(employee)
    assert other.post(AUTHENTICATE_URL, {"code": web_code}).status_code == 200  # refused
    assert not events("auth.login.succeeded")


def test_the_page_offers_no_code_when_off(employee, settings):
    settings.GONGHAO_MFA_FALLBACK_CODES = False
    browser = _at_second_factor(employee)
    page = browser.get(AUTHENTICATE_URL, headers={"Accept-Language": "en"})
    assert "Send me a code instead" not in page.content.decode()
    _send(browser)
    assert reasons() == ["disabled"]


def test_sending_needs_a_pending_login(db):
    response = Client().post("/accounts/2fa/code/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert reasons() == []


def test_the_code_expires_on_the_web_too(employee, outbox, frozen_clock):
    browser = _at_second_factor(employee)
    _send(browser)
    code = sent_code(outbox, "sms")
    frozen_clock.advance(minutes=5)
    assert browser.post(AUTHENTICATE_URL, {"code": code}).status_code == 200
    assert not events("auth.login.succeeded")
