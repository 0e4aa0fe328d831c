"""Watchlist imports: versions, added/changed/removed diffs, kept history, audit, match index."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tipaudit.errors import NotFoundError, PermissionDeniedError, ValidationError
from tipaudit.screening import Query, screen
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.services.watchlists import Watchlists
from tipaudit.storage.watchlists import WatchlistEntry

HEADER = "id,name,aliases,schema,country,identifiers,list,reason,source_url,start_date,end_date\n"


def _write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def watchlists(services: Services) -> Watchlists:
    return Watchlists(services.db, services.audit)


def test_reimport_records_added_changed_removed(
    services: Services, watchlists: Watchlists, tmp_path: Path
) -> None:
    """A second version counts added, changed and removed entries; nothing is deleted."""
    v1 = _write(
        tmp_path / "v1.csv",
        "a,Alpha Example Ltd,,Company,GB,,Test,listed,,,",
        "b,Beta Example Ltd,,Company,FR,,Test,listed,,,",
        "c,Gamma Example,,Person,DE,,Test,listed,,,",
    )
    first = watchlists.import_list(
        "system:cli", "test-list", v1, "csv", title="Test list", version_date=date(2024, 1, 1)
    )
    assert (3, 3, 0, 0) == (first.entries, first.added, first.changed, first.removed)
    v2 = _write(
        tmp_path / "v2.csv",
        "a,Alpha Example Ltd,,Company,GB,,Test,listed,,,",
        "b,Beta Example Limited,,Company,FR,,Test,listed again,,,",
        "d,Delta Example,,Person,ES,,Test,listed,,,",
    )
    second = watchlists.import_list("system:cli", "test-list", v2, "csv")
    assert (3, 1, 1, 1, 1) == (
        second.entries,
        second.added,
        second.changed,
        second.removed,
        second.unchanged,
    )
    assert ["a", "b", "d"] == [e.id for e in watchlists.entries("test-list")]
    everything = watchlists.entries("test-list", include_removed=True)
    assert ["a", "b", "c", "d"] == [e.id for e in everything]
    with services.db.read() as session:
        rows = {r.entity_id: r for r in session.query(WatchlistEntry)}
        assert second.version_id == rows["c"].removed_in_version_id
        assert first.version_id == rows["a"].first_version_id
        assert second.version_id == rows["a"].last_version_id
        assert "Beta Example Limited" == rows["b"].name
    # Back again in a third version: counted as added, the removal mark cleared.
    third = watchlists.import_list("system:cli", "test-list", v1, "csv")
    assert (1, 1, 1) == (third.added, third.changed, third.removed)
    (info,) = watchlists.lists()
    assert ("test-list", "Test list", 3, 3) == (info.slug, info.title, info.entries, info.versions)
    events = services.audit.events_for("watchlist", "test-list")
    assert 3 == len(events)
    assert {"watchlist.imported"} == {e.action for e in events}
    details = events[1].details  # oldest first
    assert second.version_id == details["version_id"]
    assert (1, 1, 1, "v2.csv") == (
        details["added"],
        details["changed"],
        details["removed"],
        details["file_name"],
    )


def test_index_screens_active_entries_of_several_lists(
    watchlists: Watchlists, tmp_path: Path
) -> None:
    """The index holds active entries of the named lists; a shared id is qualified by list."""
    _write(tmp_path / "one.csv", "x,Anatolian Example Garments Ltd,,Company,TR,,One,r,,,")
    _write(tmp_path / "two.csv", "x,Example Brick Kilns,,Company,PK,,Two,r,,,")
    watchlists.import_list("system:cli", "one", tmp_path / "one.csv", "csv")
    watchlists.import_list("system:cli", "two", tmp_path / "two.csv", "csv")
    index = watchlists.index(["one", "two"])
    assert 2 == len(index)
    (best, *_) = screen(index, Query("q", "Company", ("Example Brick Kiln",), countries=("PK",)))
    assert "two:x" == best.entity_id
    assert best.match
    with pytest.raises(NotFoundError):
        watchlists.index(["absent"])
    with pytest.raises(ValidationError):
        watchlists.index([""])


def test_import_refuses_bad_input(watchlists: Watchlists, tmp_path: Path) -> None:
    """Bad slugs, formats, duplicate ids and empty lists are refused before anything is written."""
    good = _write(tmp_path / "good.csv", "a,Alpha,,Company,GB,,T,r,,,")
    with pytest.raises(ValidationError, match="not a list name"):
        watchlists.import_list("system:cli", "Bad Slug", good, "csv")
    with pytest.raises(ValidationError, match="unknown format"):
        watchlists.import_list("system:cli", "ok", good, "xml")
    dup = _write(tmp_path / "dup.csv", "a,Alpha,,Company,GB,,T,r,,,", "a,Alpha 2,,Company,,,T,r,,,")
    with pytest.raises(ValidationError, match="more than once"):
        watchlists.import_list("system:cli", "ok", dup, "csv")
    result = watchlists.import_list("system:cli", "ok", dup, "csv", skip_bad=True)
    assert (1, 1) == (result.entries, result.skipped)
    with pytest.raises(ValidationError, match="no list entries"):
        watchlists.import_list("system:cli", "ok", _write(tmp_path / "empty.csv"), "csv")
    assert 1 == watchlists.lists()[0].versions


def test_staff_user_needs_permission(watchlists: Watchlists, tmp_path: Path) -> None:
    """A staff user without the reference-data permission cannot import a list."""
    user = StaffUser(1, "viewer", "Viewer", frozenset(), True, False)
    good = _write(tmp_path / "good.csv", "a,Alpha,,Company,GB,,T,r,,,")
    with pytest.raises(PermissionDeniedError):
        watchlists.import_list(user, "ok", good, "csv")
