"""A process that writes audited business rows until it is killed: the crash-safety suite's victim.

Run as `python -m gonghao.testing.crash_writer <actor 工号>` with DATABASE_URL pointing at the
database under test. Each loop creates a customer through the real service and allocates a 工号,
both audited, and prints a line after each commit so the test knows it is writing.
"""

from __future__ import annotations

import os
import sys


def main(actor_employee_id: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghao.settings")
    import django

    django.setup()
    from gonghao.accounts.models import Employee
    from gonghao.accounts.services import allocate_employee_id
    from gonghao.crm.services import create_customer

    actor = Employee.objects.get(employee_id=actor_employee_id)
    pid = os.getpid()
    n = 0
    while True:
        n += 1
        create_customer(
            actor=actor,
            data={"name": f"崩溃测试{pid}-{n}", "phone": f"+86139{pid % 10000:04d}{n % 10000:04d}"},
        )
        allocate_employee_id(actor=actor, purpose="crash test")
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
