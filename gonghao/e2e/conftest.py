"""Browser journeys: Playwright driving Debian's Chromium against a live test server.

Chromium comes from the distribution (`make browser` installs it; Playwright's own browser
download does not work on our build machines). Without it the journeys are skipped on a
developer's machine and fail under CI, where `.ci/run` installs it first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls the test makes
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GONGHAO_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = Path(settings.VAR_DIR) / "test-artifacts" / "browser"
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture(params=sorted(LOCALES))
def language(request) -> str:
    return request.param


@dataclass
class Actor:
    """One person at their own browser (own cookies); screenshots numbered across the journey."""

    who: str
    page: object
    base_url: str
    shots: Path
    language: str
    counter: list[int]

    def go(self, path: str):
        """Load a page; returns Playwright's response (its `.status` tells refusals apart)."""
        return self.page.goto(self.base_url + path)

    def shot(self, step: str) -> None:
        self.counter[0] += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9-]+", "-", f"{self.who}-{step}".lower())
        path = self.shots / f"{self.counter[0]:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def submit(self, selector: str = "main form button[type=submit]") -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def log_in(self, employee_id: str, password: str) -> None:
        self.go("/accounts/login/")
        self.page.fill("#id_login", employee_id)
        self.page.fill("#id_password", password)
        self.shot("login")
        self.submit("form button[type=submit]")

    def confirm_password_if_asked(self, password: str) -> None:
        """Step-up: a sensitive page may ask for the password again (10 minutes after login)."""
        if "/accounts/reauthenticate/" in self.page.url:
            self.shot("confirm-password")
            self.page.fill("input[name=password]", password)
            self.submit("main form button[type=submit]")

    def assert_language(self) -> None:
        assert self.page.locator("html").get_attribute("lang") == self.language


@pytest.fixture
def browse(chromium, live_server, language, request) -> Iterator:
    """`browse("who")` opens a fresh browser context (own cookies) in the journey's language."""
    from django.core.cache import cache

    # Rate limits and lockouts live in the cache; one journey's must not reach the next.
    cache.clear()
    contexts = []
    shots = ARTEFACTS / language / request.node.originalname
    counter = [0]

    def open_actor(who: str) -> Actor:
        context = chromium.new_context(
            locale=LOCALES[language], viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Actor(who, context.new_page(), live_server.url, shots, language, counter)

    yield open_actor
    for context in contexts:
        context.close()
