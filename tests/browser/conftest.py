"""The console in a real browser: Debian's headless Chromium, driven by Selenium through Debian's
chromedriver, against the whole stack (workers, writer, ingest, api as processes on the real
Kafka and PostgreSQL), seeded by `phoneunify demo`'s own code path.

One stack per test module (starting it and running the demo's journeys is the slow part); one
fresh browser per test (its own profile, so no cookie leaks between tests). Every page a test
visits is saved as a PNG in .local/test-output/screenshots/; a test that fails also saves what
the browser showed at that moment as FAILED-<test>.png, and nothing is deleted afterwards.
`make test` installs the browser (deploy/browser.sh); the tests fail, not skip, without it.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from cli.demo import ApiClient, run_demo
from cli.simulate import ProviderSimulator
from phoneunify.credentials import plain_token
from phoneunify.kafka_admin import ensure_topics
from phoneunify.settings import Settings
from tests.conftest import create_database, drop_database, make_settings
from tests.e2e.conftest import start_processes
from tests.harness import ROOT, Process, wait_for, with_ports

CHROMIUM = os.environ.get("PHONEUNIFY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PHONEUNIFY_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = ROOT / ".local" / "test-output" / "screenshots"
# Flags that let Chromium run headless as root in this sandbox; without the background-networking
# ones it tries to reach Google's services, and this machine's closed network refuses them.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1360,1000",
)
WAIT_S = 90.0

pytestmark = pytest.mark.infra


@dataclass
class ConsoleStack:
    settings: Settings
    processes: dict[str, Process]
    sim: ProviderSimulator
    demo_output: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}/console"

    @property
    def token(self) -> str:
        return next(token for entry in self.settings.api_tokens if (token := plain_token(entry)))

    def wait_for_message(self, phone: str, text: str) -> None:
        """Until the message is on the timeline of the phone's customer: a test that needs one
        message resolved before the next (messages of different channels race) waits for it."""
        api = ApiClient(self.settings)

        def arrived() -> bool:
            body = api.timeline_for_phone(phone)
            return body is not None and any(c.get("content") == text for c in body["conversations"])

        wait_for(arrived, WAIT_S, 0.2, f"{text!r} on the timeline of {phone}")


@pytest.fixture(scope="module")
def console_stack() -> Iterator[ConsoleStack]:
    """The stack with the design document's two journeys already sent, the way `make demo` does
    (its simulator plays the Graph API's profile endpoints for the profile fetcher meanwhile)."""
    unique = uuid.uuid4().hex[:10]
    name = f"pu_test_{unique}"
    url = create_database(name)
    try:
        settings = with_ports(make_settings(url, unique))
        ensure_topics(settings)
        processes = start_processes(settings, ("workers", "writer", "ingest", "api", "profiles"))
        try:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                # A fresh stack on a busy machine can take a while to pass the first messages.
                assert run_demo(settings, timeout_s=180) == 0
            yield ConsoleStack(settings, processes, ProviderSimulator(settings), printed.getvalue())
        finally:
            for process in processes.values():
                process.stop()
    finally:
        drop_database(name)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, so the browser fixture knows a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class Browser:
    """A Chromium window with the few verbs the tests need, each waiting with a deadline."""

    def __init__(self, driver: WebDriver, stack: ConsoleStack, test: str) -> None:
        self.driver = driver
        self.stack = stack
        self.test = test

    def open(self, path: str) -> None:
        self.driver.get(self.stack.base + path)

    def find(self, css: str) -> WebElement:
        return self.wait_for(lambda: _first(self.driver, css), f"an element {css!r}")

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def click(self, css: str) -> None:
        self.find(css).click()

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def wait_for(self, check: Any, what: str, timeout: float = WAIT_S) -> Any:
        # An element read while the page navigates goes stale: that is "not yet", not a failure.
        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.2,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(lambda _: check(), message=f"waited {timeout:.0f}s for {what} on {self.driver.current_url}")

    def wait_text(self, text: str, timeout: float = WAIT_S) -> None:
        self.wait_for(lambda: text in self.text(), f"the text {text!r}", timeout)

    def log_in(self, token: str | None = None) -> None:
        """Log in and wait for the page after it (a next step must not race the redirect)."""
        self.open("/login")
        self.find("input[name=token]").send_keys(token or self.stack.token)
        self.click("button[type=submit]#login")
        self.wait_for(lambda: self.all("#admin-name"), "the page after logging in")

    def search(self, query: str) -> None:
        """Type the query in the search box, submit, and wait for that query's results page."""
        self.open("/")
        box = self.find("form.search-big input[name=q]")
        box.clear()
        box.send_keys(query)
        self.click("#search")
        expected = "q=" + quote_plus(query)
        self.wait_for(lambda: expected in self.driver.current_url, f"the results of {query!r}")

    def screenshot(self, page: str) -> Path:
        """Save the whole page, beyond the window's height too, as <test>-<page>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_slug(self.test)}-{page}.png"
        path.write_bytes(full_page_png(self.driver))
        return path

    def back(self) -> None:
        """On a decision's page: follow its Back link and wait to be off the page."""
        self.click("#back")
        self.wait_for(lambda: "/console/commands/" not in self.driver.current_url, "the page before")

    def applied(self) -> None:
        """On a decision's page: wait until the resolver applied it (the page updates itself)."""
        self.wait_for(
            lambda: "Applied by the resolver." in self.find("#command-state").text, "the decision to apply"
        )


def full_page_png(driver: WebDriver) -> bytes:
    """Chromium's own full-page capture (DevTools), up to a 6,000-pixel-high page."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]  # type: ignore[attr-defined]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
    shot = driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def _first(driver: WebDriver, css: str) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80]


@pytest.fixture
def browser(console_stack: ConsoleStack, request: pytest.FixtureRequest) -> Iterator[Browser]:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail(f"no {CHROMIUM} or {CHROMEDRIVER}: run `make browser` (Debian packages)")
    profile = tempfile.mkdtemp(prefix="pu-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    window = Browser(driver, console_stack, request.node.name)
    try:
        yield window
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"FAILED-{_slug(request.node.name)}.png").write_bytes(full_page_png(driver))
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
