"""TOTP secrets and recovery-code seeds are encrypted at rest (MFA_ADAPTER), still work, and
the data migration encrypts what was stored in clear (idempotent, reversible)."""

from __future__ import annotations

import importlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import InvalidToken
from django.apps import apps

from gonghao.accounts.mfa_adapter import PREFIX, decrypt_secret, encrypt_secret
from gonghao.testing.kit import make_employee

from .mfa_support import SECRET, code_at, enable_totp, follow_clock

migration = importlib.import_module("gonghao.accounts.migrations.0008_encrypt_mfa_secrets")


@pytest.fixture
def employee(db):
    return make_employee("张三")


def test_totp_secret_and_recovery_seed_are_stored_encrypted_and_still_work(
    employee, frozen_clock, monkeypatch
):
    follow_clock(monkeypatch, frozen_clock)
    codes = enable_totp(employee)

    totp = Authenticator.objects.get(user=employee, type="totp")
    recovery = Authenticator.objects.get(user=employee, type="recovery_codes")
    assert totp.data["secret"].startswith(PREFIX) and SECRET not in str(totp.data)
    assert recovery.data["seed"].startswith(PREFIX)
    assert totp.wrap().validate_code(code_at(SECRET, frozen_clock))
    assert RecoveryCodes(recovery).generate_codes() == codes
    assert recovery.wrap().validate_code(codes[0])


def test_the_same_text_encrypts_differently_each_time(settings):
    assert encrypt_secret("x") != encrypt_secret("x")
    assert decrypt_secret(encrypt_secret("秘密")) == "秘密"


def test_a_dedicated_key_still_reads_what_the_secret_key_encrypted(settings):
    old = encrypt_secret(SECRET)
    settings.GONGHAO_MFA_KEY = "a-dedicated-mfa-key-for-tests"
    assert decrypt_secret(old) == SECRET
    new = encrypt_secret(SECRET)
    settings.GONGHAO_MFA_KEY = "another-key"
    with pytest.raises(InvalidToken):
        decrypt_secret(new)
    settings.GONGHAO_MFA_KEY_FALLBACKS = ["a-dedicated-mfa-key-for-tests"]
    assert decrypt_secret(new) == SECRET


def test_the_migration_encrypts_clear_secrets_once_and_reverses(employee):
    totp = Authenticator.objects.create(
        user=employee, type="totp", data={"secret": SECRET, "other": 1}
    )
    legacy = Authenticator.objects.create(
        user=make_employee("李四"),
        type="recovery_codes",
        data={"seed": "abc", "used_mask": 0, "migrated_codes": ["12345678"]},
    )

    migration.encrypt(apps, None)
    totp.refresh_from_db()
    once = totp.data["secret"]
    migration.encrypt(apps, None)
    totp.refresh_from_db()

    assert once.startswith(PREFIX) and totp.data["secret"] == once
    assert totp.data["other"] == 1
    assert decrypt_secret(once) == SECRET
    legacy.refresh_from_db()
    assert [decrypt_secret(c) for c in legacy.data["migrated_codes"]] == ["12345678"]

    migration.decrypt(apps, None)
    totp.refresh_from_db()
    legacy.refresh_from_db()
    assert totp.data["secret"] == SECRET and legacy.data["seed"] == "abc"


def test_a_secret_stored_in_clear_is_still_read():
    assert decrypt_secret(SECRET) == SECRET
