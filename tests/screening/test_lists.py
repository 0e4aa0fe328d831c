"""Reading watchlists (FtM lines, OpenSanctions targets CSV, plain CSV) and names to screen."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tipaudit.errors import ValidationError
from tipaudit.screening.lists import (
    MAX_LINE_BYTES,
    ReadStats,
    read_list,
    read_queries,
)

DATA = Path(__file__).resolve().parents[2] / "src" / "tipaudit" / "screening" / "data"


def _ftm(*entities: Mapping[str, object]) -> str:
    return "".join(json.dumps(e) + "\n" for e in entities)


PERSON = {
    "id": "os-1",
    "caption": "Ivan Petrov",
    "schema": "Person",
    "properties": {
        "name": ["Ivan Petrov"],
        "alias": ["Иван Петров"],
        "nationality": ["ru"],
        "country": ["Russia"],
        "birthDate": ["1970-05-01"],
        "passportNumber": ["AB 123-456"],
        "topics": ["sanction"],
        "sourceUrl": ["https://example.org/list#1"],
    },
    "datasets": ["example"],
    "first_seen": "2024-01-01T00:00:00",
    "last_seen": "2024-06-01T00:00:00",
}
COMPANY = {
    "id": "os-2",
    "schema": "Company",
    "properties": {"name": ["Acme Trading LLC"], "innCode": ["7701234567"], "jurisdiction": ["ru"]},
}
BODY = {"id": "os-3", "schema": "PublicBody", "properties": {"name": ["Ministry of Examples"]}}
SANCTION = {"id": "os-s1", "schema": "Sanction", "properties": {"entity": ["os-1"]}}


def test_ftm_keeps_people_and_bodies(tmp_path: Path) -> None:
    """FtM lines become entities with normalised countries, dates and ids; others are ignored."""
    path = tmp_path / "entities.ftm.json"
    path.write_text(_ftm(PERSON, SANCTION, COMPANY, BODY), encoding="utf-8")
    stats = ReadStats()
    entities = list(read_list(path, "ftm", list_id="os", stats=stats))
    assert ["os-1", "os-2", "os-3"] == [e.id for e in entities]
    person, company, body = entities
    assert ("Ivan Petrov", "Иван Петров") == person.names
    assert ("RU",) == person.countries
    assert ("1970-05-01",) == person.birth_dates
    assert ("passport:ab123456",) == person.identifiers
    assert "https://example.org/list#1" == person.source_url
    assert "os" == person.list_id
    assert "sanction" in person.reason
    assert ("inn:7701234567",) == company.identifiers
    assert ("RU",) == company.countries
    assert "Organization" == body.schema
    assert 1 == stats.ignored
    assert 3 == stats.entities
    assert 0 == stats.skipped


def test_targets_simple_csv(tmp_path: Path) -> None:
    """OpenSanctions targets.simple.csv rows: aliases, countries, identifiers, phones, emails."""
    path = tmp_path / "targets.simple.csv"
    path.write_text(
        "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,"
        "emails,dataset,first_seen,last_seen\n"
        'NK-1,Person,Maria Example,"Mariya Example;M. Example",1980-02-03,"mx;us",,X-99,'
        "Example sanctions programme,+1 555 0100,m@example.org,Example list,2024-01-01,2024-02-01\n"
        "NK-2,Vessel,Example Ship,,,,,IMO1234567,,,,Example list,2024-01-01,2024-02-01\n",
        encoding="utf-8",
    )
    stats = ReadStats()
    (entity,) = read_list(path, "targets", stats=stats)
    assert ("Maria Example", "Mariya Example", "M. Example") == entity.names
    assert ("MX", "US") == entity.countries
    assert {"id:x99", "phone:15550100", "email:m@example.org"} == set(entity.identifiers)
    assert "Example sanctions programme" == entity.reason
    assert 1 == stats.ignored


def test_sample_lists_parse() -> None:
    """Both shipped sample lists read cleanly; the fictional one says so on every entry."""
    un = list(read_list(DATA / "un-sc-sample.csv", "csv"))
    assert 683 == len(un)
    assert all(e.id.startswith("un-sc-") and e.schema == "Person" for e in un)
    assert "UN Security Council sanctions" == un[0].reason
    fictional = list(read_list(DATA / "fictional-demo-list.csv", "csv"))
    assert fictional
    for entity in fictional:
        assert all("(fictional)" in name for name in entity.names)
        assert "FICTIONAL" in entity.reason
    assert ("TR",) == fictional[0].countries


@pytest.mark.parametrize(
    ("fmt", "content", "message"),
    [
        (
            "ftm",
            b'{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n{bad\n',
            "line 2: not valid JSON",
        ),
        (
            "ftm",
            b'{"schema": "Person", "properties": {"name": ["A"]}}\n',
            "line 1: the entry has no id",
        ),
        ("ftm", b'{"id": "a", "schema": "Person", "properties": {}}\n', "has no name"),
        ("ftm", b'{"id": "a", "schema": 3}\n', "unknown schema"),
        ("ftm", b"[1, 2]\n", "one JSON object"),
        ("csv", b"id,name,schema\na,Alpha,Persn\n", "line 2: unknown schema"),
        ("csv", b"id,name\n,Alpha\n", "line 2: the entry has no id"),
        ("csv", b"id,name\na,Alpha,extra\n", "line 2: 3 cells"),
        ("csv", b"identifier,title\na,b\n", "missing column(s) id, name"),
        ("csv", b"id,name\na,Caf\xe9\n", "line 2: not UTF-8"),
        ("csv", b"", "the file is empty"),
        ("targets", b"id,name\n", "missing column(s)"),
    ],
)
def test_hostile_input_names_file_and_line(
    tmp_path: Path, fmt: str, content: bytes, message: str
) -> None:
    """Malformed input raises ValidationError naming the file and, where there is one, the line."""
    path = tmp_path / "bad-list.txt"
    path.write_bytes(content)
    with pytest.raises(ValidationError) as info:
        list(read_list(path, fmt))
    assert "bad-list.txt" in str(info.value)
    assert message in str(info.value)


def test_huge_line_and_file_limits(tmp_path: Path) -> None:
    """A line over 1 MB is refused (or skipped), and so is a file over the size limit."""
    path = tmp_path / "huge.ftm.json"
    big = {"id": "x", "schema": "Person", "properties": {"name": ["A" * (MAX_LINE_BYTES + 10)]}}
    path.write_text(_ftm(big, BODY), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"huge\.ftm\.json, line 1: the line is longer"):
        list(read_list(path, "ftm"))
    stats = ReadStats()
    assert ["os-3"] == [e.id for e in read_list(path, "ftm", skip_bad=True, stats=stats)]
    assert 1 == stats.skipped
    assert "line 1" in stats.problems[0]
    with pytest.raises(ValidationError, match="larger than the limit"):
        list(read_list(path, "ftm", max_bytes=1000))


def test_skip_bad_rows_are_counted(tmp_path: Path) -> None:
    """With skip_bad, bad rows are skipped and counted with their line numbers."""
    path = tmp_path / "mixed.ftm.json"
    path.write_bytes(
        _ftm(PERSON).encode() + b"{not json\n" + b"\xff\xfe\n" + _ftm(COMPANY).encode()
    )
    stats = ReadStats()
    ids = [e.id for e in read_list(path, "ftm", skip_bad=True, stats=stats)]
    assert ["os-1", "os-2"] == ids
    assert 2 == stats.skipped
    assert any("line 2" in p for p in stats.problems)
    assert any("line 3" in p and "UTF-8" in p for p in stats.problems)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    """An unknown format or a missing file is a clear error."""
    with pytest.raises(ValidationError, match="unknown list format"):
        list(read_list(tmp_path / "x.csv", "xml"))
    with pytest.raises(ValidationError, match="cannot read"):
        list(read_list(tmp_path / "absent.csv", "csv"))


def test_unresolved_countries_are_dropped_and_counted(tmp_path: Path) -> None:
    """A country that does not resolve is dropped from the entry and counted."""
    path = tmp_path / "list.csv"
    path.write_text("id,name,country\na,Alpha,Atlantis;France\n", encoding="utf-8")
    stats = ReadStats()
    (entity,) = read_list(path, "csv", stats=stats)
    assert ("FR",) == entity.countries
    assert 1 == stats.unresolved_countries


def test_read_queries_csv_and_json(tmp_path: Path) -> None:
    """Names to screen come from CSV or JSON: id and name, optional schema/country/identifier."""
    csv_path = tmp_path / "names.csv"
    csv_path.write_text(
        "id,name,schema,country,identifier\nq1,Anatolian Example Garments Limited,Company,"
        "Turkey,TR-FICT:FICT-0001\nq2,Jane Example,,,\n",
        encoding="utf-8",
    )
    q1, q2 = read_queries(csv_path)
    assert ("TR",) == q1.countries
    assert ("tr-fict:fict0001",) == q1.identifiers
    assert "LegalEntity" == q2.schema
    json_path = tmp_path / "names.json"
    json_path.write_text(json.dumps([{"id": "q1", "name": "Example", "schema": "Person"}]))
    (query,) = read_queries(json_path)
    assert "Person" == query.schema


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("names.csv", "id,title\nq1,x\n", "missing column(s) name"),
        ("names.csv", "id,name\nq1,\n", "line 2: entry 'q1' has no name"),
        ("names.csv", "id,name\n", "no names to screen"),
        ("names.json", "{", "not valid JSON"),
        ("names.json", '{"a": 1}', "expected a JSON array"),
        ("names.json", '[{"id": "q1"}]', "item 1: entry 'q1' has no name"),
        ("names.json", "[3]", "item 1: not a JSON object"),
    ],
)
def test_read_queries_rejects_bad_files(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    """A bad file of names is a clear error naming the file and line or item."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_queries(path)
    assert name in str(info.value)
    assert message in str(info.value)
