"""The senders: outbox files, SMTP through Django's mail, Aliyun SMS (no network)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
from datetime import UTC, datetime

import pytest
from django.core import mail

from gonghao.messaging import conf
from gonghao.messaging.backends import (
    AliyunSmsBackend,
    DeliveryError,
    OutboxBackend,
    PermanentDeliveryError,
    SmtpBackend,
    aliyun_signature,
    aliyun_string_to_sign,
    backend_for,
)
from gonghao.messaging.models import Message

from .conftest import outbox_files


def unsaved(pk=7, **fields) -> Message:
    values = {
        "channel": "email",
        "recipient": "wang@example.cn",
        "language": "en",
        "template": "account.password_changed",
        "subject": "Your password was changed",
        "body": "Hello 王五",
    }
    values.update(fields)
    return Message(pk=pk, **values)


# --- outbox ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "recipient", ["../../etc/passwd", "/etc/passwd", "a/../../b", "..\\..\\x", "x\x00y"]
)
def test_outbox_file_names_ignore_the_recipient(outbox, recipient):
    OutboxBackend().deliver(unsaved(recipient=recipient))

    [path] = outbox_files(outbox)
    assert path.parent == outbox
    assert path.name.endswith("-7-email.txt")
    assert list(outbox.iterdir()) == [path]


def test_outbox_headers_stay_on_one_line(outbox):
    OutboxBackend().deliver(
        unsaved(recipient="a@example.cn\nBcc: evil@example.cn", subject="Hi\r\nX-Evil: 1")
    )
    [path] = outbox_files(outbox)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:6] == [
        "Message-Id: 7",
        "Channel: email",
        "To: a@example.cn Bcc: evil@example.cn",
        "Subject: Hi X-Evil: 1",
        "Language: en",
        "Template: account.password_changed",
    ]
    assert lines[6:] == ["", "Hello 王五"]


def test_outbox_files_are_private_and_never_overwritten(outbox):
    backend = OutboxBackend()
    backend.deliver(unsaved())
    [path] = outbox_files(outbox)
    assert path.stat().st_mode & 0o777 == 0o600
    assert outbox.stat().st_mode & 0o077 == 0


# --- SMTP --------------------------------------------------------------------------------------


def test_smtp_backend_sends_through_djangos_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SmtpBackend().deliver(unsaved(subject="Your password\nwas changed"))
    [email] = mail.outbox
    assert email.to == ["wang@example.cn"]
    assert email.from_email == "crm@example.cn"
    assert email.subject == "Your password was changed"
    assert email.body == "Hello 王五"


def test_smtp_backend_refuses_sms():
    with pytest.raises(PermanentDeliveryError):
        SmtpBackend().deliver(unsaved(channel="sms", recipient="+8613812345678"))


def test_smtp_connection_from_the_email_url(settings):
    settings.GONGHAO_EMAIL_URL = "smtp+tls://crm%40example.cn:p%40ss@smtp.example.cn:587"
    assert conf.email_connection_options() == {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": "smtp.example.cn",
        "port": 587,
        "username": "crm@example.cn",
        "password": "p@ss",
        "use_tls": True,
    }


def test_smtp_connection_from_email_settings(settings, monkeypatch):
    settings.GONGHAO_EMAIL_URL = ""
    settings.EMAIL_HOST = "mail.internal"
    settings.EMAIL_PORT = 25
    monkeypatch.setenv("EMAIL_USE_SSL", "1")
    monkeypatch.setenv("EMAIL_PORT", "465")
    options = conf.email_connection_options()
    assert options["host"] == "mail.internal"
    assert options["port"] == 465
    assert options["use_ssl"] is True


def test_smtp_failure_raises(settings):
    settings.GONGHAO_EMAIL_URL = "smtp://127.0.0.1:1"  # nothing listens on port 1
    with pytest.raises(OSError):
        SmtpBackend().deliver(unsaved())


# --- selection ---------------------------------------------------------------------------------


def test_backend_selection(settings):
    assert isinstance(backend_for("email"), OutboxBackend)
    assert isinstance(backend_for("sms"), OutboxBackend)
    settings.GONGHAO_EMAIL_BACKEND = "smtp"
    settings.GONGHAO_SMS_BACKEND = "aliyun"
    assert isinstance(backend_for("email"), SmtpBackend)
    assert isinstance(backend_for("sms"), AliyunSmsBackend)
    settings.GONGHAO_SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(DeliveryError):
        backend_for("sms")


def test_backend_selection_from_the_environment(settings, monkeypatch):
    del settings.GONGHAO_SMS_BACKEND
    monkeypatch.setenv("GONGHAO_SMS_BACKEND", "aliyun")
    assert isinstance(backend_for("sms"), AliyunSmsBackend)


# --- Aliyun ------------------------------------------------------------------------------------

# The worked example of Aliyun's RPC signing documentation for SendSms (GET, Format=XML).
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_aliyun_string_to_sign_follows_the_spec():
    text = aliyun_string_to_sign("GET", DOC_PARAMS)
    assert text.startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML")
    # Values are encoded once in the canonical string, then the whole string once more.
    assert "SignName%3D%25E9%2598%25BF" in text
    assert "TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D" in text
    assert text.endswith("Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")


def test_aliyun_signature_matches_the_documented_vector():
    assert aliyun_signature("testSecret", "GET", DOC_PARAMS) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_percent_encoding_of_special_characters():
    text = aliyun_string_to_sign("POST", {"A": "a b*c~d"})
    # space → %20, * → %2A, ~ unencoded (then the whole string encoded again).
    assert text == "POST&%2F&A%3Da%2520b%252Ac~d"


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeOpener:
    def __init__(self, answer: bytes | Exception) -> None:
        self.answer = answer
        self.requests: list = []

    def __call__(self, request, timeout=None):
        self.requests.append((request, timeout))
        if isinstance(self.answer, Exception):
            raise self.answer
        return FakeResponse(self.answer)


def aliyun(opener: FakeOpener, **overrides) -> AliyunSmsBackend:
    options = {
        "access_key_id": "testId",
        "access_key_secret": "testSecret",
        "sign_name": "工号科技",
        "templates": {"auth.code": "SMS_100", "auth.code@en": "SMS_200"},
        "opener": opener,
        "nonce": lambda: "fixed-nonce",
    }
    options.update(overrides)
    return AliyunSmsBackend(**options)


def sms(**fields) -> Message:
    values = {
        "channel": "sms",
        "recipient": "+8613812345678",
        "language": "zh-hans",
        "template": "auth.code",
        "params": {"code": "123456", "minutes": "10"},
        "body": "您的验证码是 123456",
    }
    values.update(fields)
    return unsaved(**values)


def test_aliyun_request(frozen_clock):
    frozen_clock.current = datetime(2026, 11, 29, 3, 4, 5, tzinfo=UTC)
    opener = FakeOpener(b'{"Code":"OK","Message":"OK","BizId":"9","RequestId":"R"}')
    aliyun(opener).deliver(sms())

    [(request, timeout)] = opener.requests
    assert request.full_url == "https://dysmsapi.aliyuncs.com/"
    assert request.get_method() == "POST"
    assert timeout == 20
    sent = dict(urllib.parse.parse_qsl(request.data.decode("ascii"), strict_parsing=True))
    signature = sent.pop("Signature")
    assert sent == {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": "13812345678",
        "RegionId": "cn-hangzhou",
        "SignName": "工号科技",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "fixed-nonce",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_100",
        "TemplateParam": '{"code":"123456","minutes":"10"}',
        "Timestamp": "2026-11-29T03:04:05Z",
        "Version": "2017-05-25",
    }
    assert signature == aliyun_signature("testSecret", "POST", sent)
    # Spaces in the form body are %20, as the signature assumes; never "+".
    assert "+" not in request.data.decode("ascii").replace("%2B", "")


def test_aliyun_template_per_language_and_international_numbers():
    opener = FakeOpener(b'{"Code":"OK"}')
    params = aliyun(opener).request_params(sms(language="en", recipient="+447911123456"))
    assert params["TemplateCode"] == "SMS_200"
    assert params["PhoneNumbers"] == "00447911123456"


def test_aliyun_settings_from_the_environment(settings, monkeypatch):
    monkeypatch.setenv("GONGHAO_SMS_ALIYUN_ACCESS_KEY_ID", "id-from-env")
    monkeypatch.setenv("GONGHAO_SMS_ALIYUN_ACCESS_KEY_SECRET", "secret-from-env")
    monkeypatch.setenv("GONGHAO_SMS_ALIYUN_SIGN_NAME", "签名")
    monkeypatch.setenv(
        "GONGHAO_SMS_ALIYUN_TEMPLATES", "auth.code=SMS_1, account.initial_password=SMS_2"
    )
    backend = AliyunSmsBackend()
    assert (backend.access_key_id, backend.access_key_secret, backend.sign_name) == (
        "id-from-env",
        "secret-from-env",
        "签名",
    )
    assert backend.templates == {"auth.code": "SMS_1", "account.initial_password": "SMS_2"}


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b'{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"too many"}', DeliveryError),
        (b'{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"bad"}', PermanentDeliveryError),
        (b"<html>gateway timeout</html>", DeliveryError),
        (urllib.error.URLError("no route to host"), DeliveryError),
        (TimeoutError("timed out"), DeliveryError),
    ],
)
def test_aliyun_errors(answer, error):
    with pytest.raises(error) as caught:
        aliyun(FakeOpener(answer)).deliver(sms())
    assert "123456" not in str(caught.value)
    if error is DeliveryError:
        assert not isinstance(caught.value, PermanentDeliveryError)


def test_aliyun_needs_configuration_and_a_template_mapping():
    with pytest.raises(DeliveryError, match="not configured"):
        aliyun(FakeOpener(b""), access_key_id="", sign_name="").deliver(sms())
    with pytest.raises(DeliveryError, match="no Aliyun template"):
        aliyun(FakeOpener(b""), templates={}).deliver(sms())


def test_aliyun_refuses_email():
    with pytest.raises(PermanentDeliveryError):
        aliyun(FakeOpener(b"")).deliver(unsaved())


def test_aliyun_body_never_sent_only_params():
    opener = FakeOpener(b'{"Code":"OK"}')
    aliyun(opener).deliver(sms(body="SHOULD NOT LEAVE"))
    data = opener.requests[0][0].data.decode("ascii")
    assert "SHOULD" not in urllib.parse.unquote(data)
    assert json.loads(dict(urllib.parse.parse_qsl(data))["TemplateParam"])["code"] == "123456"
