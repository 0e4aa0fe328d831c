"""The public statistics page in real Chromium: tables, chart, CSV link, phone layout, axe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.reports.test_statistics_web import _cases
from tipaudit.web.routers.transparency import ledger_path

from .conftest import LiveServer, assert_no_sideways_scroll, check_accessibility

pytestmark = pytest.mark.browser


@pytest.fixture
def with_cases(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forty reports in 2025-Q1 behind the live server; the ledger is removed afterwards."""
    monkeypatch.setattr(live_server.services.reports, "case_summaries", _cases)
    try:
        yield
    finally:
        ledger_path(live_server.services).unlink(missing_ok=True)


def test_transparency_page(page: Page, with_cases: None) -> None:
    """Public, no log-in: tables with captions, hidden small counts, the chart, and axe."""
    page.goto("/transparency")
    expect(page.get_by_role("heading", level=1)).to_contain_text("what we received")
    table = page.get_by_role("table", name="Reports received, by triage category, 2025-Q1")
    expect(table).to_contain_text("hidden")
    expect(table).not_to_contain_text("36")
    actions = page.get_by_role("table", name="Actions decided, 2025-Q1")
    expect(actions).to_contain_text("30")
    expect(page.get_by_role("img", name="Reports received per quarter")).to_be_visible()
    expect(page.get_by_role("link", name="Download all figures as CSV")).to_be_visible()
    check_accessibility(page, "transparency")


def test_transparency_csv_download(page: Page, with_cases: None) -> None:
    """The CSV link downloads a file (no JavaScript involved)."""
    page.goto("/transparency")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all figures as CSV").click()
    assert download.value.suggested_filename == "tipaudit-report-statistics.csv"


def test_transparency_page_on_a_phone(phone_page: Page, with_cases: None) -> None:
    """No sideways scrolling on a 390-pixel-wide phone."""
    phone_page.goto("/transparency")
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_sideways_scroll(phone_page)
    check_accessibility(phone_page, "transparency-phone")
