"""allauth.mfa adapter: TOTP secrets and recovery-code seeds are encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key derived from
GONGHAO_MFA_KEY, or from SECRET_KEY when that is unset. Older keys (GONGHAO_MFA_KEY_FALLBACKS,
SECRET_KEY_FALLBACKS) still decrypt, so a key can be rotated. A value without our prefix is a
secret stored before encryption was switched on (migration accounts 0008 encrypts those).
"""

from __future__ import annotations

import base64
import hashlib

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

PREFIX = "gh1:"


def _fernet(source: str) -> Fernet:
    digest = hashlib.sha256(f"gonghao.mfa.secrets:{source}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    """The first key encrypts; every key decrypts. Switching from the SECRET_KEY-derived key
    to GONGHAO_MFA_KEY keeps reading what the former encrypted."""
    older = [*settings.GONGHAO_MFA_KEY_FALLBACKS]
    if settings.GONGHAO_MFA_KEY:
        primary = settings.GONGHAO_MFA_KEY
        older += [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    else:
        primary = settings.SECRET_KEY
        older += settings.SECRET_KEY_FALLBACKS
    return MultiFernet([_fernet(primary), *(_fernet(k) for k in older if k)])


def encrypt_secret(text: str) -> str:
    return PREFIX + _keys().encrypt(text.encode()).decode("ascii")


def decrypt_secret(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # stored in clear before encryption was switched on
    return _keys().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()


class EncryptingMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_secret(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_secret(encrypted_text)

    def is_mfa_enabled(self, user, types=None) -> bool:
        # A password login has just read whether the employee has any authenticator at all
        # (services._with_authenticator_flag): with none, none of `types` either, and the
        # login's second-factor stage need not ask the database again.
        if getattr(user, "has_authenticator", None) is False:
            return False
        return super().is_mfa_enabled(user, types)
