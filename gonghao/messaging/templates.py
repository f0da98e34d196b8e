"""The message templates: code → subject and body in zh-Hans and English.

Messages go out in the recipient's language, not the active one, so the texts live here in
explicit per-language dicts rather than in the gettext catalogue. Params use `%(name)s`.
Templates marked `secret` carry a password or a code: their body and params are redacted from
the outbox table once sent, and nothing here or in the senders logs a rendered body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .constants import LANGUAGES

_PARAM = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class MessageTemplate:
    code: str
    subject: dict[str, str]
    body: dict[str, str]
    secret: bool = False
    params: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


_TEMPLATES: dict[str, MessageTemplate] = {}


def register(
    code: str, *, subject: dict[str, str], body: dict[str, str], secret: bool = False
) -> MessageTemplate:
    """Add a template; both languages are required and must use the same params."""
    for texts in (subject, body):
        if set(texts) != set(LANGUAGES):
            raise ValueError(f"message template {code} needs exactly {LANGUAGES}")
    names = {lang: set(_PARAM.findall(subject[lang] + body[lang])) for lang in LANGUAGES}
    if len({frozenset(v) for v in names.values()}) != 1:
        raise ValueError(f"message template {code}: languages use different params")
    template = MessageTemplate(code, subject, body, secret, frozenset(names[LANGUAGES[0]]))
    if code in _TEMPLATES and _TEMPLATES[code] != template:
        raise ValueError(f"message template {code} registered twice")
    _TEMPLATES[code] = template
    return template


def get(code: str) -> MessageTemplate:
    try:
        return _TEMPLATES[code]
    except KeyError:
        raise LookupError(f"unknown message template {code!r}") from None


def all_templates() -> list[MessageTemplate]:
    return sorted(_TEMPLATES.values(), key=lambda t: t.code)


def render(code: str, language: str, params: dict[str, Any]) -> Rendered:
    """Subject and body in `language`. Missing params raise (naming the param, never a value)."""
    template = get(code)
    missing = template.params - set(params)
    if missing:
        raise ValueError(f"message template {code} needs params {sorted(missing)}")
    values = {name: str(params[name]) for name in template.params}
    return Rendered(
        subject=template.subject[language] % values, body=template.body[language] % values
    )


ACCOUNT_INITIAL_PASSWORD = register(
    "account.initial_password",
    secret=True,
    subject={
        "zh-hans": "您的工号和一次性密码",
        "en": "Your 工号 (employee ID) and one-time password",
    },
    body={
        "zh-hans": (
            "%(name)s，您好：您的工号是 %(employee_id)s，一次性密码是 %(password)s。"
            "首次登录后须设置新密码。请勿将密码告诉任何人。"
        ),
        "en": (
            "Hello %(name)s, your 工号 (employee ID) is %(employee_id)s and your one-time "
            "password is %(password)s. You will choose a new password at first login. "
            "Never share it with anyone."
        ),
    },
)

AUTH_CODE = register(
    "auth.code",
    secret=True,
    subject={"zh-hans": "验证码", "en": "Verification code"},
    body={
        "zh-hans": "您的验证码是 %(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略。",
        "en": (
            "Your verification code is %(code)s. It is valid for %(minutes)s minutes. "
            "If you did not ask for it, ignore this message."
        ),
    },
)

ACCOUNT_PASSWORD_CHANGED = register(
    "account.password_changed",
    subject={"zh-hans": "您的密码已修改", "en": "Your password was changed"},
    body={
        "zh-hans": (
            "%(name)s，您好：工号 %(employee_id)s 的密码已于 %(changed_at)s 修改。"
            "如非本人操作，请立即联系系统管理员。"
        ),
        "en": (
            "Hello %(name)s, the password of 工号 %(employee_id)s was changed at "
            "%(changed_at)s. If this was not you, contact your administrator now."
        ),
    },
)

ACCOUNT_SECOND_FACTOR_RESET = register(
    "account.second_factor_reset",
    subject={"zh-hans": "您的双因素认证已重置", "en": "Your second factor was reset"},
    body={
        "zh-hans": (
            "%(name)s，您好：工号 %(employee_id)s 的双因素认证已被重置，下次登录时请重新设置。"
            "如非您本人申请，请立即联系系统管理员。"
        ),
        "en": (
            "Hello %(name)s, the second factor of 工号 %(employee_id)s was reset. Set up a "
            "new one at your next login. If you did not ask for this, contact your "
            "administrator now."
        ),
    },
)

ACCOUNT_DORMANT_DISABLED_MANAGER_NOTICE = register(
    "account.dormant_disabled_manager_notice",
    subject={
        "zh-hans": "下属长期未登录的账号已停用",
        "en": "A dormant account in your team was disabled",
    },
    body={
        "zh-hans": (
            "%(manager_name)s，您好：%(name)s（工号 %(employee_id)s）已 %(days)s 天未登录，"
            "账号已停用。如仍需使用，请提交恢复申请。"
        ),
        "en": (
            "Hello %(manager_name)s, %(name)s (工号 %(employee_id)s) has not logged in for "
            "%(days)s days and the account was disabled. Ask for it to be restored if it is "
            "still needed."
        ),
    },
)
