"""The console in real Chromium: log-in, every page, tokens, roles, no-JS, keyboard and mobile.

Every page visited is checked with axe-core (WCAG 2.0/2.1/2.2 A and AA plus best practice) and
saved as a full-page screenshot under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import (
    ADMIN,
    ADMIN_NAME,
    ANALYST,
    ANALYST_NAME,
    PASSWORD,
    TIMEOUT_MS,
    LiveServer,
    assert_no_sideways_scroll,
    check_accessibility,
    log_in,
)

pytestmark = pytest.mark.browser

SKIP_LINK = "Skip to main content"


def test_admin_logs_in_through_the_form(page: Page, live_server: LiveServer) -> None:
    """An anonymous visitor to / is sent to the log-in form; typing the administrator's
    username and password and clicking "Log in" opens the overview with the full menu."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {ADMIN_NAME}")
    menu = page.get_by_role("navigation", name="Main")
    for label in ("Overview", "Approvals", "Users", "Audit log", "Indicators"):
        expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name=ADMIN_NAME)).to_be_visible()


CONSOLE_PAGES = [
    ("overview", "/", f"Welcome, {ADMIN_NAME}"),
    ("account", "/account", "Your account"),
    ("users", "/users", "Staff accounts"),
    ("approvals", "/approvals", "Approvals"),
    ("approvals-all", "/approvals?show=all", "Approvals"),
    ("audit", "/audit", "Audit log"),
    ("indicators", "/indicators", "Indicators of forced labour and trafficking"),
    ("not-found", "/no-such-page", "Not found"),
]


@pytest.mark.parametrize(
    ("name", "path", "heading"), CONSOLE_PAGES, ids=[name for name, _, _ in CONSOLE_PAGES]
)
def test_console_page_is_accessible(page: Page, name: str, path: str, heading: str) -> None:
    """Each page of the menu and the account page, seen by the administrator, has its heading
    and no serious or critical axe-core violation; so does the 404 page."""
    log_in(page, ADMIN)
    response = page.goto(path)
    assert response is not None
    assert (404 if name == "not-found" else 200) == response.status
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_accessibility(page, name)


def test_login_page_is_accessible(page: Page) -> None:
    """The log-in form, empty and after a failed attempt (with its error message), has no
    serious or critical axe-core violation."""
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff log-in")
    check_accessibility(page, "login")

    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Problem:")
    check_accessibility(page, "login-failed")


def test_anonymous_indicators_and_not_found_are_accessible(page: Page) -> None:
    """Public pages work without logging in: the indicator taxonomy and the 404 page show the
    "Staff log-in" link instead of the menu and pass axe-core."""
    page.goto("/indicators")
    expect(page.get_by_role("link", name="Staff log-in")).to_be_visible()
    check_accessibility(page, "indicators-anonymous")

    response = page.goto("/no-such-page")
    assert response is not None
    assert 404 == response.status
    check_accessibility(page, "not-found-anonymous")


def test_policy_analyst_is_refused_the_users_page(page: Page) -> None:
    """A policy analyst sees no Users, Approvals or Audit entries in the menu, gets 403 with a
    "Not allowed" page on /users, and that page passes axe-core."""
    log_in(page, ANALYST)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {ANALYST_NAME}")
    menu = page.get_by_role("navigation", name="Main")
    for label in ("Users", "Approvals", "Audit log"):
        expect(menu.get_by_role("link", name=label, exact=True)).to_have_count(0)

    response = page.goto("/users")
    assert response is not None
    assert 403 == response.status
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    check_accessibility(page, "forbidden")


def test_api_token_from_the_account_page_calls_the_api(page: Page, live_server: LiveServer) -> None:
    """A token created with the account page's form is shown once on "Token created"; used as
    a Bearer token it authenticates GET /api/me as the administrator. It then appears in the
    account page's token list."""
    log_in(page, ADMIN)
    page.goto("/account")
    page.get_by_label("What it is for").fill("browser test script")
    page.get_by_label("Expires after (days)").fill("7")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Token created")
    field = page.get_by_label(re.compile(r"^Token .browser test script."))
    expect(field).to_have_attribute("readonly", "")
    value = field.input_value()
    assert value.startswith("tpa_"), value
    check_accessibility(page, "token-created")

    with httpx2.Client(base_url=live_server.url, timeout=TIMEOUT_MS / 1000) as api:
        me = api.get("/api/me", headers={"Authorization": f"Bearer {value}"})
        assert 200 == me.status_code, me.text
        assert ADMIN == me.json()["username"]
        assert me.json()["via_token"] is True
        assert 401 == api.get("/api/me").status_code

    page.get_by_role("link", name="Back to your account").click()
    expect(page.get_by_role("cell", name="browser test script", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Revoke token browser test script")).to_be_visible()


def test_second_factor_setup_and_audit_report_are_accessible(page: Page) -> None:
    """Pages reached through buttons pass axe-core too: the two-step set-up with its QR code,
    the user list with a role editor opened, and the audit log after verifying the chain."""
    log_in(page, ADMIN)
    page.goto("/account")
    page.get_by_role("button", name="Set it up").click()
    expect(page.get_by_label("Code from the app")).to_be_visible()
    check_accessibility(page, "account-second-factor-setup")

    page.goto("/users")
    page.locator("summary").first.click()
    expect(page.get_by_role("button", name="Save roles").first).to_be_visible()
    check_accessibility(page, "users-roles-open")

    page.goto("/audit")
    page.get_by_role("button", name="Verify the whole chain now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_role("status")).to_contain_text("Intact.")
    check_accessibility(page, "audit-verified")


def test_pages_work_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    """With JavaScript disabled the administrator still logs in through the form and moves
    between pages with the menu; no page carries a script."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page, ADMIN)
        assert 0 == page.locator("script").count()
        menu = page.get_by_role("navigation", name="Main")
        for label, heading in (
            ("Users", "Staff accounts"),
            ("Approvals", "Approvals"),
            ("Audit log", "Audit log"),
            ("Indicators", "Indicators of forced labour and trafficking"),
            ("Overview", f"Welcome, {ADMIN_NAME}"),
        ):
            menu.get_by_role("link", name=label, exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert 0 == page.locator("script").count()
        page.get_by_role("link", name=ADMIN_NAME).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Staff log-in")
    finally:
        context.close()


@pytest.mark.parametrize("logged_in", [False, True], ids=["login-page", "overview"])
def test_first_tab_focuses_the_skip_link(page: Page, logged_in: bool) -> None:
    """The first Tab on a page focuses a visible "Skip to main content" link; following it
    moves the focus to the main content."""
    if logged_in:
        log_in(page, ADMIN)
        page.goto("/")
    else:
        page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=SKIP_LINK)
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_logout_ends_the_session(page: Page) -> None:
    """Clicking "Log out" returns to the log-in form and ends the session on the server: the
    console and the old session cookie no longer open any page."""
    log_in(page, ADMIN)
    session = next(c for c in page.context.cookies() if c["name"] == "tipaudit_session")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff log-in")

    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
    # Replaying the old session cookie does not help: the server ended that session.
    page.context.add_cookies(
        [
            {
                "name": session["name"],
                "value": session["value"],
                "domain": session["domain"],
                "path": session["path"],
            }
        ]
    )
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_overview_fits_a_phone_screen(phone_page: Page) -> None:
    """On a 390x844 phone screen the overview has no horizontal scroll and passes axe-core."""
    log_in(phone_page, ADMIN)
    check_accessibility(phone_page, "overview-mobile")
    assert_no_sideways_scroll(phone_page)


def test_no_console_page_scrolls_sideways_on_a_phone(phone_page: Page) -> None:
    """On a phone no console page is wider than the screen: wide tables scroll inside their own
    labelled, keyboard-focusable region instead of the whole page."""
    log_in(phone_page, ADMIN)
    for name, path in (
        ("account-mobile", "/account"),
        ("users-mobile", "/users"),
        ("approvals-mobile", "/approvals"),
        ("indicators-mobile", "/indicators"),
        ("audit-mobile", "/audit"),
    ):
        phone_page.goto(path)
        assert_no_sideways_scroll(phone_page)
        check_accessibility(phone_page, name)

    region = phone_page.get_by_role("region", name="Most recent audit events, newest first")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should scroll"
    region.focus()
    phone_page.keyboard.press("ArrowRight")
    expect(region).not_to_have_js_property("scrollLeft", 0)
