"""Property: however releases are split across files, shapes and orders, the result is the same."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.procurement.ingest.factory import SHAPES, by_ocid, ingest, write_shape
from tipaudit.procurement.ingest import compile_releases

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
VALUE = st.one_of(st.none(), st.integers(-5, 5), TEXT, st.booleans())
ORG = st.fixed_dictionaries(
    {"id": st.sampled_from(["p1", "p2", "p3"])},
    optional={
        "name": VALUE,
        "roles": st.lists(st.sampled_from(["buyer", "supplier", "tenderer"]), max_size=2),
    },
)
AWARD = st.fixed_dictionaries(
    {"id": st.sampled_from(["a1", "a2"])},
    optional={
        "status": VALUE,
        "value": st.fixed_dictionaries({}, optional={"amount": VALUE, "currency": VALUE}),
        "items": st.lists(
            st.fixed_dictionaries({"id": st.sampled_from(["i1", "i2"])}, optional={"q": VALUE}),
            max_size=2,
        ),
    },
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "tender": st.fixed_dictionaries(
            {}, optional={"title": VALUE, "value": st.none(), "milestones": st.just([{"t": 1}])}
        ),
        "awards": st.lists(AWARD, max_size=2),
        "parties": st.lists(ORG, max_size=2),
        "note": VALUE,
    },
)


@st.composite
def releases(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Releases of 1-3 ocids; dates and ids unique within an ocid (so order is by date)."""
    count = draw(st.integers(1, 8))
    ocids = draw(
        st.lists(
            st.sampled_from(["ocds-q-1", "ocds-q-2", "ocds-q-3"]), min_size=count, max_size=count
        )
    )
    days = draw(st.permutations(range(1, 29)))
    out = []
    for n, ocid in enumerate(ocids):
        item = {
            "ocid": ocid,
            "id": f"r{n}",
            "date": f"2024-02-{days[n]:02d}T00:00:00Z",
            "tag": ["tender"],
        }
        item.update(draw(BODY))
        out.append(item)
    return out


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, bool, list[int]]]]:
    """Releases, and how to write them: files of (shape, gzipped, release positions)."""
    items = draw(releases())
    files = draw(st.integers(1, 4))
    owner = [draw(st.integers(0, files - 1)) for _ in items]
    # Some releases are also copied into another file: identical duplicates are harmless.
    copies = [draw(st.integers(-1, files - 1)) for _ in items]
    plan = []
    for f in range(files):
        members = [i for i, o in enumerate(owner) if o == f] + [
            i for i, c in enumerate(copies) if c == f and owner[i] != f
        ]
        members = draw(st.permutations(members))
        plan.append((draw(st.sampled_from(SHAPES)), draw(st.booleans()), list(members)))
    return items, draw(st.permutations(plan))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_any_split_gives_the_same_compiled_releases(
    layout: tuple[list[dict[str, Any]], list[tuple[str, bool, list[int]]]],
) -> None:
    """Files, shapes (gzipped or not), file order and order inside files do not matter."""
    items, plan = layout
    expected: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        expected.setdefault(item["ocid"], []).append(item)
    want = {ocid: compile_releases(group) for ocid, group in expected.items()}
    with tempfile.TemporaryDirectory() as folder:
        paths: list[Path] = []
        for n, (shape, gz, members) in enumerate(plan):
            paths += write_shape(Path(folder), f"f{n}", shape, [items[i] for i in members], gz=gz)
        compiled, report = ingest(paths)
    assert want == by_ocid(compiled)
    assert 0 == report.conflict_count
    assert 0 == report.skipped_count
    assert {o: len(g) for o, g in expected.items()} == {c.ocid: c.releases_merged for c in compiled}
