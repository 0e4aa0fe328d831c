"""Policy review service: register, versions with their checks, multi-reviewer assessments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tipaudit.core.roles import Role
from tipaudit.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from tipaudit.policy.rubrics import load_rubric
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.services.policy import (
    MAX_DOCUMENT_BYTES,
    CheckOutcome,
    PolicyReview,
    combine_answers,
    compare_assessments,
    diff_findings,
)

PASSWORD = "a long enough passphrase"


def fake_checker(paths: Sequence[Path], policy_type: str) -> CheckOutcome:
    """A readable stand-in for the text check: one risk rule, one missing protection."""
    text = paths[0].read_text(encoding="utf-8").lower()
    findings = []
    if "may retain" in text and "passport" in text:
        findings.append(
            {
                "rule_id": "document-retention",
                "item_id": "fr-documents",
                "kind": "risk",
                "severity": "high",
                "evidence": "The employer may retain passports.",
                "location": f"{paths[0].name}: line 2",
                "explanation": "permits retention",
                "alternative": "prohibit retention",
                "indicators": ["ILO-07"],
                "sources": [],
            }
        )
    if "recruitment fee" not in text:
        findings.append(
            {
                "rule_id": "missing-fee-ban",
                "item_id": "fr-fees",
                "kind": "missing",
                "severity": "medium",
                "evidence": "",
                "location": paths[0].name,
                "explanation": f"no fee ban in a {policy_type}",
                "alternative": "employer pays",
                "indicators": ["ILO-10"],
                "sources": [],
            }
        )
    return CheckOutcome(findings=findings, provisions=text.count("\n"), checker="fake 1")


@pytest.fixture
def review(services: Services) -> PolicyReview:
    services.policies.checker = fake_checker
    return services.policies


def _user(services: Services, username: str, *roles: Role) -> StaffUser:
    return services.accounts.create_user(username, PASSWORD, roles=set(roles))


@pytest.fixture
def analyst(services: Services) -> StaffUser:
    return _user(services, "paula", Role.POLICY_ANALYST)


def _doc(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


V1 = "Regulation on recruitment\n1. No recruitment fee may be charged to workers.\n"
V2 = "Regulation on recruitment\n1. The employer may retain passports for safekeeping.\n"


def test_register_and_versions_with_diff(
    review: PolicyReview, analyst: StaffUser, services: Services, tmp_path: Path
) -> None:
    info = review.register(
        analyst,
        name="Overseas Employment Regulation",
        policy_type="recruitment_regulation",
        jurisdiction="Examplestan",
        owner="Ministry of Labour",
    )
    assert "overseas-employment-regulation" == info.slug
    assert "Recruitment regulation" == info.type_label
    first = review.add_version(
        analyst, info.slug, _doc(tmp_path, "v1.txt", V1), label="2024", effective_date=None
    )
    assert [] == first.findings
    assert 1 == first.number
    stored = services.settings.data_dir / first.stored_path
    assert stored.read_text(encoding="utf-8") == V1
    assert stored.is_relative_to(services.settings.data_dir / "policies")
    second = review.add_version(analyst, info.slug, _doc(tmp_path, "v2.txt", V2), label="2025")
    assert 2 == second.number
    diff = review.diff(info.slug, second.id)
    assert diff.previous is not None
    assert diff.previous.id == first.id
    assert {"document-retention", "missing-fee-ban"} == {f["rule_id"] for f in diff.new}
    assert [] == diff.resolved
    # and back: the third version resolves them
    third = review.add_version(
        analyst, info.slug, _doc(tmp_path, "v3.txt", V1 + "\n"), label="2026"
    )
    back = review.diff(info.slug, third.id)
    assert {"document-retention", "missing-fee-ban"} == {f["rule_id"] for f in back.resolved}
    listed = review.list_policies("recruitment_regulation")
    assert ["2026"] == [p.latest_label for p in listed]
    assert [] == review.list_policies("visa_scheme")
    actions = [r.action for r in services.audit.recent(1000)]
    assert "policy.registered" in actions
    assert 3 == actions.count("policy.version_added")


def test_register_refuses_bad_input(review: PolicyReview, analyst: StaffUser) -> None:
    with pytest.raises(ValidationError, match="policy type"):
        review.register(analyst, name="X policy", policy_type="nonsense")
    with pytest.raises(ValidationError, match="name"):
        review.register(analyst, name="   ", policy_type="other")
    with pytest.raises(ValidationError, match="slug"):
        review.register(analyst, name="Fine", slug="../etc", policy_type="other")
    with pytest.raises(ValidationError, match="at most"):
        review.register(analyst, name="n" * 301, policy_type="other")
    review.register(analyst, name="Visa rules", policy_type="visa_scheme")
    with pytest.raises(ConflictError):
        review.register(analyst, name="Visa rules", policy_type="visa_scheme")


def test_register_needs_permission(services: Services, review: PolicyReview) -> None:
    auditor = _user(services, "audrey", Role.AUDITOR)
    with pytest.raises(PermissionDeniedError):
        review.register(auditor, name="Visa rules", policy_type="visa_scheme")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("policy.exe", b"MZ\x90\x00", "must be one of"),
        ("policy.pdf", b"not a pdf at all", "not a PDF"),
        ("policy.docx", b"PK\x03\x04 broken zip", "not a Word document"),
        ("policy.txt", b"\xff\xfe\x00l\x00a\x00w", "NUL"),
        ("policy.txt", b"caf\xe9 latin-1", "UTF-8"),
        ("policy.md", b"", "empty"),
    ],
)
def test_add_version_refuses_bad_documents(
    review: PolicyReview,
    analyst: StaffUser,
    tmp_path: Path,
    name: str,
    content: bytes,
    message: str,
) -> None:
    review.register(analyst, name="Visa rules", policy_type="visa_scheme")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        review.add_version(analyst, "visa-rules", path, label="v1")
    assert [] == review.versions("visa-rules")
    assert not (review.folder / "visa-rules").exists() or not any(
        (review.folder / "visa-rules").rglob("*.*")
    )


def test_add_version_refuses_huge_documents(
    review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    review.register(analyst, name="Visa rules", policy_type="visa_scheme")
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(ValidationError, match="limit"):
        review.add_version(analyst, "visa-rules", path, label="v1")


def test_add_version_refuses_duplicates_and_unknown(
    review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    review.register(analyst, name="Visa rules", policy_type="visa_scheme")
    doc = _doc(tmp_path, "v1.txt", V1)
    review.add_version(analyst, "visa-rules", doc, label="v1")
    with pytest.raises(ConflictError, match="already version"):
        review.add_version(analyst, "visa-rules", doc, label="v2")
    with pytest.raises(ConflictError, match="labelled"):
        review.add_version(analyst, "visa-rules", _doc(tmp_path, "o.txt", V2), label="v1")
    with pytest.raises(NotFoundError):
        review.add_version(analyst, "no-such-policy", doc, label="v9")
    with pytest.raises(NotFoundError):
        review.version("visa-rules", 999)


def test_checker_crash_is_a_validation_error(
    review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    def broken(paths: Sequence[Path], policy_type: str) -> CheckOutcome:
        raise RuntimeError("parser exploded")

    review.checker = broken
    review.register(analyst, name="Visa rules", policy_type="visa_scheme")
    with pytest.raises(ValidationError, match="could not be read"):
        review.add_version(analyst, "visa-rules", _doc(tmp_path, "v.txt", V1), label="v1")
    assert [] == review.versions("visa-rules")


def test_diff_and_combine_helpers() -> None:
    a = {"rule_id": "r1", "evidence": "The  employer MAY retain", "location": "s1"}
    moved = {"rule_id": "r1", "evidence": "the employer may retain", "location": "s9"}
    b = {"rule_id": "r2", "evidence": ""}
    new, resolved, unchanged = diff_findings([moved, b], [a])
    assert [b] == new
    assert [] == resolved
    assert [moved] == unchanged
    assert combine_answers([]) is None
    assert "no" == combine_answers(["yes", "no", "partly"])
    assert "partly" == combine_answers(["yes", "partly", "not_applicable"])
    assert "not_applicable" == combine_answers(["not_applicable", "not_applicable"])


RUBRIC = "fair-recruitment"


def _assessment_setup(
    services: Services, review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> tuple[int, StaffUser, StaffUser]:
    rubric = load_rubric(RUBRIC)
    policy_type = rubric.policy_types[0]
    review.register(analyst, name="Recruitment rules", slug="rec-rules", policy_type=policy_type)
    version = review.add_version(analyst, "rec-rules", _doc(tmp_path, "v.txt", V1), label="v1")
    labour = _user(services, "lara", Role.POLICY_ANALYST)
    procurement = _user(services, "pete", Role.POLICY_ANALYST)
    assessment_id = review.start_assessment(
        analyst,
        "rec-rules",
        version.id,
        RUBRIC,
        [("lara", "labour_rights"), ("pete", "procurement")],
    )
    return assessment_id, labour, procurement


def test_assessment_disagreement_signoff_and_final(
    services: Services, review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    assessment_id, lara, pete = _assessment_setup(services, review, analyst, tmp_path)
    view = review.assessment(assessment_id)
    items = [i.item.id for i in view.items]
    assert items, "the rubric asks something of this policy type"
    assert ["lara", "pete"] == view.waiting_for
    review.answer(lara, assessment_id, dict.fromkeys(items, ("yes", "")))
    review.answer(
        pete,
        assessment_id,
        {
            i: ("no" if n == 0 else "yes", "art. 4 is silent" if n == 0 else "")
            for n, i in enumerate(items)
        },
    )
    view = review.assessment(assessment_id)
    first = view.items[0]
    assert first.disagreement
    assert {"lara": ("yes", ""), "pete": ("no", "art. 4 is silent")} == first.answers
    assert "no" == first.combined
    assert [first.item.id] == [f.item_id for f in view.result.findings]
    assert "pete: art. 4 is silent" == view.result.findings[0].comment
    assert 1 == len(view.disagreements)

    # an optional reviewer joins; their sign-off is not needed
    tom = _user(services, "tom", Role.POLICY_ANALYST)
    review.join_assessment(tom, assessment_id, "anti-trafficking")
    with pytest.raises(ConflictError):
        review.join_assessment(tom, assessment_id, "other")

    assert review.sign_off(lara, assessment_id) is False
    with pytest.raises(ConflictError, match="locked"):
        review.answer(lara, assessment_id, {items[0]: ("no", "")})
    with pytest.raises(ConflictError):
        review.sign_off(lara, assessment_id)
    assert review.sign_off(pete, assessment_id) is True
    view = review.assessment(assessment_id)
    assert view.final
    assert [] == view.waiting_for
    with pytest.raises(ConflictError, match="final"):
        review.answer(tom, assessment_id, {items[0]: ("yes", "")})
    with pytest.raises(ConflictError):
        review.join_assessment(_user(services, "zed", Role.POLICY_ANALYST), assessment_id, "legal")

    records = [r for r in services.audit.recent(1000) if r.object_type == "assessment"]
    actions = [r.action for r in records]
    assert 2 * len(items) == actions.count("assessment.answered")
    assert 2 == actions.count("assessment.signed_off")
    assert 1 == actions.count("assessment.finalised")
    commented = [r for r in records if r.reason == "art. 4 is silent"]
    assert 1 == len(commented)
    assert "no" == commented[0].details["answer"]


def test_assessment_refusals(
    services: Services, review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    assessment_id, lara, _ = _assessment_setup(services, review, analyst, tmp_path)
    items = [i.item.id for i in review.assessment(assessment_id).items]
    with pytest.raises(ValidationError, match="not one of"):
        review.answer(lara, assessment_id, {items[0]: ("maybe", "")})
    with pytest.raises(ValidationError, match="asks no item"):
        review.answer(lara, assessment_id, {"no-such-item": ("yes", "")})
    with pytest.raises(ValidationError, match="at most"):
        review.answer(lara, assessment_id, {items[0]: ("yes", "x" * 5000)})
    with pytest.raises(ValidationError, match="not a reviewer"):
        review.answer(analyst, assessment_id, {items[0]: ("yes", "")})
    with pytest.raises(ValidationError, match="unanswered"):
        review.sign_off(lara, assessment_id)
    auditor = _user(services, "audrey", Role.AUDITOR)
    with pytest.raises(PermissionDeniedError):
        review.answer(auditor, assessment_id, {items[0]: ("yes", "")})
    with pytest.raises(NotFoundError):
        review.assessment(9999)
    # unchanged answers are not recorded twice
    assert 1 == review.answer(lara, assessment_id, {items[0]: ("yes", "ok")})
    assert 0 == review.answer(lara, assessment_id, {items[0]: ("YES", " ok ")})
    # reviewers must be able to assess
    version = review.versions("rec-rules")[0]
    with pytest.raises(ValidationError, match="cannot review"):
        review.start_assessment(analyst, "rec-rules", version.id, RUBRIC, [("audrey", "legal")])
    with pytest.raises(ValidationError, match="expertise"):
        review.start_assessment(analyst, "rec-rules", version.id, RUBRIC, [("lara", "magic")])
    with pytest.raises(ValidationError, match="at least one"):
        review.start_assessment(analyst, "rec-rules", version.id, RUBRIC, [])
    with pytest.raises(NotFoundError):
        review.start_assessment(
            analyst, "rec-rules", version.id, "no-such-rubric", [("lara", "legal")]
        )


def test_previous_assessment_comparison(
    services: Services, review: PolicyReview, analyst: StaffUser, tmp_path: Path
) -> None:
    first_id, lara, _ = _assessment_setup(services, review, analyst, tmp_path)
    items = [i.item.id for i in review.assessment(first_id).items]
    review.answer(lara, first_id, dict.fromkeys(items, ("yes", "")))
    second_version = review.add_version(
        analyst, "rec-rules", _doc(tmp_path, "v2.txt", V2), label="v2"
    )
    second_id = review.start_assessment(
        analyst, "rec-rules", second_version.id, RUBRIC, [("lara", "labour_rights")]
    )
    review.answer(lara, second_id, {items[0]: ("no", "removed")})
    current = review.assessment(second_id)
    previous = review.previous_assessment(current)
    assert previous is not None
    assert previous.id == first_id
    changes = compare_assessments(current, previous)
    assert items[0] == changes[0].item.id
    assert ("yes", "no") == (changes[0].before, changes[0].after)
    assert review.previous_assessment(review.assessment(first_id)) is None
    assert [second_id, first_id] == [a.id for a in review.assessments("rec-rules")]
