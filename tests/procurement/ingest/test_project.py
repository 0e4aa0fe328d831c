"""Dropping the fields the tables never read changes nothing else: merge, report or rows.

The comparison is strict: the compiled releases with the dropped fields removed from both must
be equal (every other field, and whether every object and array exists), the ingest reports
must be equal, and flattening must give the same rows, on generated releases built to hit the
edge cases (nulls, empty objects, objects without ids that hold only dropped fields, lists of
values) and on every real sample.
"""

from __future__ import annotations

import copy
import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from tests.procurement.ingest.factory import ingest, package, release
from tipaudit.procurement.ingest import compile_releases
from tipaudit.procurement.ingest.project import Projection
from tipaudit.procurement.tables import FIELDS_NOT_READ, Flattener

PROJECTION = Projection(FIELDS_NOT_READ)


def strip(value: Any, spec: Mapping[str, Any] = FIELDS_NOT_READ) -> Any:
    """A copy of a compiled release without the fields of ``spec``."""
    if type(value) is list:
        return [strip(item, spec) if type(item) is dict else item for item in value]
    if type(value) is not dict:
        return value
    out = {}
    for key, item in value.items():
        if key not in spec:
            out[key] = item
        elif spec[key] is not None:
            out[key] = strip(item, spec[key])
    return out


@dataclass(frozen=True)
class _Match:
    label: str
    evidence: str


@dataclass(frozen=True)
class _Result:
    goods: tuple[_Match, ...]
    industries: tuple[_Match, ...] = ()


class EchoClassifier:
    """Puts everything it is given into its label, so that rows show any input that differs."""

    def classify_item(
        self,
        scheme: str | None,
        code: str | None,
        description: str | None,
        *,
        extra_text: str | None = None,
        classification_description: str | None = None,
        category: str | None = None,
    ) -> _Result:
        seen = repr((scheme, code, description, extra_text, classification_description, category))
        return _Result((_Match(seen, "echo"),))


class Rows:
    def __init__(self) -> None:
        self.rows: list[tuple[str, tuple[Any, ...]]] = []

    def add(self, table: str, row: Iterable[Any]) -> None:
        self.rows.append((table, tuple(row)))


def flatten(releases: Iterable[dict[str, Any]], classifier: Any = None) -> list[Any]:
    rows = Rows()
    flattener = Flattener(rows, classifier or EchoClassifier())  # type: ignore[arg-type]
    for item in releases:
        flattener.add(item, releases_merged=1, from_record=False, source_file=None)
    return rows.rows


# -- generated releases ---------------------------------------------------------------------

SCALAR = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["", "x", "y z"]))
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "a", "b"]), inner, max_size=3),
    ),
    max_leaves=6,
)
DROPPED = st.one_of(
    JSON,
    st.lists(
        st.fixed_dictionaries({}, optional={"id": st.sampled_from(["d1", "d2"]), "u": JSON}),
        max_size=3,
    ),
)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["i1", "i2"]),
        "description": SCALAR,
        "classification": st.fixed_dictionaries(
            {}, optional={"scheme": st.just("CPV"), "id": SCALAR}
        ),
    },
)


def _stage(kept: dict[str, Any], dropped: Iterable[str], with_id: bool) -> Any:
    optional: dict[str, Any] = dict(kept)
    optional.update(dict.fromkeys(dropped, DROPPED))
    optional["items"] = st.lists(ITEM, max_size=2)
    if with_id:
        optional["id"] = st.sampled_from(["s1", "s2"])
    return st.fixed_dictionaries({}, optional=optional)


TENDER = _stage({"title": SCALAR, "status": SCALAR}, ("documents", "milestones"), True)
AWARD = _stage(
    {
        "title": SCALAR,
        "suppliers": st.lists(
            st.fixed_dictionaries({"id": st.sampled_from(["p1", "p2"]), "name": SCALAR}),
            max_size=2,
        ),
    },
    ("documents",),
    True,
)
CONTRACT = _stage(
    {"title": SCALAR, "awardID": SCALAR}, ("documents", "implementation", "milestones"), True
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "tender": st.one_of(TENDER, st.none(), st.just("not an object")),
        "awards": st.one_of(st.lists(AWARD, max_size=3), st.none(), st.just([1, {"id": "a"}])),
        "contracts": st.lists(CONTRACT, max_size=2),
        "planning": DROPPED,
        "bids": DROPPED,
        "parties": st.lists(
            st.fixed_dictionaries(
                {"id": st.sampled_from(["p1", "p2"])},
                optional={"name": SCALAR, "roles": st.just(["supplier"])},
            ),
            max_size=2,
        ),
    },
)


@st.composite
def releases_of_one_ocid(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 4))
    days = draw(st.permutations(range(1, 29)))
    return [
        {"ocid": "ocds-p-1", "id": f"r{n}", "date": f"2024-03-{days[n]:02d}", **draw(BODY)}
        for n in range(count)
    ]


def _dropped(items: list[dict[str, Any]], *, published: bool = False) -> list[dict[str, Any]]:
    out = copy.deepcopy(items)
    for item in out:
        PROJECTION.drop(item, published=published)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(releases_of_one_ocid())
def test_merging_without_the_dropped_fields_changes_no_other_field(
    releases: list[dict[str, Any]],
) -> None:
    full = compile_releases(copy.deepcopy(releases), ocid="ocds-p-1")
    lean = compile_releases(_dropped(releases), ocid="ocds-p-1")
    assert strip(full) == strip(lean)
    assert flatten([full]) == flatten([lean])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(releases_of_one_ocid())
def test_a_published_compiled_release_keeps_every_other_field(
    releases: list[dict[str, Any]],
) -> None:
    published = releases[0]
    lean = _dropped([published], published=True)[0]
    assert strip(published) == strip(lean)
    assert flatten([published]) == flatten([lean])


def test_an_object_holding_only_dropped_fields_still_exists() -> None:
    """An award with only documents is an award; a contract with only `[]` documents is not."""
    releases = [
        release(
            "ocds-p-2",
            "r1",
            "2024-01-01",
            tender={"documents": [{"id": "d"}]},
            awards=[{"documents": [{"url": "x"}]}],
            contracts=[{"documents": []}],
        ),
    ]
    lean = compile_releases(_dropped(releases), ocid="ocds-p-2")
    assert {"documents": 1} == lean["tender"]
    assert [{"documents": 1}] == lean["awards"]
    assert "contracts" not in lean
    tables = [table for table, _ in flatten([lean])]
    assert tables.count("tenders") == 1
    assert tables.count("awards") == 1
    assert tables.count("contracts") == 0


def test_a_later_null_removes_a_dropped_field_as_it_would_the_field() -> None:
    first = release("ocds-p-3", "r1", "2024-01-01", tender={"documents": [{"id": "d"}]})
    second = release("ocds-p-3", "r2", "2024-02-01", tender={"documents": None})
    lean = compile_releases(_dropped([first, second]), ocid="ocds-p-3")
    full = compile_releases([copy.deepcopy(first), copy.deepcopy(second)], ocid="ocds-p-3")
    assert {} == full["tender"] == lean["tender"]


# -- through the ingest: reports and conflicts -------------------------------------------------


def test_shared_ids_are_warned_about_in_the_fields_that_are_merged(tmp_path: Path) -> None:
    """Items sharing an id are merged and warned about; documents sharing one are dropped."""
    shared = [{"id": "1", "description": "a"}, {"id": "1", "description": "b"}]
    path = _write(
        tmp_path / "a.json.gz",
        [release("ocds-p-5", "r1", "2024-01-01", tender={"items": shared, "documents": shared})],
    )
    (full, full_report), (lean, lean_report) = _both([path])
    assert 2 == full_report.warnings["duplicate_array_id"].count
    assert 1 == lean_report.warnings["duplicate_array_id"].count
    assert [{"id": "1", "description": "b"}] == full[0].release["tender"]["items"]
    assert full[0].release["tender"]["items"] == lean[0].release["tender"]["items"]


def _write(path: Path, releases: list[dict[str, Any]]) -> Path:
    path.write_bytes(gzip.compress(orjson.dumps(package(releases))))
    return path


def _both(paths: list[Path], **options: Any) -> tuple[Any, Any]:
    full = ingest(paths, **options)
    lean = ingest(paths, drop_fields=FIELDS_NOT_READ, **options)
    return full, lean


@pytest.mark.parametrize(
    "options",
    [{}, {"workers": 2, "memory_budget_bytes": 2**20}],
    ids=["in memory", "spilled, two workers"],
)
def test_duplicates_and_conflicts_are_told_apart_by_the_dropped_fields_too(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    """Same ocid and id: equal everywhere is a duplicate; documents that differ, a conflict."""
    base = release("ocds-p-4", "r1", "2024-01-01", tender={"title": "Boots"})
    same = {**base, "tender": {"title": "Boots", "documents": [{"id": "d1", "url": "a"}]}}
    reordered = {"tender": {"documents": [{"url": "a", "id": "d1"}], "title": "Boots"}}
    other_docs = {**same, "tender": {"title": "Boots", "documents": [{"id": "d1", "url": "b"}]}}
    padding = [release(f"ocds-p-x{i}", "r1", "2024-01-01") for i in range(2000)]
    paths = [
        _write(tmp_path / "a.json.gz", [same, *padding[:1000]]),
        _write(tmp_path / "b.json.gz", [{**base, **reordered}, *padding[1000:]]),
        _write(tmp_path / "c.json.gz", [other_docs]),
    ]
    (full, full_report), (lean, lean_report) = _both(paths, **options)
    assert 1 == full_report.identical_duplicates == lean_report.identical_duplicates
    assert 1 == len(full_report.conflicts) == len(lean_report.conflicts)
    assert full_report.to_dict() == lean_report.to_dict()
    assert [strip(c.release) for c in full] == [strip(c.release) for c in lean]


# -- the real samples ------------------------------------------------------------------------


@pytest.mark.shared
def test_every_real_sample_gives_the_same_tables_and_report() -> None:
    root = shared_path("data", "ocds", "sample-data-real-examples")
    (full, full_report), (lean, lean_report) = _both([root], on_error="skip")
    assert len(full) == len(lean) > 500
    full_dict, lean_dict = full_report.to_dict(), lean_report.to_dict()
    # Objects sharing an id in dropped fields (documents, above all) are not merged, so not
    # warned about; everything else in the report is the same.
    full_ids = full_dict["warnings"].pop("duplicate_array_id")
    lean_ids = lean_dict["warnings"].pop("duplicate_array_id")
    assert full_dict == lean_dict
    assert 0 < lean_ids["count"] < full_ids["count"]
    assert [c.ocid for c in full] == [c.ocid for c in lean]
    assert [strip(c.release) for c in full] == [strip(c.release) for c in lean]
    assert flatten(c.release for c in full) == flatten(c.release for c in lean)
    # and the fields are really gone: the samples are full of documents
    documents = sum(b"documents" in orjson.dumps(c.release) for c in full)
    assert documents > 100
    assert not any(
        "documents" in c.release.get("tender", {}) and c.release["tender"]["documents"] != 1
        for c in lean
        if isinstance(c.release.get("tender"), dict)
    )
