"""Roles (named permission sets with a data scope) and the grants that give them to employees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gonghao.core import clock


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    SUBORDINATES = "subordinates", _("Own and subordinates' records")
    DEPARTMENT = "department", _("Own department")
    DEPARTMENT_TREE = "department_tree", _("Own department and sub-departments")
    ALL = "all", _("All records")


class Role(models.Model):
    """A named set of permissions, applied within a data scope."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    permissions = models.JSONField(_("permissions"), default=list)
    data_scope = models.CharField(
        _("data scope"), max_length=20, choices=DataScope.choices, default=DataScope.OWN
    )
    hidden_fields = models.JSONField(_("hidden fields"), default=list, blank=True)
    is_builtin = models.BooleanField(_("built in"), default=False)
    # Set by an administrator: giving (or taking) this role to an existing employee then goes
    # through a role-change request approved by a second person, never a direct grant.
    grant_needs_approval = models.BooleanField(_("granting needs approval"), default=False)
    revoke_needs_approval = models.BooleanField(_("revoking needs approval"), default=False)
    # Optional login restrictions (gonghao.access.login_rules): empty means no restriction.
    allowed_networks = models.JSONField(
        _("allowed IP ranges"), default=list, blank=True, help_text=_("CIDR, IPv4 or IPv6")
    )
    allowed_hours_start = models.TimeField(_("allowed from"), null=True, blank=True)
    allowed_hours_end = models.TimeField(_("allowed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class GrantQuerySet(models.QuerySet):
    def in_force(self, now=None):
        """Grants neither revoked nor expired at `now` (a datetime or an expression; default:
        the current time)."""
        now = clock.now() if now is None else now
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class RoleGrant(models.Model):
    """An employee holds a role: who granted it, when, until when, and whether it was revoked."""

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="role_grants",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "role"],
                condition=Q(revoked_at__isnull=True),
                name="one_open_grant_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee_id}:{self.role_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.now()


class SodRule(models.Model):
    """Two roles or permissions ("role:auditor", "perm:audit.view") one employee may not hold
    together: segregation of duties."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    left = models.CharField(_("left side"), max_length=80)
    right = models.CharField(_("right side"), max_length=80)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("segregation-of-duties rule")
        verbose_name_plural = _("segregation-of-duties rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.left} ⟂ {self.right}"
