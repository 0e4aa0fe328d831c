"""The merge routine: rules derived from the vendored schema, golden tests against ocdsmerge."""

from __future__ import annotations

import copy
import json
import warnings
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from tests.procurement.ingest.factory import ingest, release
from tipaudit.procurement.ingest import MergeRules, WarningKind, compile_releases
from tipaudit.procurement.ingest.merge import MergeNotes

SCALAR = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["x", "y", ""]))
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "a", "b", "roles"]), inner, max_size=3),
        st.lists(st.dictionaries(st.sampled_from(["id", "a", "b"]), inner, max_size=3), max_size=3),
    ),
    max_leaves=12,
)


def _schema() -> dict[str, Any]:
    path = shared_path("data", "ocds", "schema-1.1", "release-schema.json")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _canon(value: Any) -> Any:
    """Key order does not matter in JSON objects; array order does."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def _sample_groups() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(folder, ocid, releases in file order) for every ocid of every sample folder."""
    root = shared_path("data", "ocds", "sample-data-real-examples")
    groups: list[tuple[str, str, list[dict[str, Any]]]] = []
    for folder in sorted({p.parent for p in root.rglob("*.json")}):
        by_ocid: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            if not data:
                continue
            doc = orjson.loads(data)
            if "records" in doc:
                items = [r for rec in doc["records"] for r in rec.get("releases", [])]
            elif "releases" in doc and "ocid" not in doc:
                items = doc["releases"]
            else:
                items = [doc]
            for item in items:
                if isinstance(item, dict) and "ocid" in item:
                    by_ocid[item["ocid"]].append(item)
        groups.extend((str(folder.relative_to(root)), o, r) for o, r in by_ocid.items())
    return groups


@pytest.mark.shared
def test_committed_rules_are_derived_from_the_vendored_schema() -> None:
    """merge_rules.json equals the rules derived from ../shared's OCDS 1.1.5 schema."""
    text = resources.files("tipaudit.procurement.ingest").joinpath("merge_rules.json")
    committed = json.loads(text.read_text(encoding="utf-8"))
    derived = MergeRules.from_schema(_schema()).to_json()
    assert derived["omitWhenMerged"] == committed["omitWhenMerged"]
    assert derived["wholeListMerge"] == committed["wholeListMerge"]
    assert {"date", "id", "tag"} == set(committed["omitWhenMerged"])
    assert "tender/items/additionalClassifications" in committed["wholeListMerge"]


@pytest.mark.shared
def test_rules_match_ocdsmerge() -> None:
    """Our schema walk gives the same rules as the reference implementation."""
    rules = pytest.importorskip("ocdsmerge.rules")
    theirs = rules.get_merge_rules(_schema())
    ours = MergeRules.from_schema(_schema())
    assert {"/".join(k) for k, v in theirs.items() if v == "omitWhenMerged"} == set(
        ours.omit_when_merged
    )
    assert {"/".join(k) for k, v in theirs.items() if v == "wholeListMerge"} == set(
        ours.whole_list_merge
    )


@pytest.mark.shared
def test_compile_matches_ocdsmerge_on_every_sample_ocid() -> None:
    """Golden test: each ocid of each real sample folder compiles exactly as ocdsmerge does."""
    ocdsmerge = pytest.importorskip("ocdsmerge")
    merger = ocdsmerge.Merger(schema=_schema())
    groups = _sample_groups()
    multi = [g for g in groups if len(g[2]) > 1]
    assert len(groups) > 700
    assert len(multi) >= 50
    for folder, ocid, releases in groups:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ocdsmerge warns about duplicate ids in arrays
            expected = merger.create_compiled_release(releases)
        actual = compile_releases(releases)
        assert _canon(expected) == _canon(actual), f"{folder} {ocid}"


@pytest.mark.shared
def test_pipeline_matches_ocdsmerge_on_multi_release_sample_ocids() -> None:
    """Ingesting each sample folder compiles its multi-release ocids as ocdsmerge does."""
    ocdsmerge = pytest.importorskip("ocdsmerge")
    merger = ocdsmerge.Merger(schema=_schema())
    root = shared_path("data", "ocds", "sample-data-real-examples")
    by_folder: dict[str, list[tuple[str, list[dict[str, Any]]]]] = defaultdict(list)
    for folder, ocid, releases in _sample_groups():
        by_folder[folder].append((ocid, releases))
    checked = 0
    for folder, groups in by_folder.items():
        multi = [(o, r) for o, r in groups if len(r) > 1]
        if not multi:
            continue
        compiled, _ = ingest([root / folder], on_error="skip")
        produced = {c.ocid: c for c in compiled}
        for ocid, releases in multi:
            item = produced[ocid]
            if item.from_record or item.releases_merged != len(releases):
                continue  # duplicates or conflicts were dropped first (tested elsewhere)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = merger.create_compiled_release(releases)
            assert _canon(expected) == _canon(item.release), f"{folder} {ocid}"
            checked += 1
    assert checked >= 20


def test_compiled_release_metadata() -> None:
    """tag, id and date of a compiled release follow the OCDS merging guidance."""
    out = compile_releases(
        [
            release("ocds-x-1", "b", "2024-02-01", title="second"),
            release("ocds-x-1", "a", "2024-01-01", title="first", description="kept"),
        ]
    )
    assert ["compiled"] == out["tag"]
    assert "ocds-x-1-2024-02-01" == out["id"]
    assert "2024-02-01" == out["date"]
    assert "second" == out["title"]
    assert "kept" == out["description"]
    assert "initiationType" in out


def test_null_removes_fields_objects_and_arrays() -> None:
    """A null in a later release removes the field, even an object or array (OCDS rule).

    ocdsmerge keeps the children of an object nulled later; the OCDS documentation removes the
    field, which is what we do.
    """
    first = release(
        "o", "1", "2024-01-01", tender={"value": {"amount": 5}, "title": "t"}, awards=[{"id": "a"}]
    )
    second = release("o", "2", "2024-01-02", tender={"value": None, "title": None}, awards=None)
    out = compile_releases([first, second])
    assert {} == out["tender"]
    assert "awards" not in out


def test_empty_objects_and_arrays_change_nothing() -> None:
    """An empty object or array in a release leaves the earlier value (and adds no key)."""
    first = release("o", "1", "2024-01-01", tender={"title": "t"}, awards=[{"id": "a"}])
    second = release("o", "2", "2024-01-02", tender={}, awards=[], planning={})
    out = compile_releases([first, second])
    assert {"title": "t"} == out["tender"]
    assert [{"id": "a"}] == out["awards"]
    assert "planning" not in out


def test_arrays_of_objects_merge_by_id_and_append_the_rest() -> None:
    """Objects with the same id are merged (1 and "1" match); objects without id are appended."""
    first = release(
        "o",
        "1",
        "2024-01-01",
        awards=[{"id": 1, "status": "pending", "value": {"amount": 1}}],
        tender={"milestones": [{"title": "m"}]},
    )
    second = release(
        "o",
        "2",
        "2024-01-02",
        awards=[{"id": "2", "status": "active"}, {"id": "1", "status": "active"}],
        tender={"milestones": [{"title": "m"}]},
    )
    out = compile_releases([first, second])
    assert [
        {"id": 1, "status": "active", "value": {"amount": 1}},
        {"id": "2", "status": "active"},
    ] == out["awards"]
    assert [{"title": "m"}, {"title": "m"}] == out["tender"]["milestones"]


def test_whole_list_merge_and_lists_of_values_replace() -> None:
    """wholeListMerge arrays and arrays of non-objects replace the earlier array whole."""
    first = release(
        "o",
        "1",
        "2024-01-01",
        parties=[{"id": "p", "roles": ["buyer", "payer"]}],
        tender={"items": [{"id": "i", "additionalClassifications": [{"id": "A"}, {"id": "B"}]}]},
    )
    second = release(
        "o",
        "2",
        "2024-01-02",
        parties=[{"id": "p", "roles": ["supplier"]}],
        tender={"items": [{"id": "i", "additionalClassifications": [{"id": "C"}]}]},
    )
    out = compile_releases([first, second])
    assert ["supplier"] == out["parties"][0]["roles"]
    assert [{"id": "C"}] == out["tender"]["items"][0]["additionalClassifications"]


def test_duplicate_ids_in_one_release_are_merged_and_noted() -> None:
    """Two objects sharing an id in one release become one, and the merge says so."""
    notes = MergeNotes()
    out = compile_releases(
        [release("o", "1", "2024", awards=[{"id": "a", "x": 1}, {"id": "a", "y": 2}])],
        notes=notes,
    )
    assert [{"id": "a", "x": 1, "y": 2}] == out["awards"]
    assert ["awards"] == notes.duplicate_ids


def test_releases_are_merged_in_date_order_whatever_the_input_order() -> None:
    """The latest date wins; equal dates keep the input order (a stable sort)."""
    early = release("o", "1", "2024-01-01", title="early")
    late = release("o", "2", "2024-03-01", title="late")
    assert "late" == compile_releases([late, early])["title"]
    assert "late" == compile_releases([early, late])["title"]


def test_inputs_are_not_modified() -> None:
    """compile_releases leaves its input releases as they were."""
    first = release("o", "1", "2024-01-01", tender={"title": "a", "items": [{"id": "1"}]})
    second = release("o", "2", "2024-01-02", tender={"title": "b", "items": [{"id": "1", "q": 2}]})
    before = json.dumps([first, second], sort_keys=True)
    compile_releases([first, second])
    assert before == json.dumps([first, second], sort_keys=True)


def test_custom_rules_from_an_extended_schema(tmp_path: Path) -> None:
    """from_schema follows $ref and honours wholeListMerge added by an extension."""
    schema = {
        "properties": {
            "id": {"type": "string", "omitWhenMerged": True},
            "tender": {"$ref": "#/definitions/Tender"},
        },
        "definitions": {
            "Tender": {
                "type": "object",
                "properties": {
                    "lots": {"type": "array", "wholeListMerge": True, "items": {"type": "object"}}
                },
            }
        },
    }
    rules = MergeRules.from_schema(schema)
    assert {"tender/lots"} == set(rules.whole_list_merge)
    first = release("o", "1", "2024-01-01", tender={"lots": [{"id": "1"}, {"id": "2"}]})
    second = release("o", "2", "2024-01-02", tender={"lots": [{"id": "3"}]})
    assert [{"id": "3"}] == compile_releases([first, second], rules)["tender"]["lots"]


BODIES = st.lists(
    st.fixed_dictionaries({}, optional=dict.fromkeys("abcde", JSON)), min_size=1, max_size=4
)


@settings(max_examples=150, deadline=None)
@given(BODIES)
def test_consuming_merge_gives_the_same_result(bodies: list[dict[str, Any]]) -> None:
    """compile_releases(consume=True), which cleans the first release in place, is equivalent."""
    items = [release("o", str(i), f"2024-01-0{i + 1}", **body) for i, body in enumerate(bodies)]
    before = copy.deepcopy(items)
    expected = compile_releases(items)
    assert before == items, "compile_releases must not modify its input"
    assert expected == compile_releases(copy.deepcopy(items), consume=True)


def test_docs_list_every_warning_kind() -> None:
    """docs/ocds-ingest.md has a row for each warning kind."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "ocds-ingest.md").read_text("utf-8")
    for kind in WarningKind:
        assert f"| `{kind.value}` |" in text, kind
