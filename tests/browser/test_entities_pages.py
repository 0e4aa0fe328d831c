"""Entities & vetting in real Chromium: every page passes axe, and a blocked case is overridden
by a second officer through the forms (no JavaScript involved)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tipaudit.core.roles import Role
from tipaudit.errors import ValidationError
from tipaudit.screening import Query

from .conftest import (
    ADMIN,
    PASSWORD,
    LiveServer,
    assert_no_sideways_scroll,
    check_accessibility,
    log_in,
    save_screenshot,
)

pytestmark = pytest.mark.browser

HEADER = "id,name,aliases,schema,country,identifiers,list,reason,source_url,start_date,end_date\n"
OFFICER = "vetting-vera"
REASON = "checked against the registry extract"


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A fictional list, a credible allegation, a screened case, saved matches, support."""
    services = live_server.services
    try:
        officer = services.accounts.create_user(
            OFFICER, PASSWORD, roles={Role.VETTING_OFFICER}, display_name="Vera Vetting"
        )
    except ValidationError:
        officer = services.accounts.get_user(OFFICER)
    admin = services.accounts.get_user(ADMIN)
    path = tmp_path_factory.mktemp("lists") / "fictional.csv"
    path.write_text(
        HEADER + "b-1,Example Kestrel Brigade (fictional),,Organization,,,Test,"
        "FICTIONAL: recruitment and use of children in armed conflict,,,\n"
        "b-2,Example Heron Garments Ltd (fictional),,Company,,,Test,FICTIONAL debarment,"
        "https://example.org/fictional,,\n",
        encoding="utf-8",
    )
    if "browser-fictional" not in {i.slug for i in services.watchlists.lists()}:
        services.watchlists.import_list(
            "system:test", "browser-fictional", path, "csv", kind="sample",
            title="Fictional browser-test list",
        )  # fmt: skip
    allegation = services.allegations.create(
        admin,
        name="Example Osprey Battalion (fictional)",
        schema="Organization",
        country=None,
        identifiers=[],
        source_ref="R-2026-0099",
        summary="FICTIONAL test allegation.",
        reason="recorded for the browser test",
    )
    services.allegations.set_status(officer, allegation, "credible", reason=REASON)
    services.vetting.screen_and_save(
        admin,
        [Query("supplier:KEY-1", "Company", ("Example Heron Garments Limited",))],
        ["browser-fictional"],
    )
    services.support.add(
        admin,
        kind="security_assistance",
        recipient="Example Osprey Battalion (fictional)",
        assistance_type="training",
        amount="50000",
        currency="USD",
        reason=REASON,
    )
    case_id = services.vetting.open_case(
        admin,
        purpose="security_assistance",
        name="Example Osprey Battalion",
        lists=["browser-fictional"],
    )
    services.vetting.add_subject(
        admin, case_id, role="commander", name="Example Commander Ibis (fictional)"
    )
    services.vetting.screen_case(admin, case_id)
    return case_id


PAGES = [
    ("entities-home", "/entities", "Entities & vetting"),
    ("entities-matches", "/entities/matches", "Matches"),
    ("entities-allegations", "/entities/allegations", "Allegations register"),
    ("entities-support", "/entities/support", "Support register"),
    ("entities-vetting", "/entities/vetting", "Vetting cases"),
    ("entities-alerts", "/entities/alerts?show=all", "Alerts"),
    ("entities-list", "/entities/lists/browser-fictional", "Fictional browser-test list"),
]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES)
def test_entities_pages_pass_axe(
    page: Page, seeded: int, name: str, path: str, heading: str
) -> None:
    log_in(page, ADMIN)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Entities & vetting")).to_be_visible()
    check_accessibility(page, name)


def test_blocked_case_needs_a_second_officer(
    page: Page, seeded: int, live_server: LiveServer
) -> None:
    """The admin asks for an override of the blocked case; they cannot approve it themselves;
    the vetting officer approves it under Approvals; the case shows who overrode it."""
    log_in(page, ADMIN)
    page.goto(f"/entities/vetting/{seeded}")
    expect(page.get_by_text("Approval blocked.")).to_be_visible()
    expect(page.get_by_text("blocks: credible allegation").first).to_be_visible()
    check_accessibility(page, "vetting-case-blocked")
    page.get_by_label("Ask a second officer to approve despite the findings (override)").check()
    page.get_by_label("Reasons (at least 10 characters)").fill(
        "human-rights training only, monitored by the embassy"
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("waits for a second officer under Approvals")).to_be_visible()
    expect(page.get_by_text("you cannot approve your own request")).to_be_visible()
    check_accessibility(page, "vetting-case-waiting")

    page.goto("/approvals")
    expect(page.get_by_text("Waiting for someone else to decide.").first).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    page.goto("/login")
    page.get_by_label("Username").fill(OFFICER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/approvals")
    card = page.get_by_role("article").filter(has_text=f"vetting_case {seeded}")
    card.get_by_label("Your reason (at least 10 characters)").fill("mitigation is adequate")
    card.get_by_role("button", name="Approve").click()
    page.goto(f"/entities/vetting/{seeded}")
    expect(page.locator(".case-status").first).to_have_text("approved")
    expect(page.get_by_text("Approved by override.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"approved by vetting-vera \(request #\d+\)"))
    ).to_be_visible()
    check_accessibility(page, "vetting-case-approved")


def test_match_decision_and_phone_layout(phone_page: Page, seeded: int) -> None:
    """On a phone the matches page does not scroll sideways; a rejection needs a reason."""
    log_in(phone_page, ADMIN)
    phone_page.goto("/entities/matches")
    card = phone_page.get_by_role("article").filter(has_text="supplier:KEY-1")
    card.get_by_text("Why score").click()
    expect(card.get_by_role("rowheader", name="name_similarity")).to_be_visible()
    assert_no_sideways_scroll(phone_page)
    save_screenshot(phone_page, "entities-matches-phone")
    card.get_by_role("textbox").fill("a different firm in another town")
    card.get_by_role("button", name="Reject: not the same").click()
    expect(phone_page.get_by_text("The decision was recorded.")).to_be_visible()
    expect(phone_page.get_by_role("article").filter(has_text="supplier:KEY-1")).to_have_count(0)
