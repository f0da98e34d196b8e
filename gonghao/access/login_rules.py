"""Optional login restrictions per role: allowed IP ranges (CIDR) and allowed hours.

The rule: a role *allows* a login when the client address is inside one of its ranges (or it
has none) and the company-time-zone clock is inside its hours (or it has none). An employee
may log in when ANY role they hold allows it; an employee without roles, or holding one role
without restrictions, is not restricted. Hours run from start (included) to end (excluded) and
may pass midnight (22:00–06:00). When refused, the reason is the address if no role accepts
it, otherwise the time.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gonghao.core.errors import GonghaoError, ValidationFailed

MAX_NETWORKS = 100


class LoginNotAllowedFromAddress(GonghaoError):
    code = "login_not_allowed_from_address"
    status = 403
    default_message = gettext_lazy("Your roles do not allow logging in from this network address.")


class LoginNotAllowedAtThisTime(GonghaoError):
    code = "login_not_allowed_at_this_time"
    status = 403
    default_message = gettext_lazy("Your roles do not allow logging in at this time.")


def clean_networks(values: list[str] | str) -> list[str]:
    """CIDR ranges (IPv4/IPv6; a bare address is one host), normalised; ValidationFailed on
    a bad one (field `allowed_networks`)."""
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,;]+", values) if v]
    if len(values) > MAX_NETWORKS:
        raise ValidationFailed(
            field_errors={"allowed_networks": [_("At most %(n)s ranges.") % {"n": MAX_NETWORKS}]}
        )
    cleaned: list[str] = []
    bad: list[str] = []
    for value in values:
        try:
            cleaned.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            bad.append(str(value)[:50])
    if bad:
        raise ValidationFailed(
            field_errors={
                "allowed_networks": [
                    _("Not an IP range (CIDR): %(values)s") % {"values": ", ".join(bad)}
                ]
            }
        )
    return sorted(set(cleaned), key=cleaned.index)


def clean_hours(start: time | None, end: time | None) -> tuple[time | None, time | None]:
    """Both or neither; start and end must differ (22:00–06:00 passes midnight)."""
    if (start is None) != (end is None) or (start is not None and start == end):
        raise ValidationFailed(
            field_errors={
                "allowed_hours": [_("Give both a start and a different end time, or neither.")]
            }
        )
    return start, end


def parse_hours(text: str) -> tuple[time | None, time | None]:
    """ "HH:MM-HH:MM" → (start, end); "" → (None, None)."""
    text = (text or "").strip()
    if not text:
        return None, None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})", text)
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return clean_hours(time(h1, m1), time(h2, m2))
    except ValueError:
        raise ValidationFailed(
            field_errors={"allowed_hours": [_("Write the hours as HH:MM-HH:MM, e.g. 08:00-20:00.")]}
        )


def format_hours(role: Any) -> str:
    if role.allowed_hours_start is None or role.allowed_hours_end is None:
        return ""
    return f"{role.allowed_hours_start:%H:%M}-{role.allowed_hours_end:%H:%M}"


def _address_allowed(role: Any, ip: str | None) -> bool:
    if not role.allowed_networks:
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(n, strict=False) for n in role.allowed_networks)


def _time_allowed(role: Any, local: time) -> bool:
    start, end = role.allowed_hours_start, role.allowed_hours_end
    if start is None or end is None:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end  # overnight


def refusal(roles: list[Any], ip: str | None, at: datetime) -> GonghaoError | None:
    """None when some role (or having none) allows a login from `ip` at `at`; else the error."""
    if not roles:
        return None
    local = at.astimezone(ZoneInfo(settings.TIME_ZONE)).time()
    by_address = [r for r in roles if _address_allowed(r, ip)]
    if not by_address:
        return LoginNotAllowedFromAddress()
    if any(_time_allowed(r, local) for r in by_address):
        return None
    return LoginNotAllowedAtThisTime()
