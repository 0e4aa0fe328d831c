"""Country profiles and pre-departure pages in real Chromium: both languages, print, axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    ADMIN,
    SCREENSHOTS,
    LiveServer,
    assert_no_sideways_scroll,
    check_accessibility,
    log_in,
)

pytestmark = pytest.mark.browser


def test_country_profile_page(page: Page) -> None:
    """/countries/TR shows Türkiye's goods, GSI figures and tier chart, and passes axe."""
    page.goto("/countries/TR")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Türkiye")
    expect(
        page.get_by_role("img", name="TIP Report tier of Türkiye by report year")
    ).to_be_visible()
    expect(page.get_by_role("table", name="Goods produced in Türkiye")).to_contain_text("Hazelnuts")
    check_accessibility(page, "country-profile-tr")


def test_country_index_and_search(page: Page) -> None:
    """The country list is public; searching a name in Cyrillic opens the right profile."""
    page.goto("/countries")
    check_accessibility(page, "countries")
    page.get_by_label("Country name or code, in any language").fill("Україна")
    page.get_by_role("button", name="Show profile").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ukraine")


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("en", "Rights you keep everywhere"), ("es", "Derechos que conservas en cualquier país")],
)
def test_predeparture_page_renders_prints_and_passes_axe(
    page: Page, lang: str, heading: str
) -> None:
    """The pre-departure page renders in each language, passes axe, and prints to PDF."""
    page.goto(f"/countries/MY/pre-departure?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    check_accessibility(page, f"pre-departure-my-{lang}")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS.parent / f"pre-departure-my-{lang}-printed.pdf"
    out.write_bytes(pdf)
    assert out.stat().st_size > 10_000


def test_predeparture_on_a_phone(phone_page: Page) -> None:
    """The pre-departure page reflows on a phone without sideways scrolling."""
    phone_page.goto("/countries/MY/pre-departure?lang=es")
    assert_no_sideways_scroll(phone_page)
    check_accessibility(phone_page, "pre-departure-my-es-phone")


def test_staff_edit_contacts_then_public_sees_them(page: Page, live_server: LiveServer) -> None:
    """An administrator adds a consulate for a destination; the public page lists it."""
    log_in(page, ADMIN)
    page.goto("/countries/MY/contacts")
    check_accessibility(page, "destination-contacts")
    page.get_by_label("Kind").select_option("embassy")
    page.get_by_label("Name").fill("Consular section, Kuala Lumpur")
    page.get_by_label("Phone").fill("+60 3 0000 0001")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_text("Consular section, Kuala Lumpur")).to_be_visible()
    page.goto("/countries/MY/pre-departure?lang=es")
    expect(page.get_by_text("Embajada o consulado: Consular section, Kuala Lumpur")).to_be_visible()
