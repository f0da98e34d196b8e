"""Every audit action code, with its summary template in both languages.

Apps register their actions at import time; `record()` refuses unknown codes so a typo cannot
write an event nobody can find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AuditAction:
    code: str
    summary: Promise  # a lazy template, formatted with the event's params and `target`
    category: str


_ACTIONS: dict[str, AuditAction] = {}


def register(code: str, summary: Promise, category: str = "") -> str:
    if code in _ACTIONS and _ACTIONS[code].summary != summary:
        raise ValueError(f"audit action {code} registered twice")
    _ACTIONS[code] = AuditAction(code, summary, category or code.split(".", 1)[0])
    return code


def get(code: str) -> AuditAction:
    return _ACTIONS[code]


def is_registered(code: str) -> bool:
    return code in _ACTIONS


def all_actions() -> list[AuditAction]:
    return sorted(_ACTIONS.values(), key=lambda a: a.code)


class _SafeParams(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def render_summary(code: str, params: dict[str, Any] | None, target_label: str = "") -> str:
    """The event's one-line summary in the active language."""
    action = _ACTIONS.get(code)
    if action is None:
        return code
    values = _SafeParams({k: v for k, v in (params or {}).items()})
    values.setdefault("target", target_label)
    try:
        return str(action.summary) % values
    except (TypeError, ValueError):
        return str(action.summary)


# The audit log's own actions.
AUDIT_VERIFIED = register(
    "audit.verify", _("Verified the audit chain: %(result)s (%(checked)s events)")
)
