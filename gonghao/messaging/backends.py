"""Senders: one file per message in the outbox directory, SMTP e-mail, Aliyun SMS.

A backend has one method, `deliver(message)`, which returns when the message is handed over
and raises `DeliveryError` (or anything else) when it is not. Backends never log a body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core import mail
from django.utils.module_loading import import_string

from gonghao.core import clock

from . import conf
from .constants import DELIVERY_TIMEOUT_SECONDS
from .models import Channel, Message


class DeliveryError(Exception):
    """The message was not handed over; it will be tried again."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help (the provider refused the number or the template)."""


class Backend(Protocol):
    def deliver(self, message: Message) -> None: ...


# --- outbox ------------------------------------------------------------------------------------


def _header(value: str) -> str:
    # One header, one line: a recipient or subject cannot forge further headers.
    return " ".join(str(value).split())


class OutboxBackend:
    """Writes `<timestamp>-<id>-<channel>.txt` into GONGHAO_OUTBOX_DIR, readable by the owner only.

    The file name is built from the time, the row id and the channel alone, so no recipient
    (`../../etc/passwd`) can steer where the file lands.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.GONGHAO_OUTBOX_DIR)

    def path_for(self, message: Message) -> Path:
        stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        channel = message.channel if message.channel in Channel.values else "message"
        return self.directory / f"{stamp}-{int(message.pk)}-{channel}.txt"

    def deliver(self, message: Message) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path_for(message)
        text = (
            f"Message-Id: {int(message.pk)}\n"
            f"Channel: {_header(message.channel)}\n"
            f"To: {_header(message.recipient)}\n"
            f"Subject: {_header(message.subject)}\n"
            f"Language: {_header(message.language)}\n"
            f"Template: {_header(message.template)}\n"
            "\n"
            f"{message.body}\n"
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)


# --- SMTP --------------------------------------------------------------------------------------


class SmtpBackend:
    """E-mail through Django's mail framework (GONGHAO_EMAIL_URL or the EMAIL_* settings)."""

    def deliver(self, message: Message) -> None:
        if message.channel != Channel.EMAIL:
            raise PermanentDeliveryError("the SMTP backend sends e-mail only")
        options = conf.email_connection_options()
        backend = options.pop("backend", None)
        connection = mail.get_connection(
            backend=backend, fail_silently=False, timeout=DELIVERY_TIMEOUT_SECONDS, **options
        )
        from_address = conf.value("GONGHAO_EMAIL_FROM") or settings.DEFAULT_FROM_EMAIL
        email = mail.EmailMessage(
            subject=_header(message.subject),
            body=message.body,
            from_email=from_address,
            to=[message.recipient],
            connection=connection,
        )
        sent = email.send(fail_silently=False)
        if sent != 1:
            raise DeliveryError("the mail server accepted no message")


# --- Aliyun SMS --------------------------------------------------------------------------------

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
ALIYUN_API_VERSION = "2017-05-25"
# Answers from SendSms for which trying again cannot help.
ALIYUN_PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }
)


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signing asks: space → %20, * → %2A, ~ kept."""
    return urllib.parse.quote(str(value), safe="~")


def aliyun_string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(params[k])}" for k in sorted(params)
    )
    return f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """HMAC-SHA1 over the string to sign, keyed with `secret + "&"`, in base64."""
    digest = hmac.new(
        (secret + "&").encode("utf-8"),
        aliyun_string_to_sign(method, params).encode("utf-8"),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


Opener = Callable[..., Any]


class AliyunSmsBackend:
    """Aliyun (阿里云) SMS through the SendSms RPC API, with the standard library alone.

    Aliyun sends pre-approved templates, not free text: each of our template codes maps to an
    Aliyun TemplateCode (GONGHAO_SMS_ALIYUN_TEMPLATES=`auth.code=SMS_1,…`; `auth.code@en=…`
    for a language of its own) and the message's params go as TemplateParam.
    """

    method = "POST"

    def __init__(
        self,
        *,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        sign_name: str | None = None,
        templates: dict[str, str] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
        opener: Opener | None = None,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        self.access_key_id = access_key_id or conf.value("GONGHAO_SMS_ALIYUN_ACCESS_KEY_ID")
        self.access_key_secret = access_key_secret or conf.value(
            "GONGHAO_SMS_ALIYUN_ACCESS_KEY_SECRET"
        )
        self.sign_name = sign_name or conf.value("GONGHAO_SMS_ALIYUN_SIGN_NAME")
        self.templates = (
            templates if templates is not None else conf.mapping("GONGHAO_SMS_ALIYUN_TEMPLATES")
        )
        self.endpoint = endpoint or conf.value("GONGHAO_SMS_ALIYUN_ENDPOINT", ALIYUN_ENDPOINT)
        self.region = region or conf.value("GONGHAO_SMS_ALIYUN_REGION", "cn-hangzhou")
        self.opener = opener or urllib.request.urlopen
        self.nonce = nonce or (lambda: uuid.uuid4().hex)

    def template_code(self, message: Message) -> str:
        code = self.templates.get(f"{message.template}@{message.language}") or self.templates.get(
            message.template
        )
        if not code:
            raise DeliveryError(f"no Aliyun template configured for {message.template}")
        return code

    def request_params(self, message: Message, now: datetime | None = None) -> dict[str, str]:
        """Every parameter of the SendSms call, with its Signature."""
        if not (self.access_key_id and self.access_key_secret and self.sign_name):
            raise DeliveryError("Aliyun SMS is not configured (access key, secret, sign name)")
        moment = (now or clock.now()).astimezone(UTC)
        phone = message.recipient
        if phone.startswith("+86"):
            phone = phone[3:]  # mainland numbers go without the country code
        elif phone.startswith("+"):
            phone = "00" + phone[1:]
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code(message),
            "TemplateParam": json.dumps(
                {k: str(v) for k, v in (message.params or {}).items()},
                ensure_ascii=False,
                separators=(",", ":"),
                sort_keys=True,
            ),
            "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": ALIYUN_API_VERSION,
        }
        params["Signature"] = aliyun_signature(self.access_key_secret, self.method, params)
        return params

    def deliver(self, message: Message) -> None:
        if message.channel != Channel.SMS:
            raise PermanentDeliveryError("the Aliyun backend sends SMS only")
        body = urllib.parse.urlencode(
            self.request_params(message), quote_via=urllib.parse.quote
        ).encode("ascii")
        request = urllib.request.Request(  # noqa: S310  (the endpoint is https by configuration)
            self.endpoint,
            data=body,
            method=self.method,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        try:
            with self.opener(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                raw = response.read()
        except OSError as error:  # URLError, HTTPError, timeouts
            raise DeliveryError(f"Aliyun SMS request failed: {error}") from error
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise DeliveryError("Aliyun SMS answered something that is not JSON") from error
        code = str(answer.get("Code", ""))
        if code != "OK":
            text = f"Aliyun SMS refused: {code} {answer.get('Message', '')}".strip()
            if code in ALIYUN_PERMANENT_CODES:
                raise PermanentDeliveryError(text)
            raise DeliveryError(text)


# --- selection ---------------------------------------------------------------------------------

EMAIL_BACKENDS = {"outbox": OutboxBackend, "smtp": SmtpBackend}
SMS_BACKENDS = {"outbox": OutboxBackend, "aliyun": AliyunSmsBackend}


def backend_for(channel: str) -> Backend:
    """GONGHAO_EMAIL_BACKEND=outbox|smtp, GONGHAO_SMS_BACKEND=outbox|aliyun (default outbox).

    A dotted path names a class of one's own (another SMS provider, say).
    """
    if channel == Channel.EMAIL:
        name, known = conf.value("GONGHAO_EMAIL_BACKEND", "outbox") or "outbox", EMAIL_BACKENDS
    elif channel == Channel.SMS:
        name, known = conf.value("GONGHAO_SMS_BACKEND", "outbox") or "outbox", SMS_BACKENDS
    else:
        raise PermanentDeliveryError(f"unknown channel {channel!r}")
    if name in known:
        return known[name]()
    if "." in name:
        return import_string(name)()
    raise DeliveryError(f"unknown {channel} backend {name!r}")
