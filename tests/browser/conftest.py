"""Browser tests of the dashboard (``/_mock/ui``): Playwright for Python driving Debian's Chromium.

Chromium comes from the system (``apt-get install chromium``), never from ``playwright install``. Set
``MOCKSERVER_CHROMIUM`` to use another executable. Without Chromium (or Playwright) the tests skip --
except in CI (``CI=true``), where they fail, so a CI image that lost its browser cannot pass silently.
Screenshots (1280 px wide) are taken in every run; they replace the README's ``docs/screenshots/`` only when
``MOCKSERVER_SCREENSHOTS=1`` is set (a plain test run leaves the working tree as it was).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mockserver.server import ServerThread

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 860


def chromium_path() -> str | None:
    """The Chromium executable: ``MOCKSERVER_CHROMIUM``, else ``chromium`` on the PATH, else Debian's."""
    configured = os.environ.get("MOCKSERVER_CHROMIUM")
    if configured:
        return configured if os.path.exists(configured) else None
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def unavailable(reason: str) -> None:
    """Skip locally; in CI a missing browser is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so the browser tests must run (apt-get install -y chromium)", pytrace=False)
    pytest.skip(f"{reason} (apt-get install -y chromium; in CI this fails instead)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API keeps an event loop running while it is open, which
    would break later tests' ``asyncio.run`` if it stayed open for the session."""
    executable = chromium_path()
    if executable is None:
        configured = os.environ.get("MOCKSERVER_CHROMIUM")
        unavailable(f"MOCKSERVER_CHROMIUM={configured} does not exist" if configured
                    else "Chromium not found (no chromium on the PATH, no /usr/bin/chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    expect.set_options(timeout=10_000)  # a busy CI machine: views poll every 1.5 s
    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # root in containers
        launched = playwright.chromium.launch(executable_path=executable, args=args)
        yield launched
        launched.close()


@dataclass
class Dashboard:
    """A page on the running mock's dashboard, with the console errors it logged."""

    page: Any
    root: str  # the Skytells port's root, e.g. http://127.0.0.1:PORT
    problems: list[str] = field(default_factory=list)

    def open(self, view: str) -> Any:
        """Go to a view (``traffic``, ``jobs``, ``time``, ``accounts``, ``rules``, ``webhooks``)."""
        self.page.goto(f"{self.root}/_mock/ui#{view}")
        self.page.locator(f"#view-{view}[data-refreshed]").wait_for(state="visible")  # its data has arrived
        return self.page

    def tab(self, view: str) -> Any:
        """Switch views as a user does (the tab link), so the view refreshes at once."""
        self.page.locator(f"#tab-{view}").click()
        self.page.locator(f"#view-{view}").wait_for(state="visible")
        return self.page

    def screenshot(self, name: str, full_page: bool = True) -> bytes:
        """The view as a PNG; saved as ``docs/screenshots/<name>.png`` only with ``MOCKSERVER_SCREENSHOTS=1``."""
        self.page.evaluate("document.getElementById('status').textContent = ''")  # no passing toast
        if not full_page:
            self.page.evaluate("window.scrollTo(0, 0)")
        png = self.page.screenshot(full_page=full_page)
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), "the browser did not render the view"
        if os.environ.get("MOCKSERVER_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"{name}.png").write_bytes(png)
        return png


def serious(message: Any) -> bool:
    """A console error that is a fault of the page (a CSP violation, a script error) -- not the browser's
    note that a control-plane call was answered 4xx, which the tests provoke on purpose."""
    return message.type == "error" and "the server responded with a status of 4" not in message.text


@pytest.fixture
def dashboard(browser: Any, server: ServerThread) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(10_000)
    board = Dashboard(page, server.urls["skytells"].removesuffix("/v1"))
    page.on("console", lambda message: board.problems.append(message.text) if serious(message) else None)
    page.on("pageerror", lambda error: board.problems.append(f"uncaught: {error}"))
    yield board
    context.close()
    assert not board.problems, f"the page logged errors: {board.problems}"
