"""Every real OCDS sample in ../shared ingests; counts match the README; warnings are sensible."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, shared_path
from tests.procurement.ingest.factory import ingest
from tipaudit.procurement.ingest import UnreadableInputError, WarningKind

pytestmark = pytest.mark.shared

EMPTY_FILES = {"283826.json", "283906.json", "284456.json"}


def _root() -> Path:
    return shared_path("data", "ocds", "sample-data-real-examples")


def _readme_ocids(path: Path | None = None) -> dict[str, int]:
    """The ``ocids`` column of the per-folder table in the OCDS README."""
    path = path or shared_path("data", "ocds", "README.md")
    text = path.read_text(encoding="utf-8")
    table: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"\| `([^`]+/sample/[^`]+)` \|", line)
        if match:
            cells = [c.strip() for c in line.strip("|").split("|")]
            table[match.group(1)] = int(cells[6])
    return table


def test_readme_table_is_read() -> None:
    """The README table lists all 28 sample folders, e.g. 292 ocids for the GACM releases."""
    table = _readme_ocids()
    assert 28 == len(table)
    assert 292 == table["mexico/grupo-aeroportuario/sample/releases"]


_README = SHARED / "data" / "ocds" / "README.md"


@pytest.mark.parametrize("folder", sorted(_readme_ocids(_README)) if _README.exists() else [])
def test_each_folder_yields_the_readme_number_of_ocids(folder: str) -> None:
    """One compiled release per distinct ocid, as counted in the README."""
    compiled, report = ingest([_root() / folder], on_error="skip")
    assert _readme_ocids()[folder] == len(compiled) == report.ocids
    assert len({c.ocid for c in compiled}) == len(compiled)
    assert report.merged + report.compiled_from_records == report.ocids
    for item in compiled:
        assert item.ocid == item.release["ocid"]
        assert item.sources
        if not item.from_record:
            assert ["compiled"] == item.release["tag"]
            assert item.release["id"].startswith(item.ocid)


def test_all_samples_ingest_and_the_empty_files_are_skipped() -> None:
    """All 780 files read with on_error="skip"; exactly the 3 empty Paraguay files are skipped."""
    compiled, report = ingest([_root()], on_error="skip")
    assert 780 == report.files
    assert 17_795_465 == report.bytes
    assert 777 == report.documents
    assert 3 == report.skipped_count
    assert EMPTY_FILES == {Path(s.file).name for s in report.skipped}
    assert all("empty file" == s.reason for s in report.skipped)
    assert all(s.position.line == 1 and s.position.offset == 0 for s in report.skipped)
    assert len(compiled) == report.ocids > 600
    # The records and releases folders of one publisher overlap: copies are dropped.
    assert report.identical_duplicates > 0
    assert report.conflict_count == len(report.conflicts) > 0
    for conflict in report.conflicts:
        assert conflict.kept_date is not None
        assert conflict.dropped_date is not None
        assert conflict.kept_date >= conflict.dropped_date


def test_fail_mode_names_the_empty_file() -> None:
    """With on_error="fail" the first empty file stops the run and is named."""
    folder = _root() / "paraguay" / "sample" / "records"
    with pytest.raises(UnreadableInputError, match=r"283826\.json.*empty file") as caught:
        ingest([folder])
    assert caught.value.file.endswith("283826.json")
    assert "document 1" == caught.value.index
    assert "line 1, byte 0" == caught.value.position
    assert "unreadable_ocds_input" == caught.value.code


def test_warning_kinds_found_in_real_data() -> None:
    """The known quirks of the samples show up as counted warnings with examples."""
    _, report = ingest([_root()], on_error="skip")
    counts = {kind: summary.count for kind, summary in report.warnings.items()}
    # Moldova writes tender.value.amount as a string; Montréal and Taiwan write tag as a string.
    assert counts[WarningKind.WRONG_TYPE] >= 51 + 10 + 11
    # Many 2016-era packages have no "version"; many releases use 1.0 organisations.
    assert counts[WarningKind.MISSING_VERSION] > 100
    assert counts[WarningKind.OCDS_1_0_FORM] > 300
    # Jalisco and Paraguay records link to their releases by URL only.
    assert counts[WarningKind.LINKED_RELEASE_NOT_FETCHED] == 49 + 48
    assert counts[WarningKind.RECORD_WITHOUT_RELEASES] == 2
    for summary in report.warnings.values():
        assert 1 <= len(summary.examples) <= 5
        assert all(e.file and e.detail for e in summary.examples)
    moldova = [
        e
        for e in report.warnings[WarningKind.WRONG_TYPE].examples
        if "tender.value.amount is a string" in e.detail
    ]
    assert moldova or counts[WarningKind.WRONG_TYPE] > 5


def test_moldova_amounts_are_kept_as_published() -> None:
    """A wrong-typed value is kept as is: later stages parse values."""
    compiled, report = ingest([_root() / "moldova" / "sample" / "releases"])
    amounts = [c.release["tender"]["value"]["amount"] for c in compiled]
    assert all(isinstance(a, str) for a in amounts)
    assert 51 == report.warning_count(WarningKind.WRONG_TYPE)


def test_paraguay_records_use_the_published_compiled_release() -> None:
    """Records with compiledRelease are used as published; loose releases of them are not."""
    compiled, report = ingest([_root() / "paraguay" / "sample" / "records"], on_error="skip")
    assert 10 == report.compiled_from_records == len(compiled)
    assert all(c.from_record and 0 == c.releases_merged for c in compiled)
    assert 4 == report.warning_count(WarningKind.RELEASES_IGNORED_FOR_COMPILED_RELEASE)


def test_ingest_never_opens_a_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """URLs in the data (linked releases, extensions, schema) are never fetched."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the ingest tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    compiled, report = ingest([_root() / "mexico" / "jalisco"], on_error="skip")
    assert 10 == len(compiled)  # the 3 ocids of the releases folder also have records
    assert report.warning_count(WarningKind.LINKED_RELEASE_NOT_FETCHED) == 49


def test_report_renders_for_people_and_machines() -> None:
    """to_dict is JSON-ready and the summary names files, skips and warnings."""
    compiled, report = ingest([_root() / "paraguay"], on_error="skip")
    data = json.loads(json.dumps(report.to_dict()))
    assert 3 == data["skipped_count"]
    assert {"file", "position", "index", "reason"} == set(data["skipped"][0])
    assert data["warnings"]["linked_release_not_fetched"]["count"] == 48
    text = report.summary()
    assert "283826.json" in text
    assert "linked_release_not_fetched: 48" in text
    assert f"Compiled {len(compiled)} contracting processes" in text
