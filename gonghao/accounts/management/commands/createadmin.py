"""gonghao createadmin: create an administrator (or auditor / security administrator)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gonghao.accounts.bootstrap import BOOTSTRAP_ROLES, create_administrator
from gonghao.core import context
from gonghao.core.errors import GonghaoError, ValidationFailed


class Command(BaseCommand):
    help = (
        "Create an administrator and print the new 工号 as the last line. With --password-file "
        "the password is read from that file (first line) and no change is forced; without it "
        "a one-time password is printed and must be changed at first login."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the administrator's name")
        parser.add_argument(
            "--password-file", type=Path, help="file whose first line is the password ('-' = stdin)"
        )
        parser.add_argument("--role", choices=BOOTSTRAP_ROLES, default="system_admin")

    def handle(self, *args, name: str, password_file: Path | None, role: str, **options):
        password = None
        if password_file is not None:
            password_file = Path(password_file)  # call_command() passes options untyped
            try:
                if str(password_file) == "-":
                    import sys

                    text = sys.stdin.readline()
                else:
                    text = password_file.read_text(encoding="utf-8")
            except OSError as error:
                raise CommandError(f"cannot read the password file: {error}")
            password = text.splitlines()[0] if text.splitlines() else ""
        with context.bind(channel="cli"):
            try:
                employee, one_time = create_administrator(name=name, role=role, password=password)
            except ValidationFailed as error:
                problems = "; ".join(m for msgs in error.field_errors.values() for m in msgs)
                raise CommandError(f"{error.message} {problems}".strip())
            except GonghaoError as error:
                raise CommandError(str(error.message))
        if one_time:
            self.stdout.write(f"One-time password (change it at first login): {one_time}")
        self.stdout.write(employee.employee_id)
