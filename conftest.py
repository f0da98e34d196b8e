"""Test-run settings: fast local cache, plain HTTP, a file SQLite database (threads share it)."""

from __future__ import annotations

import os
from pathlib import Path


def pytest_configure(config) -> None:
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # whitenoise warns about a missing static root on every request; tests need none.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    _keep_audit_guards_across_flush()
    database = settings.DATABASES["default"]
    # Two runs at once on one machine (two developers, or a run and a benchmark) must not
    # share test databases: name them after the run; xdist adds the worker suffix.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_dir = Path(settings.VAR_DIR) / "test"
        test_dir.mkdir(parents=True, exist_ok=True)
        # Concurrency tests need several connections to one database: a file, not :memory:.
        database.setdefault("TEST", {})["NAME"] = str(test_dir / f"gonghao_test_{run}.sqlite3")
    else:
        database.setdefault("TEST", {})["NAME"] = f"test_gonghao_{run}"


def _keep_audit_guards_across_flush() -> None:
    """Transactional tests empty every table between tests; the audit table refuses that.

    Only the test run lifts the guards, for the flush statement alone, and puts them back.
    """
    from django.db.backends.postgresql.base import DatabaseOperations as PostgresOps
    from django.db.backends.sqlite3.base import DatabaseOperations as SqliteOps

    from gonghao.audit import guards

    for ops_class in (SqliteOps, PostgresOps):
        original = ops_class.sql_flush
        if getattr(original, "_gonghao_wrapped", False):
            continue

        def sql_flush(self, style, tables, *args, _original=original, **kwargs):
            statements = _original(self, style, tables, *args, **kwargs)
            if guards.TABLE not in tables:
                return statements
            vendor = self.connection.vendor
            return [
                *guards.statements(vendor, create=False),
                *statements,
                *guards.statements(vendor, create=True),
            ]

        sql_flush._gonghao_wrapped = True
        ops_class.sql_flush = sql_flush
