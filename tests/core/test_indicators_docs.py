"""docs/indicators.md cannot drift from the packaged indicator taxonomy."""

# Asserts read `expected == actual` (the project test style), which SIM300 calls Yoda.

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tipaudit.core.indicators import CODE_PATTERN, Indicator, load_taxonomy

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"
ROW = re.compile(r"^\| `(?P<code>(?:ILO|TIP)-[^`]*)` \|")


def _rows() -> dict[str, list[str]]:
    """Table rows of the doc whose first cell is a code, split into stripped cells."""
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["code"] not in rows, f"{match['code']} has two rows in {DOC.name}"
            rows[match["code"]] = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return rows


@pytest.fixture(scope="module")
def rows() -> dict[str, list[str]]:
    """The code rows of docs/indicators.md."""
    return _rows()


def test_doc_states_the_taxonomy_version() -> None:
    """The page names the version of the taxonomy it documents."""
    assert f"**{load_taxonomy().version}**" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("indicator", load_taxonomy(), ids=lambda ind: ind.code)
def test_every_code_has_a_row_with_its_name_mapping_and_links(
    rows: dict[str, list[str]], indicator: Indicator
) -> None:
    """Each code has one table row giving its name, every HTCDS field and value, and its links."""
    assert indicator.code in rows, f"{indicator.code} is missing from {DOC.name}"
    _, name, htcds, related, *_ = rows[indicator.code]

    assert indicator.name == name
    if indicator.htcds:
        for mapping in indicator.htcds:
            assert f"`{mapping.field}`" in htcds
            assert re.search(rf"\b{re.escape(mapping.value)}\b", htcds), mapping.value
    else:
        assert htcds.startswith("none")
    assert sorted(indicator.related) == sorted(filter(None, related.split(", ")))


def test_doc_lists_no_unknown_codes(rows: dict[str, list[str]]) -> None:
    """Every code row in the doc is a code of the taxonomy, so removed codes cannot linger."""
    codes = set(load_taxonomy().codes)

    assert [] == [code for code in rows if code not in codes or not CODE_PATTERN.fullmatch(code)]
