"""Audit action codes of imports and exports: one event per import or export, with counts."""

from django.utils.translation import gettext_lazy as _

from gonghao.audit.registry import register

IMPORT_COMMIT = register(
    "import.commit", _("Imported %(created)s %(kind)s from %(file)s (batch %(batch)s)")
)
EXPORT = register("export.run", _("Exported %(count)s %(kind)s as %(format)s"))
