"""PostgreSQL connections bind values on the server and prepare repeated statements
(settings.py, docs/performance.md): what the settings build from the environment, and what a
live connection does with it."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from django.db import connection

from gonghao.accounts.models import Employee

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "settings.py"
PG_URL = "postgresql://gonghao@db.internal:5432/gonghao"
KNOBS = ("GONGHAO_DB_SERVER_SIDE_BINDING", "GONGHAO_DB_PREPARE_THRESHOLD")


def database_options(monkeypatch, tmp_path, url: str, **knobs: str) -> dict:
    """OPTIONS of the default database as gonghao/settings.py builds them in this environment."""
    monkeypatch.setenv("GONGHAO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GONGHAO_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in KNOBS:
        monkeypatch.delenv(name, raising=False)
    for name, value in knobs.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["DATABASES"]["default"].get("OPTIONS", {})


def test_postgresql_binds_on_the_server_and_prepares_by_default(monkeypatch, tmp_path):
    options = database_options(monkeypatch, tmp_path, PG_URL)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_the_environment_switches_binding_and_preparing(monkeypatch, tmp_path):
    off = database_options(monkeypatch, tmp_path, PG_URL, GONGHAO_DB_SERVER_SIDE_BINDING="0")
    assert off["server_side_binding"] is False
    # behind a transaction-mode pooler: values bound on the server, nothing prepared
    unprepared = database_options(
        monkeypatch, tmp_path, PG_URL, GONGHAO_DB_PREPARE_THRESHOLD="none"
    )
    assert (unprepared["server_side_binding"], unprepared["prepare_threshold"]) == (True, None)
    eager = database_options(monkeypatch, tmp_path, PG_URL, GONGHAO_DB_PREPARE_THRESHOLD="1")
    assert eager["prepare_threshold"] == 1


def test_options_in_the_url_win_and_are_read_as_booleans(monkeypatch, tmp_path):
    url = f"{PG_URL}?server_side_binding=false&prepare_threshold=2"
    options = database_options(monkeypatch, tmp_path, url, GONGHAO_DB_SERVER_SIDE_BINDING="1")
    # Django tests `is True`: the string "false" must not survive (nor "true" be ignored)
    assert options["server_side_binding"] is False
    assert options["prepare_threshold"] == 2
    on = database_options(monkeypatch, tmp_path, f"{PG_URL}?server_side_binding=true")
    assert on["server_side_binding"] is True


def test_sqlite_gets_no_postgresql_options(monkeypatch, tmp_path):
    options = database_options(monkeypatch, tmp_path, f"sqlite:///{tmp_path}/db.sqlite3")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def _switched_off_here() -> bool:
    binding = os.environ.get("GONGHAO_DB_SERVER_SIDE_BINDING", "").strip().lower()
    threshold = os.environ.get("GONGHAO_DB_PREPARE_THRESHOLD", "5").strip().lower()
    return binding in ("0", "false", "off", "no") or threshold in ("", "none", "off")


def _named(pk: int):
    return Employee.objects.filter(pk=pk).values_list("employee_id", "name")[:1]


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a psycopg connection")
@pytest.mark.skipif(_switched_off_here(), reason="switched off in this environment")
def test_the_connection_prepares_a_statement_run_past_the_threshold():
    from django.db.backends.postgresql.base import ServerBindingCursor

    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, ServerBindingCursor)
        threshold = connection.connection.prepare_threshold
        assert threshold is not None
        assert threshold == connection.settings_dict["OPTIONS"]["prepare_threshold"]
        # the ORM compiles the same text each time; only the value changes
        for pk in range(threshold + 1):
            list(_named(pk))
        sql, params = _named(0).query.sql_with_params()
        assert sql.count("%s") == len(params) == 1
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement = %s",
            [sql.replace("%s", "$1")],
        )
        prepared = [row[0] for row in cursor.fetchall()]
    # one plan kept on the server for every run, whatever the value
    assert len(prepared) == 1, prepared
