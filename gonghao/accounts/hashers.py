"""Argon2id with our cost settings, never below OWASP's floor (t=2, m=19 MiB)."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

MIN_TIME_COST = 2
MIN_MEMORY_KIB = 19 * 1024


class GonghaoArgon2Hasher(Argon2PasswordHasher):
    """Same `argon2` algorithm name as Django's, so existing hashes stay verifiable and are
    upgraded at the next login when the cost settings change."""

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return max(MIN_TIME_COST, settings.GONGHAO_ARGON2_TIME_COST)

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return max(MIN_MEMORY_KIB, settings.GONGHAO_ARGON2_MEMORY_KIB)

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return max(1, settings.GONGHAO_ARGON2_PARALLELISM)
