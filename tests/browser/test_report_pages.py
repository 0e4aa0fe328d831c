"""Public reports in real Chromium: the public form in English and Spanish on a phone, the
receipt, and a report moving through every state of the review with its approvals while the
reporter follows it and answers a question with the receipt.

Every page visited is checked with axe-core and saved under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tipaudit.core.roles import Role

from .conftest import (
    PASSWORD,
    TIMEOUT_MS,
    LiveServer,
    assert_no_sideways_scroll,
    check_accessibility,
    log_in,
)

pytestmark = pytest.mark.browser

REPORT_TEXT = (
    "The recruiter took our passports when we arrived at the camp and says we owe "
    "2,000 dollars for the visa before we can leave."
)


@pytest.mark.parametrize(("lang", "heading"), [("en", "Report abuse"), ("es", "Denunciar abusos")])
def test_public_pages_on_a_phone(phone_page: Page, lang: str, heading: str) -> None:
    """The form and the receipt page work on a 390 px phone in both languages, without
    sideways scrolling and without serious accessibility problems."""
    page = phone_page
    page.goto(f"/report/?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_no_sideways_scroll(page)
    check_accessibility(page, f"report-form-{lang}-phone")
    page.goto(f"/report/follow-up?lang={lang}")
    assert_no_sideways_scroll(page)
    check_accessibility(page, f"report-follow-up-{lang}-phone")
    # A form sent with the required text missing comes back with the errors listed.
    page.goto(f"/report/?lang={lang}")
    page.locator("#what").fill("short")
    page.locator("#what").evaluate("e => e.removeAttribute('minlength')")
    page.locator("button.intake-submit").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check_accessibility(page, f"report-form-errors-{lang}-phone")


def _new_reference(live_server: LiveServer, before: set[str]) -> str:
    admin = live_server.services.accounts.get_user("admin")
    now = {row.reference for row in live_server.services.reports.queue(admin)}
    (reference,) = now - before
    return reference


def _step(page: Page, button: str, fields: dict[str, str] | None = None) -> None:
    for selector, value in (fields or {}).items():
        element = page.locator(selector)
        if element.evaluate("e => e.tagName") == "SELECT":
            element.select_option(value)
        else:
            element.fill(value)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()


def _reporter_opens(browser: Browser, live_server: LiveServer, receipt: str, lang: str) -> Page:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    reporter = context.new_page()
    reporter.goto(f"/report/follow-up?lang={lang}")
    reporter.locator("#receipt").fill(receipt)
    reporter.locator("form button[type=submit]").click()
    return reporter


def test_report_goes_through_every_state(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    services = live_server.services
    for name, roles in (
        ("rep-intake", {Role.INTAKE_OFFICER, Role.INVESTIGATOR}),
        ("rep-dm-one", {Role.DECISION_MAKER}),
        ("rep-dm-two", {Role.DECISION_MAKER}),
    ):
        services.accounts.create_user(name, PASSWORD, roles=roles, display_name=name)
    admin = services.accounts.get_user("admin")
    before = {row.reference for row in services.reports.queue(admin)}

    # 1. A worker reports through the public form, in Spanish, and gets a receipt.
    page.goto("/report/?lang=es")
    page.get_by_label("¿Qué pasó?").fill(REPORT_TEXT)
    page.get_by_label("¿En qué país pasó?").select_option("QA")
    page.locator("#subject_0_kind").select_option("recruiter")
    page.locator("#subject_0_name").fill("Agencia Horizonte Azul")
    page.locator("#ind-ILO-07").check()
    page.locator("#ind-TIP-FEES").check()
    page.locator("#share_report").check()
    page.get_by_role("button", name="Enviar denuncia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hemos recibido su denuncia")
    receipt = " ".join(page.locator(".receipt-group").all_inner_texts())
    assert re.fullmatch(r"\d{4} \d{4}( [a-z]{4}){11}", receipt), receipt
    check_accessibility(page, "report-receipt-es")
    reference = _new_reference(live_server, before)

    # 2. The intake officer finds it in the queue and opens it.
    page.context.clear_cookies()
    log_in(page, "rep-intake")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Public reports")
    check_accessibility(page, "report-queue")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text(REPORT_TEXT)).to_be_visible()
    check_accessibility(page, "report-view-received")

    # 3. Acknowledge, triage, ask the reporter a question, open the investigation.
    _step(page, "Acknowledge receipt")
    _step(
        page,
        "Triage",
        {
            "#category-triaged": "tip",
            "#priority-triaged": "high",
            "#reason-triaged": "Named recruiter and specific camp",
        },
    )
    page.locator("#message-text").fill("Which camp block do you live in?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()
    _step(page, "Open investigation")

    # 4. The reporter reads the question with the receipt and answers it.
    reporter = _reporter_opens(browser, live_server, receipt, "es")
    expect(reporter.locator(".status-state")).to_have_text("En investigación")
    expect(reporter.get_by_text("Which camp block do you live in?")).to_be_visible()
    check_accessibility(reporter, "report-status-es-phone")
    reporter.get_by_label("Su mensaje").fill("Block 7, next to the kitchen.")
    reporter.get_by_role("button", name="Enviar").click()
    expect(reporter.get_by_role("status")).to_contain_text("Gracias")
    expect(reporter.get_by_text("Block 7, next to the kitchen.")).to_be_visible()
    reporter.context.close()

    # 5. The investigator sees the answer and records the finding.
    page.reload()
    expect(page.get_by_text("Block 7, next to the kitchen.")).to_be_visible()
    _step(
        page,
        "Record finding",
        {"#finding-finding": "substantiated", "#reason-finding": "Site visit confirmed it"},
    )
    page.context.clear_cookies()

    # 6. A decision-maker proposes a decision; a second one approves it.
    log_in(page, "rep-dm-one")
    page.goto(f"/reports/{reference}")
    _step(
        page,
        "Propose decision",
        {
            "#decision-decision": "contract_termination",
            "#reason-decision": "Documents withheld and fees charged",
        },
    )
    expect(page.get_by_text("Waiting for someone else to decide.")).to_be_visible()
    page.context.clear_cookies()
    log_in(page, "rep-dm-two")
    page.goto(f"/reports/{reference}")
    check_accessibility(page, "report-view-approval")
    page.get_by_label("Your reason (at least 10 characters)").fill("Agree: serious breach")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_text("Contract termination", exact=False).first).to_be_visible()
    page.context.clear_cookies()

    # 7. The intake officer gives feedback and closes the report.
    log_in(page, "rep-intake")
    page.goto(f"/reports/{reference}")
    _step(
        page,
        "Give feedback",
        {"#message-feedback": "We ended the contract and the documents were returned."},
    )
    _step(page, "Close", {"#reason-closed": "Feedback given to the reporter"})
    expect(page.get_by_text("This report is closed.")).to_be_visible()
    check_accessibility(page, "report-view-closed")

    # 8. The reporter sees the outcome.
    reporter = _reporter_opens(browser, live_server, receipt, "en")
    expect(reporter.locator(".status-state")).to_have_text("Closed")
    expect(reporter.get_by_text("We ended the contract")).to_be_visible()
    check_accessibility(reporter, "report-status-en-phone")
    reporter.context.close()

    summary = [s for s in services.reports.case_summaries() if s.decision][-1]
    assert summary.state == "closed"
    assert summary.decision == "contract_termination"
