"""The procurement register in real Chromium: charts, filter, one process explained, axe."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.screening import screen
from tipaudit.services.procurement import ProcurementRuns

from .conftest import ADMIN, LiveServer, assert_no_sideways_scroll, check_accessibility, log_in

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "demo" / "ocds"


@pytest.fixture(scope="module")
def demo_run(live_server: LiveServer) -> str:
    runs = ProcurementRuns(live_server.services.settings)
    existing = runs.list()
    if existing:
        return existing[0].id
    run = screen(
        [DEMO],
        folder=runs.new_folder(),
        refdata=live_server.services.refdata,
        classifier=Classifier.load(),
    )
    return run.folder.name


def test_register_page(page: Page, demo_run: str) -> None:
    """The register shows level counts and charts, filters by level, and passes axe."""
    log_in(page, ADMIN)
    page.goto("/procurement")
    expect(page.get_by_role("heading", name="Forced-labour risk register")).to_be_visible()
    expect(
        page.get_by_role("img", name="High- and medium-risk processes by industry")
    ).to_be_visible()
    check_accessibility(page, "procurement-register")
    page.get_by_label("Risk level", exact=True).select_option("high")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".level-tag.level-low")).to_have_count(0)


def test_process_explanation(page: Page, demo_run: str) -> None:
    """Opening a process shows why, what to do and what could not be judged."""
    log_in(page, ADMIN)
    page.goto(f"/procurement/runs/{demo_run}?level=high")
    page.get_by_role("link", name="ocds-fictional-uniforms-tr").click()
    expect(page.get_by_role("heading", name="Why")).to_be_visible()
    expect(page.get_by_text("Cotton is bought from a supplier in Türkiye")).to_be_visible()
    expect(page.get_by_role("heading", name="What to do")).to_be_visible()
    check_accessibility(page, "procurement-process")


def test_register_on_a_phone(phone_page: Page, demo_run: str) -> None:
    """The register reflows on a phone."""
    log_in(phone_page, ADMIN)
    phone_page.goto("/procurement")
    assert_no_sideways_scroll(phone_page)


def test_suppliers_page(page: Page, demo_run: str) -> None:
    """Every supplier across its contracts, with its highest level, passes axe."""
    log_in(page, ADMIN)
    page.goto(f"/procurement/runs/{demo_run}")
    page.get_by_role("link", name="All suppliers across their contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suppliers across their contracts")
    check_accessibility(page, "procurement-suppliers")
