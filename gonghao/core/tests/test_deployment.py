"""Deployment checks: Django's `check --deploy` is clean with the production environment.

The check runs in a subprocess with a fresh environment (no test-run overrides), as an operator's
`gonghao check --deploy` would. A second run with a known-bad setting proves the check bites.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "GONGHAO_VAR_DIR": str(tmp_path / "var"),
        "GONGHAO_SECRET_KEY": secrets.token_urlsafe(64),
        "GONGHAO_ALLOWED_HOSTS": "crm.example.cn",
        "DJANGO_SETTINGS_MODULE": "gonghao.settings",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env | overrides


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_fails_on_an_insecure_setting(tmp_path):
    result = check_deploy(production_env(tmp_path, GONGHAO_SSL_REDIRECT="0"))
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr
