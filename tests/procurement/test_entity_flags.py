"""Entity screening feeds the register: allegations and watchlist matches raise suppliers."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tipaudit.procurement.outputs import register_rows
from tipaudit.procurement.rules import ENTITY_ACTION, POSSIBLE_MATCH_ACTION, EntityFlag
from tipaudit.procurement.screening import ScreeningRun, rescore
from tipaudit.refdata import ReferenceData
from tipaudit.services.procurement import entity_flags

from .conftest import Screen, release, write_package


def _run(tmp_path: Path, run_screen: Screen) -> ScreeningRun:
    path = write_package(
        tmp_path / "p.json",
        [
            # Cleaning services in Denmark: a high-risk, labour-intensive industry (two
            # moderate factors), so medium before anything is known about the supplier.
            release(
                "ocds-test-clean",
                supplier_country="Denmark",
                items=[("90910000", "Office cleaning services")],
            ),
            release(
                "ocds-test-paper",
                supplier_country="Denmark",
                items=[("30197630", "Printing paper")],
            ),
        ],
    )
    return run_screen(path)


def _supplier_key(run: ScreeningRun, ocid: str) -> str:
    table = pq.read_table(run.folder / "tables" / "suppliers").to_pylist()
    return next(str(row["supplier_key"]) for row in table if row["ocid"] == ocid)


def _rows(run: ScreeningRun) -> dict[str, dict]:  # type: ignore[type-arg]
    return {row["ocid"]: row for row in register_rows(run)}


def test_a_credible_allegation_raises_the_suppliers_processes(
    tmp_path: Path, run_screen: Screen, refdata: ReferenceData
) -> None:
    run = _run(tmp_path, run_screen)
    before = _rows(run)
    assert "medium" == before["ocds-test-clean"]["level"]
    assert "low" == before["ocds-test-paper"]["level"]

    flag = EntityFlag(
        supplier_key=_supplier_key(run, "ocds-test-clean"),
        factor="supplier_allegation",
        entity="Fictional Supplier of ocds-test-clean (allegation A-1)",
        status="credible",
        reason="report R-2026-0001",
        score=0.97,
    )
    rescored = rescore(run, refdata=refdata, entity_flags=[flag])
    after = _rows(rescored)
    clean = after["ocds-test-clean"]
    assert "high" == clean["level"]
    assert "supplier_allegation" in clean["factors"]
    assert any(
        "allegations register" in reason and "credible; report R-2026-0001" in reason
        for reason in clean["reasons"]
    )
    assert ENTITY_ACTION in clean["actions"]
    # Another supplier's process is untouched.
    assert "low" == after["ocds-test-paper"]["level"]
    assert 1 == rescored.summary["entity_flags"]
    assert rescored.summary["levels"]["high"] == before_count(before, "high") + 1

    # Withdrawing the flag (the allegation found unsubstantiated) brings the level back.
    back = _rows(rescore(rescored, refdata=refdata, entity_flags=[]))
    assert "medium" == back["ocds-test-clean"]["level"]
    assert "supplier_allegation" not in back["ocds-test-clean"]["factors"]


def before_count(rows: dict[str, dict], level: str) -> int:  # type: ignore[type-arg]
    return sum(1 for row in rows.values() if row["level"] == level)


def test_a_possible_match_is_shown_to_review_never_scored(
    tmp_path: Path, run_screen: Screen, refdata: ReferenceData
) -> None:
    """An unreviewed match is shown and asks for review, but is never scored as a hit."""
    run = _run(tmp_path, run_screen)
    before = _rows(run)["ocds-test-paper"]
    flag = EntityFlag(
        supplier_key=_supplier_key(run, "ocds-test-paper"),
        factor="supplier_possible_match",
        entity="Fictional Listed Co (entry F-1) on the Fictional demonstration list",
        status="score 0.81",
    )
    after = _rows(rescore(run, refdata=refdata, entity_flags=[flag]))["ocds-test-paper"]
    assert before["level"] == after["level"]
    assert after["score"] == before["score"]
    assert "supplier_possible_match" in after["factors"]
    assert POSSIBLE_MATCH_ACTION in after["actions"]
    assert any("has not yet confirmed or rejected" in r for r in after["reasons"])


def test_a_flag_for_an_unknown_supplier_changes_nothing(
    tmp_path: Path, run_screen: Screen, refdata: ReferenceData
) -> None:
    run = _run(tmp_path, run_screen)
    before = {k: v["level"] for k, v in _rows(run).items()}
    flag = EntityFlag(
        supplier_key="name:nobody|DNK", factor="supplier_listed", entity="x", status="confirmed"
    )
    after = {
        k: v["level"] for k, v in _rows(rescore(run, refdata=refdata, entity_flags=[flag])).items()
    }
    assert before == after


def test_an_entity_flag_needs_a_known_factor() -> None:
    with pytest.raises(ValueError, match="factor"):
        EntityFlag(supplier_key="k", factor="ilab_listed_good", entity="x", status="y")


class _Match:
    def __init__(self, **values: object) -> None:
        defaults: dict[str, object] = {
            "supplier_key": "name:x|DNK",
            "entity_id": "A-1",
            "entity_name": "X Ltd",
            "list_title": "Allegations register",
            "list_kind": "allegations",
            "score": 0.93,
            "decision": "candidate",
            "allegation_status": "credible",
            "reason": "report R-1",
        }
        defaults.update(values)
        self.__dict__.update(defaults)


@pytest.mark.parametrize(
    ("values", "factor"),
    [
        ({"decision": "confirmed"}, "supplier_allegation"),
        ({"decision": "candidate"}, "supplier_possible_match"),
        ({"decision": "confirmed", "allegation_status": "pending"}, None),
        ({"decision": "confirmed", "allegation_status": "unsubstantiated"}, None),
        ({"decision": "confirmed", "allegation_status": "substantiated"}, "supplier_allegation"),
        (
            {"list_kind": "watchlist", "allegation_status": None, "decision": "confirmed"},
            "supplier_listed",
        ),
        ({"list_kind": "sample", "allegation_status": None}, "supplier_possible_match"),
    ],
)
def test_only_confirmed_matches_are_scored(values: dict[str, object], factor: str | None) -> None:
    """Issue rule: a confirmed match raises risk; an unreviewed candidate is only 'to review';
    an allegation counts only when credible or substantiated."""
    flags = entity_flags([_Match(**values)])  # type: ignore[list-item]
    expected = [factor] if factor else []
    assert expected == [f.factor for f in flags]
