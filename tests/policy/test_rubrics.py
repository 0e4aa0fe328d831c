"""The packaged rubrics load, cover the frameworks the issue names, and score assessments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tipaudit.core.indicators import load_taxonomy
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.policy.rubrics import (
    MAX_RUBRIC_BYTES,
    POLICY_TYPES,
    Answer,
    AnswerValue,
    find_item,
    load_rubric,
    load_rubric_file,
    load_rubrics,
    rubrics_for_type,
    score_assessment,
)

REQUIRED = {
    "tvpa-minimum-standards",
    "procurement-safeguards",
    "fair-recruitment",
    "labour-migration",
    "security-cooperation",
}


def test_packaged_rubrics_load_and_are_complete() -> None:
    rubrics = load_rubrics()
    assert REQUIRED <= set(rubrics)
    taxonomy = load_taxonomy()
    for rubric in rubrics.values():
        assert rubric.items
        for item in rubric.items:
            assert item.sources, item.id
            assert set(item.policy_types) <= set(rubric.policy_types) | set(POLICY_TYPES)
            assert item.policy_types, item.id
            assert all(code in taxonomy for code in item.indicators)


def test_tvpa_has_four_standards_and_twelve_criteria() -> None:
    ids = [item.id for item in load_rubric("tvpa-minimum-standards").items]
    assert len([i for i in ids if i.startswith("tvpa-a")]) == 4
    assert len([i for i in ids if i.startswith("tvpa-b")]) == 12


@pytest.mark.parametrize(
    ("rubric_id", "item_ids"),
    [
        (
            "procurement-safeguards",
            {
                "proc-fees",
                "proc-documents",
                "proc-flow-down",
                "proc-compliance-plan",
                "ppn-risk-assessment",
                "ppn-contract-management",
                "proc-grievance",
            },
        ),
        ("fair-recruitment", {"fr-no-fees", "fr-fee-definition", "fr-change-employer"}),
        (
            "labour-migration",
            {
                "lm-no-ban",
                "lm-bilateral",
                "lm-recruiter-oversight",
                "lm-predeparture",
                "lm-consular",
                "lm-change-employer",
                "lm-documents",
                "lm-wage-protection",
                "lm-domestic-workers",
                "lm-agricultural-workers",
            },
        ),
        (
            "security-cooperation",
            {
                "sc-unit-vetting",
                "sc-child-soldiers",
                "sc-outside-information",
                "sc-transparent-review",
                "sc-conditions-end",
            },
        ),
    ],
)
def test_rubrics_cover_the_named_frameworks(rubric_id: str, item_ids: set[str]) -> None:
    have = {item.id for item in load_rubric(rubric_id).items}
    assert item_ids <= have


def test_rubrics_for_type_and_unknown_lookups() -> None:
    assert [r.id for r in rubrics_for_type("security_cooperation")] == ["security-cooperation"]
    assert "procurement-safeguards" in {r.id for r in rubrics_for_type("procurement_framework")}
    with pytest.raises(ValidationError, match="Unknown policy type"):
        rubrics_for_type("treaty")
    with pytest.raises(NotFoundError, match="known rubrics"):
        load_rubric("nope")
    rubric, item = find_item("lm-change-employer")
    assert rubric.id == "labour-migration"
    assert item.severity == "high"


def test_items_for_type_narrows() -> None:
    rubric = load_rubric("labour-migration")
    coverage = {i.id for i in rubric.items_for_type("labour_law_coverage")}
    assert "lm-domestic-workers" in coverage
    assert "lm-consular" not in coverage


def test_score_assessment_weights_and_findings() -> None:
    rubric = load_rubric("security-cooperation")
    answers = {
        "sc-unit-vetting": Answer(value="no", comment="No vetting article"),  # high, 3
        "sc-child-soldiers": "yes",  # high, 3
        "sc-outside-information": "partly",  # medium, 2
        "sc-duty-to-inform": "n/a",  # low, excluded
    }
    result = score_assessment(rubric, answers)
    # earned 3 + 1 = 4 of possible 3 + 3 + 2 = 8
    assert result.score == 50.0
    assert [f.item_id for f in result.findings] == ["sc-unit-vetting", "sc-outside-information"]
    assert result.findings[0].comment == "No vetting article"
    assert result.findings[0].alternative.startswith("Vet every recipient unit")
    assert result.findings[1].answer is AnswerValue.PARTLY
    assert result.not_applicable == 1
    assert set(result.unanswered) == {
        "sc-armed-groups",
        "sc-transparent-review",
        "sc-conditions-end",
    }
    assert not result.complete
    assert result.counts() == {"high": 1, "medium": 1, "low": 0}


def test_score_assessment_refuses_bad_answers() -> None:
    rubric = load_rubric("security-cooperation")
    with pytest.raises(ValidationError, match="no item"):
        score_assessment(rubric, {"lm-no-ban": "no"})
    with pytest.raises(ValueError, match="not one of"):
        score_assessment(rubric, {"sc-unit-vetting": "maybe"})


def test_all_not_applicable_has_no_score() -> None:
    rubric = load_rubric("security-cooperation")
    result = score_assessment(rubric, {i.id: "not applicable" for i in rubric.items})
    assert result.score is None
    assert result.complete


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _minimal() -> dict[str, object]:
    return {
        "id": "test-rubric",
        "version": "1.0",
        "title": "Test",
        "description": "A rubric for tests.",
        "policy_types": ["other"],
        "source": {"title": "Somewhere"},
        "items": [
            {
                "id": "t-one",
                "question": "Is this a question?",
                "guidance": "Some guidance here.",
                "severity": "high",
                "indicators": ["ILO-07"],
                "alternative": "Do the right thing.",
                "sources": [{"title": "A source", "url": "https://example.org/"}],
            }
        ],
    }


def test_rubric_file_validation(tmp_path: Path) -> None:
    rubric = load_rubric_file(_write(tmp_path, _minimal()))
    assert rubric.items[0].policy_types == ("other",)

    bad = _minimal()
    bad["items"][0]["indicators"] = ["ILO-99"]  # type: ignore[index]
    with pytest.raises(ValidationError, match="unknown indicator"):
        load_rubric_file(_write(tmp_path, bad))

    bad = _minimal()
    bad["items"][0]["severity"] = "critical"  # type: ignore[index]
    with pytest.raises(ValidationError, match="severity"):
        load_rubric_file(_write(tmp_path, bad))

    bad = _minimal()
    bad["policy_types"] = ["treaty"]
    with pytest.raises(ValidationError, match="Unknown policy type"):
        load_rubric_file(_write(tmp_path, bad))

    bad = _minimal()
    bad["items"] = [bad["items"][0], bad["items"][0]]  # type: ignore[index]
    with pytest.raises(ValidationError, match="used twice"):
        load_rubric_file(_write(tmp_path, bad))

    bad = _minimal()
    bad["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        load_rubric_file(_write(tmp_path, bad))

    bad = _minimal()
    bad["items"][0]["sources"] = [{"title": "x source", "url": "http://insecure"}]  # type: ignore[index]
    with pytest.raises(ValidationError, match="url"):
        load_rubric_file(_write(tmp_path, bad))


def test_rubric_file_hostile_input(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"\xff\xfe not utf8")
    with pytest.raises(ValidationError, match="UTF-8"):
        load_rubric_file(path)
    path.write_text("a: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match="YAML"):
        load_rubric_file(path)
    path.write_text("- just a list", encoding="utf-8")
    with pytest.raises(ValidationError, match="mapping"):
        load_rubric_file(path)
    path.write_bytes(b"#" * (MAX_RUBRIC_BYTES + 1))
    with pytest.raises(ValidationError, match="limit"):
        load_rubric_file(path)
    with pytest.raises(NotFoundError):
        load_rubric_file(tmp_path / "missing.yaml")
