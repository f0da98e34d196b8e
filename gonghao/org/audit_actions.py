"""Audit action codes of the organisation app."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

DEPARTMENT_CREATE = register("department.create", _("Created department %(target)s"))
DEPARTMENT_UPDATE = register("department.update", _("Changed department %(target)s"))
POSITION_CREATE = register("position.create", _("Created position %(target)s"))
POSITION_UPDATE = register("position.update", _("Changed position %(target)s"))
