"""gonghao export customers|contacts|interactions|opportunities --format xlsx|csv [--output F]"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gonghao.core import context
from gonghao.core.errors import GonghaoError
from gonghao.crm.queries import CustomerFilter
from gonghao.transfer.exports import EXPORT_KINDS, FORMATS, export_table

from ._acting import acting_employee, stderr_progress


class Command(BaseCommand):
    help = (
        "Export what the acting employee may see, masked as their permissions say. "
        "Recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=EXPORT_KINDS)
        parser.add_argument("--format", dest="file_format", choices=FORMATS, default="xlsx")
        parser.add_argument("--output", help="file to write (default: KIND.FORMAT here)")
        parser.add_argument("--as", dest="actor", help="the acting employee's 工号")
        parser.add_argument("--q", default="", help="search text")
        parser.add_argument("--status", default="")
        parser.add_argument("--level", default="")

    def handle(self, *args, kind, file_format, output, actor, q, status, level, **options):
        target = Path(output or f"{kind}.{file_format}")
        with context.bind(channel="cli"):
            employee = acting_employee(actor)
            try:
                result = export_table(
                    employee,
                    kind,
                    CustomerFilter(q=q, status=status, level=level),
                    file_format,
                    progress=stderr_progress(_("rows")),
                )
            except GonghaoError as error:
                raise CommandError(str(error.message))
        sys.stderr.write("\n")
        if str(target) == "-":
            sys.stdout.buffer.write(result.content())
            return
        target.write_bytes(result.content())
        self.stderr.write(
            _("exported %(n)s %(kind)s to %(file)s")
            % {"n": len(result.rows), "kind": kind, "file": target}
        )
