"""The 工号 format: prefix + zero-padded sequence + one Damm check digit.

The Damm check digit catches every single-digit mistake and every swap of two neighbouring
digits, so a mistyped 工号 is refused as "not a valid 工号" before any database lookup.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings

_STRUCTURE = re.compile(r"^([A-Z]{0,8})(\d{2,18})$")
_SEPARATORS = re.compile(r"[\s\-_]+")


def _expand(text: str) -> list[int]:
    """Digits stay digits; letters become two digits (A=10 … Z=35), as IBAN does."""
    digits: list[int] = []
    for char in text:
        if char.isdigit():
            digits.append(int(char))
        else:
            value = ord(char) - ord("A") + 10
            digits.extend(divmod(value, 10))
    return digits


# Damm's totally anti-symmetric quasigroup of order 10.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(body: str) -> str:
    """The Damm check digit of the expanded body."""
    interim = 0
    for digit in _expand(body):
        interim = _DAMM[interim][digit]
    return str(interim)


def normalise(raw: str) -> str:
    """Full-width to ASCII, upper case, without spaces or dashes people type between groups."""
    text = unicodedata.normalize("NFKC", raw or "")
    return _SEPARATORS.sub("", text).upper()


def is_valid(employee_id: str) -> bool:
    """True when the (normalised) text has a 工号's shape and its check digit matches.

    The digit count is fixed by the format: a Damm check digit stays valid when zeros are
    appended, so "E00000170" must not pass for "E0000017".
    """
    match = _STRUCTURE.match(employee_id)
    if not match or len(match.group(2)) != settings.GONGHAO_EMPLOYEE_ID_DIGITS + 1:
        return False
    return check_digit(employee_id[:-1]) == employee_id[-1]


def format_number(sequence: int, *, prefix: str | None = None, digits: int | None = None) -> str:
    prefix = settings.GONGHAO_EMPLOYEE_ID_PREFIX if prefix is None else prefix
    digits = settings.GONGHAO_EMPLOYEE_ID_DIGITS if digits is None else digits
    if sequence < 1 or sequence >= 10**digits:
        raise OverflowError(f"sequence {sequence} does not fit in {digits} digits")
    body = f"{prefix}{sequence:0{digits}d}"
    return body + check_digit(body)


def validate_format_settings() -> None:
    prefix = settings.GONGHAO_EMPLOYEE_ID_PREFIX
    if not re.fullmatch(r"[A-Z]{0,8}", prefix):
        raise ValueError("GONGHAO_EMPLOYEE_ID_PREFIX must be 0 to 8 capital letters A-Z")
    if not 3 <= settings.GONGHAO_EMPLOYEE_ID_DIGITS <= 12:
        raise ValueError("GONGHAO_EMPLOYEE_ID_DIGITS must be between 3 and 12")
