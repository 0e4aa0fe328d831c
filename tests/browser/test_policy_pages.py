"""Policy review in real Chromium: register, upload two versions, the diff, an assessment
answered and signed off, the report; axe-core on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    ADMIN,
    ANALYST,
    LiveServer,
    assert_no_sideways_scroll,
    check_accessibility,
    log_in,
)

pytestmark = pytest.mark.browser

V1 = """Overseas Recruitment Regulation 2024

Article 1. Recruitment agencies shall be licensed by the Ministry.

Article 2. No worker shall be charged any recruitment fee or related cost; the employer shall
bear all recruitment fees.

Article 3. Employers shall not retain the passports or identity documents of workers.
"""

V2 = """Overseas Recruitment Regulation 2025

Article 1. Recruitment agencies shall be licensed by the Ministry.

Article 3. The employer may retain the passports of workers for safekeeping.
"""


def test_register_upload_diff(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    """A second version that removes a protection shows a new finding on the diff page."""
    log_in(page, ANALYST)
    page.get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", name="Policy register", level=1)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Overseas Recruitment Regulation")
    page.get_by_label("Short name").fill("overseas-recruitment")
    page.get_by_label("Type", exact=True).select_option("recruitment_regulation")
    page.get_by_label("Jurisdiction").fill("Examplestan")
    page.get_by_label("Owner").fill("Ministry of Labour, migration unit")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("added to the register")

    for label, text in (("2024", V1), ("2025 draft", V2)):
        document = tmp_path / f"regulation-{label.replace(' ', '-')}.txt"
        document.write_text(text, encoding="utf-8")
        page.get_by_label("Document").set_input_files(str(document))
        page.get_by_label("Version label").fill(label)
        page.get_by_role("button", name="Add and check").click()
        expect(page.get_by_role("status")).to_contain_text("stored and checked")

    expect(page.get_by_role("img", name="Automatic findings by severity")).to_be_visible()
    check_accessibility(page, "policy-detail")
    page.get_by_role("link", name="See the comparison").click()
    expect(page.get_by_role("heading", name="Compared with version 2024")).to_be_visible()
    new = page.locator("h3#new-h ~ article.policy-finding").first
    expect(new).to_contain_text("new")
    expect(page.locator(".diff-new").first).to_be_visible()
    expect(page.get_by_text("may retain the passports", exact=False).first).to_be_visible()
    check_accessibility(page, "policy-version-diff")

    page.goto("/policies?type=recruitment_regulation")
    expect(page.get_by_role("link", name="Overseas Recruitment Regulation")).to_be_visible()
    check_accessibility(page, "policy-register")


def test_assessment_and_report(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    review = live_server.services.policies
    if "assess-me" not in {p.slug for p in review.list_policies()}:
        review.register(
            "system:test", slug="assess-me", name="Assessed regulation",
            policy_type="recruitment_regulation",
        )  # fmt: skip
        document = tmp_path / "assess.txt"
        document.write_text(V2, encoding="utf-8")
        review.add_version("system:test", "assess-me", document, label="v1")
    log_in(page, ANALYST)
    page.goto("/policies/assess-me")
    page.get_by_label("Rubric").select_option("fair-recruitment")
    page.get_by_label("Reviewer 1 (username)").fill(ANALYST)
    page.get_by_role("button", name="Start the assessment").click()
    expect(page.get_by_role("status")).to_contain_text("opened")
    choices = page.locator("fieldset.answer-choice")
    count = choices.count()
    assert count >= 3
    for index in range(count):
        choice = choices.nth(index)
        choice.get_by_label("Yes", exact=True).check() if index else choice.get_by_label(
            "No", exact=True
        ).check()
    choices.first.get_by_label("Your comment").fill("Article 3 allows passport retention.")
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("status")).to_contain_text("answers were saved")
    check_accessibility(page, "policy-assessment")
    page.get_by_role("button", name="Sign off my answers").click()
    expect(page.get_by_role("status")).to_contain_text("now final")
    expect(page.locator("fieldset.answer-choice")).to_have_count(0)
    page.get_by_role("link", name="Report", exact=True).click()
    expect(
        page.get_by_role("heading", name="Assessment findings and recommendations (1)")
    ).to_be_visible()
    expect(page.get_by_text("Article 3 allows passport retention.")).to_be_visible()
    check_accessibility(page, "policy-report")
    response = page.request.get(page.url + ".pdf")
    assert response.ok
    assert response.body().startswith(b"%PDF-")


def test_register_on_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    log_in(phone_page, ANALYST)
    phone_page.goto("/policies")
    expect(phone_page.get_by_role("heading", name="Policy register", level=1)).to_be_visible()
    assert_no_sideways_scroll(phone_page)


def test_disagreements_are_visible(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    services = live_server.services
    review = services.policies
    if "disagree" not in {p.slug for p in review.list_policies()}:
        review.register(
            "system:test", slug="disagree", name="Disputed regulation",
            policy_type="recruitment_regulation",
        )  # fmt: skip
        document = tmp_path / "disputed.txt"
        document.write_text(V1, encoding="utf-8")
        review.add_version("system:test", "disagree", document, label="v1")
    version = review.versions("disagree")[0]
    assessment = review.start_assessment(
        "system:test", "disagree", version.id, "fair-recruitment",
        [(ADMIN, "procurement"), (ANALYST, "labour_rights")],
    )  # fmt: skip
    items = [i.item.id for i in review.assessment(assessment).items]
    admin = services.accounts.get_user(ADMIN)
    analyst = services.accounts.get_user(ANALYST)
    review.answer(admin, assessment, dict.fromkeys(items, ("yes", "")))
    review.answer(analyst, assessment, {items[0]: ("partly", "Fees are banned for agencies only.")})
    log_in(page, ANALYST)
    page.goto(f"/policies/disagree/assessments/{assessment}")
    expect(page.get_by_role("heading", name="Where reviewers disagree (1)")).to_be_visible()
    card = page.locator(f"#item-{items[0]}")
    expect(card.get_by_text("Reviewers disagree.")).to_be_visible()
    expect(card.locator(".reviewer-answers")).to_contain_text(
        "analyst: Partly — Fees are banned for agencies only."
    )
    expect(card.locator(".reviewer-answers")).to_contain_text("admin: Yes")
    expect(card.get_by_label("Partly")).to_be_checked()
    check_accessibility(page, "policy-assessment-disagreement")
