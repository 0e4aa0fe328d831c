"""The hand-labelled item evaluation set is well-formed and is exactly the recorded draw."""

# Asserts read `expected == actual` (the project test style), which SIM300 calls Yoda.

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tests.procurement.classify import draw_sample
from tests.procurement.classify.labels import (
    FIELDS,
    INDUSTRIES,
    LABELLED_ITEMS,
    LANGUAGES,
    LabelledItem,
    load_labelled_items,
)


@pytest.fixture(scope="module")
def items() -> list[LabelledItem]:
    return load_labelled_items()


def _ilab_goods_2022() -> set[str]:
    path = shared_path("data", "ilab-goods", "goods_2021.xml")  # the 2022 edition of the list
    return {name.text or "" for name in ET.parse(path).getroot().iter("Good_Name")}


def test_header_is_the_documented_one() -> None:
    """The CSV header is exactly the documented column list, in order."""
    with LABELLED_ITEMS.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert list(FIELDS) == header


def test_set_has_the_intended_size(items: list[LabelledItem]) -> None:
    """About 400-600 distinct items were labelled."""
    assert 400 <= len(items) <= 600


def test_ids_are_unique(items: list[LabelledItem]) -> None:
    """Every row has its own id."""
    counts = Counter(item.id for item in items)
    assert [] == [item_id for item_id, n in counts.items() if n > 1]


def test_every_item_has_text(items: list[LabelledItem]) -> None:
    """Every row carries some text to classify: a description, classification or title."""
    assert [] == [item.id for item in items if not item.text]


def test_languages_are_known(items: list[LabelledItem]) -> None:
    """Every language tag is one of the documented ones."""
    assert set() == {item.language for item in items} - LANGUAGES


def test_industries_are_in_the_vocabulary(items: list[LabelledItem]) -> None:
    """Every industry label is in the PPN 02/23 vocabulary; `none` stands alone."""
    unknown = {name for item in items for name in item.industries} - INDUSTRIES
    assert set() == unknown
    assert [] == [item.id for item in items if not item.industries]
    assert [] == [
        item.id for item in items if "none" in item.industries and len(item.industries) > 1
    ]


def test_labels_are_not_repeated(items: list[LabelledItem]) -> None:
    """No row names the same good or industry twice."""
    assert [] == [
        item.id
        for item in items
        if len(set(item.ilab_goods)) != len(item.ilab_goods)
        or len(set(item.industries)) != len(item.industries)
    ]


def test_goods_are_spelled_as_in_the_2022_ilab_list(items: list[LabelledItem]) -> None:
    """Every good is a <Good_Name> of the 2022 ILAB list, spelled exactly."""
    goods = _ilab_goods_2022()
    assert set() == {name for item in items for name in item.ilab_goods} - goods


def test_both_splits_are_present_per_language(items: list[LabelledItem]) -> None:
    """Languages with 30+ items have 10+ in each split; smaller ones still have both splits."""
    by_language: dict[str, Counter[str]] = {}
    for item in items:
        by_language.setdefault(item.language, Counter())[item.split] += 1
    for language, counts in by_language.items():
        total = counts["tuning"] + counts["heldout"]
        if total >= 30:
            assert counts["tuning"] >= 10, language
            assert counts["heldout"] >= 10, language
        if total >= 2:
            assert counts["tuning"] > 0, language
            assert counts["heldout"] > 0, language


def test_split_is_about_sixty_forty(items: list[LabelledItem]) -> None:
    """About 60 % of the items are for tuning and 40 % are held out."""
    tuning = sum(item.split == "tuning" for item in items)
    assert 0.55 <= tuning / len(items) <= 0.65


def test_loader_filters_by_split(items: list[LabelledItem]) -> None:
    """Asking for one split returns exactly that split's rows, in file order."""
    heldout = load_labelled_items(split="heldout")
    assert [item for item in items if item.split == "heldout"] == heldout


def test_loader_rejects_a_wrong_header(tmp_path: Path) -> None:
    """A file whose header is not the documented one is refused, not half-read."""
    bad = tmp_path / "bad.csv"
    bad.write_text("id,split,language\nit-1,tuning,en\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        load_labelled_items(bad)


def test_loader_rejects_an_unknown_split(tmp_path: Path) -> None:
    """A row in a split other than tuning/heldout is refused with its line number."""
    bad = tmp_path / "bad.csv"
    row = ["it-1", "training", "p", "en", "", "", "", "text", "", "", "none", ""]
    bad.write_text(",".join(FIELDS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_labelled_items(bad)


def test_sample_is_the_seeded_draw_from_the_population(items: list[LabelledItem]) -> None:
    """The labelled ids and splits are exactly what the recorded seed draws from population.csv.

    Nobody added, dropped or moved an item by hand after seeing its labels.
    """
    population = draw_sample.read_population()
    chosen = set(draw_sample.draw(population))
    splits = draw_sample.split([row for row in population if row["id"] in chosen])
    assert sorted(chosen) == sorted(item.id for item in items)
    assert splits == {item.id: item.split for item in items}
    languages = {row["id"]: row["language"] for row in population}
    assert {item.id: languages[item.id] for item in items} == {
        item.id: item.language for item in items
    }


def test_population_and_texts_match_the_ocds_samples(items: list[LabelledItem]) -> None:
    """population.csv and the labelled texts are what a fresh extraction of the samples gives."""
    root = shared_path("data", "ocds", "sample-data-real-examples")
    candidates = draw_sample.extract(root)
    population = draw_sample.read_population()
    expected = [
        {
            "id": c.id,
            "publisher": c.publisher,
            "file": c.file,
            "ocid": c.ocid,
            "item_path": c.item_path,
            "occurrences": str(c.occurrences),
        }
        for c in candidates
    ]
    assert expected == [{key: row[key] for key in expected[0]} for row in population]
    groups = draw_sample.grouping(candidates, {row["id"]: row["language"] for row in population})
    assert {row["id"]: (row["group"], row["family"]) for row in population} == groups
    by_id = {c.id: c for c in candidates}
    for item in items:
        c = by_id[item.id]
        assert (
            c.publisher,
            c.scheme,
            c.code,
            c.classification_description,
            c.description,
            c.process_title,
        ) == (
            item.publisher,
            item.scheme,
            item.code,
            item.classification_description,
            item.description,
            item.process_title,
        ), item.id
