"""Headless Chromium for the dashboard's page tests: Debian's /usr/bin/chromium driven by Playwright
(no browser download). Modules that use the `browser` and `page` fixtures call `require_browser()`
first: without Playwright or Chromium they skip, saying which is missing.

Set DASHBOARD_SCREENSHOTS=docs/images to refresh the screenshots the README shows.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 1000}


def require_browser():
    """The Playwright sync API; skips the calling module when it or Chromium is missing."""
    api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install "
                                                            "playwright; the dev extra)")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
    return api


@pytest.fixture(scope="session")
def browser():
    api = require_browser()
    with api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A page at VIEWPORT that records dialogs and script errors (page.dialogs, page.errors)."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.dialogs = []  # type: ignore[attr-defined]
    opened.errors = []  # type: ignore[attr-defined]
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()


def check_screenshot(png: bytes, width: int, min_height: int) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.width == width and image.height >= min_height
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200  # charts, chips, text: not a blank page


def save(png: bytes, name: str) -> None:
    folder = os.environ.get("DASHBOARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(png)


def horizontal_overflow(page) -> int:
    """How many px the page is wider than its window (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript expression until it is true. page.wait_for_function polls by evaluating a
    string inside the page, which the dashboard's Content-Security-Policy (no 'unsafe-eval') refuses."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)
