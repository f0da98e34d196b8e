"""gonghao bootstrap: on an empty database, create the first administrator once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from gonghao.accounts.bootstrap import create_administrator
from gonghao.accounts.models import Employee
from gonghao.core import context


class Command(BaseCommand):
    help = (
        "Create the first system administrator if no employee exists yet, and print how to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default="系统管理员")

    def handle(self, *args, name: str, **options):
        if Employee.objects.exists():
            self.stdout.write("Employees exist already; nothing to bootstrap.")
            return
        with context.bind(channel="cli"):
            employee, password = create_administrator(name=name, role="system_admin")
        bar = "=" * 64
        self.stdout.write(
            "\n".join(
                [
                    bar,
                    "First administrator created / 已创建首位系统管理员",
                    f"  工号 (employee ID): {employee.employee_id}",
                    f"  One-time password / 一次性密码: {password}",
                    "  Log in at http://127.0.0.1:8000/ and choose a new password.",
                    "  登录后须立即修改密码。This password is shown only once.",
                    "Separated duties (等保2.0): roles are granted by a security administrator",
                    "and the audit log is read by an auditor. Create them with:",
                    "  gonghao createadmin --name 安全管理员 --role security_admin",
                    "  gonghao createadmin --name 审计员 --role auditor",
                    bar,
                ]
            )
        )
