"""Employees (the user model, keyed by 工号), the 工号 registry, API tokens, password history."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from gonghao.core import clock

from . import employee_ids


class EmployeeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    LOCKED = "locked", _("Locked")
    DISABLED = "disabled", _("Disabled")
    DEPARTED = "departed", _("Departed")


class EmployeeManager(BaseUserManager):
    def get_by_natural_key(self, employee_id: str):
        return self.get(employee_id=employee_id_key(employee_id))


def employee_id_key(raw: str) -> str:
    return employee_ids.normalise(raw)


class Employee(AbstractBaseUser):
    """A person who works in the company, identified by one 工号 for life.

    `status` is the administrative state; a temporary lockout after failed logins is
    `locked_until`, which ends by itself.
    """

    employee_id = models.CharField(_("工号"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
    )
    position = models.ForeignKey(
        "org.Position",
        verbose_name=_("position"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
    )
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EmployeeStatus.choices,
        default=EmployeeStatus.PENDING,
        db_index=True,
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    departure_date = models.DateField(_("departure date"), null=True, blank=True)
    # The interface and the messages sent to the employee use it; blank: the company default
    # (or the browser's language on pages).
    language = models.CharField(_("preferred language"), max_length=16, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_changed_at = models.DateTimeField(_("last password change"), null=True, blank=True)
    last_failed_login_at = models.DateTimeField(_("last failed login"), null=True, blank=True)
    failed_login_count = models.PositiveIntegerField(_("recent failed logins"), default=0)
    failure_window_started_at = models.DateTimeField(
        _("failure window start"), null=True, blank=True
    )
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    lockout_count = models.PositiveIntegerField(_("consecutive lockouts"), default=0)
    activated_at = models.DateTimeField(
        _("activated at"),
        null=True,
        blank=True,
        help_text=_("When the account last became active; dormancy counts from here."),
    )
    rehire_of = models.ForeignKey(
        "self",
        verbose_name=_("rehire of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rehired_as",
        help_text=_("The former 工号 of a rehired employee, kept for reference."),
    )
    personal_data_erased_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EmployeeManager()

    USERNAME_FIELD = "employee_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["employee_id"]
        indexes = [models.Index(fields=["department", "status"], name="employee_dept_status")]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.name}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.status == EmployeeStatus.ACTIVE

    @property
    def is_temporarily_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    def normalize_username(self, username: str) -> str:
        return employee_id_key(username)


class EmployeeIdState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    ASSIGNED = "assigned", _("Assigned")
    DEPARTED = "departed", _("Departed (taken back, never reissued)")
    RETIRED = "retired", _("Retired")


class EmployeeIdRecord(models.Model):
    """Every 工号 ever issued. Rows are never deleted, so a number can never be issued twice."""

    employee_id = models.CharField(_("工号"), max_length=32, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    sequence = models.BigIntegerField(_("sequence"))
    state = models.CharField(
        _("state"), max_length=16, choices=EmployeeIdState.choices, default=EmployeeIdState.RESERVED
    )
    purpose = models.CharField(_("purpose"), max_length=64, blank=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    holder = models.OneToOneField(
        Employee,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="id_record",
    )

    class Meta:
        verbose_name = _("工号 record")
        verbose_name_plural = _("工号 registry")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "sequence"], name="employee_id_unique_seq")
        ]

    def __str__(self) -> str:
        return self.employee_id


class EmployeeIdCounter(models.Model):
    """The last sequence number handed out for a prefix; incremented under a row lock."""

    prefix = models.CharField(_("prefix"), max_length=8, primary_key=True)
    last_value = models.BigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("工号 counter")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    employee = models.ForeignKey(
        Employee, verbose_name=_("employee"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # The last password or second-factor check behind this token (login, or a step-up
    # re-authentication); sensitive actions need it to be recent.
    authenticated_at = models.DateTimeField(_("last authenticated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()


class PasswordHistory(models.Model):
    """Past password hashes, so the policy can refuse reusing one of the last N."""

    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="password_history",
    )
    password = models.CharField(_("password hash"), max_length=256)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("password history entry")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.employee_id}@{self.created_at:%Y-%m-%d}"


class PasswordResetCode(models.Model):
    """A 6-digit code sent to reset a forgotten password; only its HMAC is stored.

    Valid for a few minutes and a few tries, used once; a newer code voids the older ones.
    """

    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="password_reset_codes",
    )
    code_hash = models.CharField(_("code hash"), max_length=64)
    channel = models.CharField(_("channel"), max_length=8)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    requested_ip = models.GenericIPAddressField(_("requested from"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["employee", "used_at"], name="reset_code_employee_used")]

    def __str__(self) -> str:
        return f"{self.employee_id}@{self.created_at:%Y-%m-%d %H:%M}"


class SecondFactorCode(models.Model):
    """A 6-digit login code sent by SMS or e-mail as a fallback second factor; only its HMAC
    is stored. Bound to the login attempt that asked for it (`binding`: a digest of the web
    login's session, or "api" for the token endpoint); a newer code voids the older ones."""

    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="second_factor_codes",
    )
    code_hash = models.CharField(_("code hash"), max_length=64)
    channel = models.CharField(_("channel"), max_length=8)
    binding = models.CharField(_("login attempt"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time login code")
        verbose_name_plural = _("one-time login codes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "created_at"], name="mfa_code_employee_created")
        ]

    def __str__(self) -> str:
        return f"{self.employee_id}@{self.created_at:%Y-%m-%d %H:%M}"
