"""Fixtures of the messaging tests: a private outbox directory, outbox backends."""

from __future__ import annotations

import pytest

from . import support


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    """Every test writes into its own outbox and starts from the default backends."""
    directory = tmp_path / "outbox"
    settings.GONGHAO_OUTBOX_DIR = directory
    settings.GONGHAO_EMAIL_BACKEND = "outbox"
    settings.GONGHAO_SMS_BACKEND = "outbox"
    settings.GONGHAO_EMAIL_FROM = "crm@example.cn"
    support.reset()
    return directory


def outbox_files(directory) -> list:
    return sorted(directory.glob("*.txt")) if directory.exists() else []
