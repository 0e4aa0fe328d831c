"""Browser fixtures: the real app behind uvicorn, Debian's Chromium driven by Playwright, axe-core.

The server runs once per session in a background thread on a free local port, on a SQLite
database in a temporary folder, seeded with an administrator (every role) and a policy analyst
(one role). Every test gets a fresh browser context, so no cookies leak between tests.

Chromium is Debian's package (``/usr/bin/chromium``): no browser is ever downloaded by a test
tool. axe-core comes from npm, pinned in ``tests/browser/package-lock.json``, and is injected
through the DevTools protocol, which the console's strict Content-Security-Policy does not block.
"""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from tipaudit.core.roles import Role
from tipaudit.services.container import Services, build_services
from tipaudit.settings import Settings
from tipaudit.web.app import create_app

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PASSWORD = "a long enough passphrase for browser tests"
ADMIN = "admin"
ADMIN_NAME = "Ada Admin"
ANALYST = "analyst"
ANALYST_NAME = "Paula Policy"

AXE_TAGS = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22a",
    "wcag22aa",
    "best-practice",
]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class LiveServer:
    """The running console: its address and the services behind it."""

    url: str
    services: Services


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped while starting")
        if server.started:
            try:
                if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the live server did not answer at {url} within 15 s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The console on a free local port, with an administrator and a policy analyst."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tipaudit.db'}",
        secret_key="browser-test-secret-key-that-is-long-enough-0123456789",
        base_url=url,
    )
    services = build_services(settings)
    services.accounts.create_user(ADMIN, PASSWORD, roles=set(Role), display_name=ADMIN_NAME)
    services.accounts.create_user(
        ANALYST, PASSWORD, roles={Role.POLICY_ANALYST}, display_name=ANALYST_NAME
    )
    app = create_app(settings, services=services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        log_config=None,  # leave the test run's logging configuration alone
        ws="none",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tipaudit-live-server", daemon=True)
    thread.start()
    try:
        _wait_until_up(server, thread, url)
        yield LiveServer(url=url, services=services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()
        assert not thread.is_alive(), "the live server did not stop"


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: `make test` installs it")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with every background network feature off."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), addressed relative to the live server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh context emulating a 390x844 phone (touch, mobile viewport)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_no_sideways_scroll(page: Page, width: int = PHONE["width"]) -> None:
    """The page is no wider than the window, and (on a phone) the browser did not have to
    widen the layout viewport beyond the screen to fit it."""
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url} scrolls sideways: {scroll_width}px"
    assert inner_width == width, f"{page.url} was laid out {inner_width}px wide, not {width}px"


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form: type the username and password, click the button."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot in ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _describe(violation: dict[str, Any]) -> str:
    targets = [
        " ".join(json.dumps(part) if not isinstance(part, str) else part for part in target)
        if isinstance(target, list)
        else str(target)
        for node in violation.get("nodes", [])
        for target in node.get("target", [])
    ]
    return (
        f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"    {violation.get('helpUrl', '')}\n"
        f"    on: {', '.join(targets) or '(page)'}"
    )


def check_accessibility(page: Page, name: str) -> list[dict[str, Any]]:
    """Screenshot the page, run axe-core on it and fail on serious or critical violations.

    Returns every violation (minor and moderate ones included) so a test may look further.
    """
    if not AXE_JS.exists():
        pytest.skip("axe-core is not installed: `make test` runs `npm ci --prefix tests/browser`")
    save_screenshot(page, name)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return {violations: results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target})),
            }))};
        }""",
        AXE_TAGS,
    )
    violations: list[dict[str, Any]] = results["violations"]
    for violation in violations:  # shown with -rA or -s; only serious and critical ones fail
        print(f"axe {name}: {violation['id']} ({violation['impact']})")
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        report = "\n".join(_describe(v) for v in blocking)
        pytest.fail(
            f"axe-core found {len(blocking)} serious or critical accessibility violation(s) "
            f"on {name} ({page.url}):\n{report}",
            pytrace=False,
        )
    return violations
