"""The command line: createadmin, bootstrap, serve, the `gonghao` console script."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from gonghao import cli
from gonghao.access.services import roles_of
from gonghao.accounts.employee_ids import is_valid
from gonghao.accounts.models import Employee, EmployeeIdRecord
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.testing.kit import PASSWORD, make_employee


@pytest.fixture(autouse=True)
def english():
    """Commands speak the active language; these assertions read the English text."""
    from django.utils import translation

    with translation.override("en"):
        yield


STRONG = "Quiet-Harbour-Lantern-7302"


def run(*args, **options) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue().splitlines()


def counts() -> tuple[int, int, int]:
    return Employee.objects.count(), EmployeeIdRecord.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text(STRONG + "\n", encoding="utf-8")
    return path


# --- createadmin -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_createadmin_with_a_password_file(password_file):
    lines = run("createadmin", name="管理员甲", password_file=password_file)

    employee_id = lines[-1]
    assert is_valid(employee_id)
    assert STRONG not in "\n".join(lines)
    admin = Employee.objects.get(employee_id=employee_id)
    assert admin.name == "管理员甲"
    assert admin.is_active
    assert admin.must_change_password is False
    assert admin.check_password(STRONG)
    assert [role.code for role in roles_of(admin)] == ["system_admin"]

    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.action for e in events][:2] == ["employee_id.allocate", "employee.create"]
    assert {e.channel for e in events} == {"cli"}
    assert {e.actor_kind for e in events} == {"system"}
    assert verify_chain().ok


@pytest.mark.django_db
def test_createadmin_reads_only_the_first_line_of_a_path_given_as_text(tmp_path):
    path = tmp_path / "pw"
    path.write_text(f"{STRONG}\nsecond line ignored\n", encoding="utf-8")
    employee_id = run("createadmin", name="管理员乙", password_file=str(path))[-1]
    assert Employee.objects.get(employee_id=employee_id).check_password(STRONG)


@pytest.mark.django_db
def test_createadmin_reads_the_password_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(STRONG + "\n"))
    employee_id = run("createadmin", name="管理员丙", password_file=Path("-"))[-1]
    admin = Employee.objects.get(employee_id=employee_id)
    assert admin.check_password(STRONG)
    assert admin.must_change_password is False


@pytest.mark.django_db
def test_createadmin_without_a_password_prints_a_one_time_password():
    lines = run("createadmin", name="管理员丁")
    employee_id = lines[-1]
    admin = Employee.objects.get(employee_id=employee_id)
    assert admin.must_change_password is True
    assert admin.is_active
    password_lines = [line for line in lines[:-1] if "One-time password" in line]
    assert len(password_lines) == 1
    one_time = password_lines[0].rsplit(" ", 1)[-1]
    assert len(one_time) >= 12
    assert admin.check_password(one_time)
    assert [role.code for role in roles_of(admin)] == ["system_admin"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "security_admin"])
def test_createadmin_with_another_role(password_file, role):
    employee_id = run("createadmin", name="专员", password_file=password_file, role=role)[-1]
    admin = Employee.objects.get(employee_id=employee_id)
    assert [r.code for r in roles_of(admin)] == [role]


@pytest.mark.django_db
def test_createadmin_refuses_an_unknown_role_on_the_command_line(password_file):
    before = counts()
    with pytest.raises(CommandError):
        run("createadmin", "--name", "X", "--role", "superuser")
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("content", ["short\n", "\n", "", "password1234\n"])
def test_createadmin_refuses_a_weak_password_and_creates_nothing(tmp_path, content):
    path = tmp_path / "weak.txt"
    path.write_text(content, encoding="utf-8")
    before = counts()
    with pytest.raises(CommandError) as caught:
        run("createadmin", name="弱密码", password_file=path)
    assert "password" in str(caught.value).lower()
    assert counts() == before


@pytest.mark.django_db
def test_createadmin_refuses_an_empty_name_and_a_missing_file(tmp_path, password_file):
    before = counts()
    with pytest.raises(CommandError):
        run("createadmin", name="   ", password_file=password_file)
    with pytest.raises(CommandError) as caught:
        run("createadmin", name="无文件", password_file=tmp_path / "missing.txt")
    assert "password file" in str(caught.value)
    assert counts() == before


# --- bootstrap ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bootstrap_creates_the_first_administrator_once():
    output = "\n".join(run("bootstrap"))
    admin = Employee.objects.get()
    assert admin.employee_id in output
    assert admin.name == "系统管理员"
    assert admin.must_change_password is True
    assert [r.code for r in roles_of(admin)] == ["system_admin"]
    password_line = next(line for line in output.splitlines() if "One-time password" in line)
    one_time = password_line.rsplit(" ", 1)[-1]
    assert admin.check_password(one_time)

    before = counts()
    second = "\n".join(run("bootstrap"))
    assert "nothing to bootstrap" in second
    assert one_time not in second
    assert counts() == before


@pytest.mark.django_db
def test_bootstrap_does_nothing_when_employees_exist():
    make_employee("已有员工")
    before = counts()
    assert "nothing to bootstrap" in "\n".join(run("bootstrap", name="Other"))
    assert counts() == before


# --- serve -------------------------------------------------------------------------------------


def test_serve_collects_static_files_then_execs_gunicorn(monkeypatch):
    from gonghao.core.management.commands import serve

    called: list[tuple] = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: called.append(("call", a, k)))
    monkeypatch.setattr(serve.os, "execv", lambda path, argv: called.append(("exec", path, argv)))
    monkeypatch.setenv("GONGHAO_FORWARDED_ALLOW_IPS", "10.0.0.1")

    lines = run("serve", host="0.0.0.0", port=8123, workers=3)

    assert called[0][0] == "call" and called[0][1] == ("collectstatic",)
    assert called[0][2]["interactive"] is False
    kind, path, argv = called[1]
    assert kind == "exec"
    assert argv[0] == path
    assert "gonghao.wsgi:application" in argv
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--forwarded-allow-ips") + 1] == "10.0.0.1"
    assert "http://0.0.0.0:8123/" in lines[-1]


# --- the console script ------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["-h"], []])
def test_cli_prints_usage(capsys, argv):
    cli.main(argv)
    out = capsys.readouterr().out
    assert out.startswith("usage: gonghao")
    for command in ("serve", "migrate", "createadmin", "bootstrap", "audit verify"):
        assert command in out


def test_cli_passes_other_commands_to_django(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: calls.append(argv)
    )
    cli.main(["audit", "verify"])
    cli.main(["migrate", "--noinput"])
    assert calls[0] == ["gonghao", "audit", "verify"]
    assert calls[1] == ["gonghao", "migrate", "--noinput"]
    assert calls[2][:2] == ["gonghao", "createcachetable"]


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="runs once, on the SQLite pass",
)
def test_console_script_end_to_end(tmp_path):
    script = Path(sys.executable).with_name("gonghao")
    assert script.exists(), script
    database = tmp_path / "x.sqlite3"
    (tmp_path / "pw").write_text(PASSWORD + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "GONGHAO_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "gonghao.settings",
    }
    env.pop("GONGHAO_CACHE_URL", None)

    def gonghao(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(script), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    migrated = gonghao("migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == ""
    assert database.exists()

    created = gonghao("createadmin", "--name", "X", "--password-file", str(tmp_path / "pw"))
    assert created.returncode == 0, created.stderr
    employee_id = created.stdout.strip().splitlines()[-1]
    assert is_valid(employee_id)

    verified = gonghao("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit chain OK" in verified.stdout

    (tmp_path / "weak").write_text("weak\n", encoding="utf-8")
    refused = gonghao("createadmin", "--name", "Y", "--password-file", str(tmp_path / "weak"))
    assert refused.returncode != 0
    assert "password" in refused.stderr.lower()
    # The command line speaks the shell's language.
    env["LANG"] = "zh_CN.UTF-8"
    refused = gonghao("createadmin", "--name", "Y", "--password-file", str(tmp_path / "weak"))
    assert "密码" in refused.stderr
