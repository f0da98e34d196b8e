"""Checks on free text that every app applies to what people type."""

from __future__ import annotations

import re

# C0 controls and DEL, except tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True for a NUL anywhere; for any other control character unless `multiline` text."""
    if "\x00" in value:
        return True
    if multiline:
        return False
    return bool(_CONTROL.search(value))
