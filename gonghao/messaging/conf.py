"""Messaging configuration: a Django setting of the same name wins, then the environment.

Reading here (not in settings.py) keeps the messaging knobs with the app that uses them; tests
override them with Django's `settings` fixture.
"""

from __future__ import annotations

import os
from typing import Any

import environ
from django.conf import settings

_env = environ.Env()


def value(name: str, default: str = "") -> str:
    configured = getattr(settings, name, None)
    if configured is not None:
        return str(configured)
    return os.environ.get(name, default)


def mapping(name: str) -> dict[str, str]:
    """`a=SMS_1,b=SMS_2` (or a dict in settings) as a dict."""
    configured = getattr(settings, name, None)
    if isinstance(configured, dict):
        return {str(k): str(v) for k, v in configured.items()}
    raw = configured if configured is not None else os.environ.get(name, "")
    pairs = (item.split("=", 1) for item in str(raw).split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}


def email_connection_options() -> dict[str, Any]:
    """Keyword arguments for `django.core.mail.get_connection`.

    GONGHAO_EMAIL_URL (`smtp+tls://user:password@host:587`) when set; otherwise Django's own
    EMAIL_* settings, each overridable by an environment variable of the same name.
    """
    url = value("GONGHAO_EMAIL_URL")
    if url:
        config = _env.email_url_config(url)
    else:
        config = {
            name: os.environ.get(name, getattr(settings, name, None))
            for name in (
                "EMAIL_HOST",
                "EMAIL_PORT",
                "EMAIL_HOST_USER",
                "EMAIL_HOST_PASSWORD",
                "EMAIL_USE_TLS",
                "EMAIL_USE_SSL",
            )
        }
        config["EMAIL_BACKEND"] = settings.EMAIL_BACKEND
    options: dict[str, Any] = {"backend": config.get("EMAIL_BACKEND")}
    for key, option, cast in (
        ("EMAIL_HOST", "host", str),
        ("EMAIL_PORT", "port", int),
        ("EMAIL_HOST_USER", "username", str),
        ("EMAIL_HOST_PASSWORD", "password", str),
        ("EMAIL_USE_TLS", "use_tls", _flag),
        ("EMAIL_USE_SSL", "use_ssl", _flag),
    ):
        if config.get(key) not in (None, ""):
            options[option] = cast(config[key])
    return options


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("1", "true", "yes", "on")
