"""Audit action codes of the access app."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

ROLE_GRANT = register("role.grant", _("Granted role %(role)s to %(target)s"))
ROLE_REVOKE = register("role.revoke", _("Revoked role %(role)s from %(target)s"))
ROLE_UPDATE = register("role.update", _("Changed role %(target)s"))
