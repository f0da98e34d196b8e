"""gonghao import customers|contacts|employees FILE [--as 工号] [--commit | --dry-run]"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gonghao.core import context
from gonghao.core.errors import GonghaoError
from gonghao.transfer import services
from gonghao.transfer.errors import presented
from gonghao.transfer.models import ImportKind, ImportStatus

from ._acting import acting_employee, stderr_progress


class Command(BaseCommand):
    help = (
        "Check an .xlsx or .csv file and, with --commit, import every row or none. "
        "Problems are listed by row; the import is recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="an .xlsx or .csv file (UTF-8 or GBK)")
        parser.add_argument("--as", dest="actor", help="the acting employee's 工号")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--commit", action="store_true", help="import if there is no problem")
        mode.add_argument("--dry-run", action="store_true", help="only check (the default)")

    def handle(self, *args, kind, file, actor, commit, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(f)s") % {"f": file})
        if path.stat().st_size > settings.GONGHAO_IMPORT_MAX_BYTES:
            from gonghao.transfer.readers import read_limit_error

            raise CommandError(str(read_limit_error().message))
        with context.bind(channel="cli"):
            employee = acting_employee(actor)
            try:
                batch = services.import_file(
                    actor=employee,
                    kind=kind,
                    file_name=path.name,
                    content=path.read_bytes(),
                    commit=commit and not dry_run,
                    progress=stderr_progress(_("rows")),
                )
            except GonghaoError as error:
                sys.stderr.write("\n")
                raise CommandError(str(error.message))
        sys.stderr.write("\n")
        for problem in presented(batch.errors):
            self.stderr.write(
                _("row %(row)s, %(column)s: %(message)s")
                % {
                    "row": problem["row"],
                    "column": problem["column"],
                    "message": problem["message"],
                }
            )
        if batch.status == ImportStatus.COMMITTED:
            self.stdout.write(
                _("imported %(n)s %(kind)s (batch %(id)s)")
                % {"n": batch.created_count, "kind": kind, "id": batch.pk}
            )
            return
        if batch.errors:
            raise CommandError(
                _("%(n)s problems in %(rows)s rows; nothing was imported (batch %(id)s)")
                % {"n": len(batch.errors), "rows": batch.total, "id": batch.pk}
            )
        self.stdout.write(
            _("%(n)s rows are valid; run again with --commit to import them (batch %(id)s)")
            % {"n": batch.valid, "id": batch.pk}
        )
