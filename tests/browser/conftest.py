from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]


# Module scope: Playwright's sync API keeps an event loop running in the test thread while
# it is open, which breaks Django's sync test client for any test that runs meanwhile.
@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's Chromium; nothing here may download a browser.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_violations = []
    page.on("console", lambda msg: page.csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Screenshots are kept (var/screenshots by default) so a person can look at them."""
    folder = Path(os.environ.get("SHOPKEEP_SCREENSHOT_DIR", "var/screenshots")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
