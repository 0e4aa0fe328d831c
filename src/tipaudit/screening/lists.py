"""Reading watchlists into :class:`ListEntity` records: FtM lines, OpenSanctions CSV, plain CSV.

Three formats are read (see ``docs/watchlists.md``):

``ftm``
    FollowTheMoney entities, one JSON object per line (``id, caption, schema, properties, …``).
    Only people and bodies (``Person``, ``Organization``, ``Company``, ``LegalEntity``,
    ``PublicBody``) become list entries; other schemata (``Sanction``, ``Address``, ``Vessel``,
    …) are counted as ignored.
``targets``
    OpenSanctions ``targets.simple.csv`` (``id, schema, name, aliases, birth_date, countries,
    addresses, identifiers, sanctions, phones, emails, dataset, first_seen, last_seen``).
``csv``
    A plain CSV for lists kept by hand (``id, name, aliases, schema, country, identifiers, list,
    reason, source_url, start_date, end_date``); several values in one cell are ``;``-separated.

Reading is streaming and strict: the file is read line by line (memory bounded by the longest
line), and input that is not UTF-8, a line over :data:`MAX_LINE_BYTES`, a file over the size
limit, a bad JSON line, a row without id or name, or an unknown schema raises
:class:`~tipaudit.errors.ValidationError` naming the file and the line. With ``skip_bad=True``
bad rows are skipped and counted in :class:`ReadStats` instead (a file that is too large, or
not a list at all, still fails). Countries are resolved to ISO alpha-2 codes with
:func:`tipaudit.core.countries.resolve_country`; a country that does not resolve is dropped
and counted.

Pure: no database, no network.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from tipaudit.core.countries import resolve_country
from tipaudit.errors import ValidationError
from tipaudit.screening.model import (
    SCHEMAS,
    ListEntity,
    Query,
    Schema,
    normalise_date,
    normalise_identifier,
)

ListFormat = Literal["ftm", "targets", "csv"]
FORMATS: tuple[ListFormat, ...] = get_args(ListFormat)

#: The longest line accepted (bytes, newline included).
MAX_LINE_BYTES = 1_000_000
#: The largest file accepted by default (bytes): OpenSanctions' default collection is ~1.5 GB
#: as FtM, so larger exports are read with an explicit, higher limit.
MAX_FILE_BYTES = 2_000_000_000
#: Names (name plus aliases) kept per entity; the rest are dropped.
MAX_NAMES = 200
#: How many problems a :class:`ReadStats` keeps word for word.
MAX_PROBLEMS = 20

#: Schemata read as list entries, and what each becomes in the matcher.
PARTY_SCHEMATA: Mapping[str, Schema] = {
    "Person": "Person",
    "Organization": "Organization",
    "Company": "Company",
    "LegalEntity": "LegalEntity",
    "PublicBody": "Organization",
}

#: FtM property name -> identifier scheme.
FTM_IDENTIFIERS: Mapping[str, str] = {
    "registrationNumber": "registration",
    "taxNumber": "tax",
    "innCode": "inn",
    "ogrnCode": "ogrn",
    "leiCode": "lei",
    "idNumber": "id",
    "passportNumber": "passport",
    "vatCode": "vat",
    "swiftBic": "bic",
    "dunsCode": "duns",
    "uniqueEntityId": "uei",
    "npiCode": "npi",
    "okpoCode": "okpo",
    "email": "email",
    "phone": "phone",
}
FTM_COUNTRIES = ("country", "nationality", "citizenship", "jurisdiction", "mainCountry")
FTM_NAMES = ("name", "alias", "previousName", "weakAlias")

_SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z]{1,40}$")
_SPLIT = ";"
_TEXT_LIMIT = 2000


@dataclass
class ReadStats:
    """What a read produced: entities, ignored records, skipped bad rows and dropped countries."""

    entities: int = 0
    ignored: int = 0
    skipped: int = 0
    unresolved_countries: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, problem: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


_Built = tuple[ListEntity, int]
_T = TypeVar("_T")


class _RowError(Exception):
    """A problem with one row; becomes a ValidationError or a skipped row."""


class _Ignore(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A record that is well-formed but not a list entry (another schema)."""


def read_list(
    path: Path,
    fmt: str,
    *,
    list_id: str = "",
    skip_bad: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    stats: ReadStats | None = None,
) -> Iterator[ListEntity]:
    """Stream the list entities of a file in format ``fmt`` (one of :data:`FORMATS`).

    ``list_id`` is put on every entity. Pass a :class:`ReadStats` to learn how many rows were
    ignored or skipped.
    """
    if fmt not in FORMATS:
        raise ValidationError(
            f"unknown list format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    stats = stats if stats is not None else ReadStats()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if not path.is_file():
        raise ValidationError(f"{path.name}: not a file")
    if size > max_bytes:
        raise ValidationError(
            f"{path.name}: {size:,} bytes is larger than the limit of {max_bytes:,}",
            hint="raise the limit explicitly for a larger export",
        )
    lines = _lines(path, skip_bad=skip_bad, max_bytes=max_bytes, stats=stats)
    if fmt == "ftm":
        records: Iterator[tuple[int, Callable[[], _Built]]] = _ftm_records(lines, list_id)
    else:
        convert = _targets_row if fmt == "targets" else _plain_row
        required = _TARGETS_COLUMNS if fmt == "targets" else _PLAIN_COLUMNS
        records = _csv_records(path.name, lines, required, convert, list_id, stats)
    for line_no, build in records:
        try:
            entity = build()
        except _Ignore:
            stats.ignored += 1
            continue
        except _RowError as exc:
            message = f"{path.name}, line {line_no}: {exc}"
            if not skip_bad:
                raise ValidationError(message) from None
            stats.note(message)
            continue
        stats.entities += 1
        stats.unresolved_countries += entity[1]
        yield entity[0]


# --- lines -----------------------------------------------------------------------------------


def _lines(
    path: Path, *, skip_bad: bool, max_bytes: int, stats: ReadStats
) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)``; text is None for a bad line that is skipped."""
    total = 0
    with path.open("rb") as handle:
        line_no = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            line_no += 1
            total += len(raw)
            if total > max_bytes:  # the file grew while it was read
                raise ValidationError(f"{path.name}: larger than the limit of {max_bytes:,} bytes")
            problem = ""
            if len(raw) > MAX_LINE_BYTES:
                while raw and not raw.endswith(b"\n"):  # skip to the end of the long line
                    raw = handle.readline(MAX_LINE_BYTES + 1)
                    total += len(raw)
                problem = f"the line is longer than {MAX_LINE_BYTES:,} bytes"
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    problem = f"not UTF-8 text (byte {exc.start + 1} of the line)"
            if problem:
                message = f"{path.name}, line {line_no}: {problem}"
                if not skip_bad:
                    raise ValidationError(message, hint="lists are read as UTF-8 text")
                stats.note(message)
                yield line_no, None
                continue
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            yield line_no, text


# --- FollowTheMoney --------------------------------------------------------------------------


def _ftm_records(
    lines: Iterable[tuple[int, str | None]], list_id: str
) -> Iterator[tuple[int, Callable[[], _Built]]]:
    for line_no, text in lines:
        if text is None or not text.strip():
            continue
        yield line_no, partial(_ftm_entity, text, list_id)


def _ftm_entity(text: str, list_id: str) -> _Built:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _RowError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _RowError("the JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise _RowError("a line must hold one JSON object (an entity)")
    schema_name = data.get("schema")
    if not isinstance(schema_name, str) or not _SCHEMA_NAME.match(schema_name):
        raise _RowError(f"unknown schema {_short(schema_name)}")
    if schema_name not in PARTY_SCHEMATA:
        raise _Ignore
    props = data.get("properties") or {}
    if not isinstance(props, dict):
        raise _RowError("properties must be a JSON object")

    def values(name: str) -> list[str]:
        raw = props.get(name) or []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise _RowError(f"property {name} must be a list of strings")
        return [v for v in raw if isinstance(v, str) and v.strip()]

    names = [n for prop in FTM_NAMES for n in values(prop)]
    caption = data.get("caption")
    if not names and isinstance(caption, str) and caption.strip():
        names = [caption]
    identifiers = [
        normalise_identifier(value, scheme)
        for prop, scheme in FTM_IDENTIFIERS.items()
        for value in values(prop)
    ]
    topics = values("topics")
    reason = "; ".join(values("notes")[:1] + values("program")[:1])
    if not reason and topics:
        reason = "topics: " + ", ".join(topics[:10])
    datasets = data.get("datasets")
    if not reason and isinstance(datasets, list):
        reason = "listed in " + ", ".join(str(d) for d in datasets[:10])
    return _entity(
        data.get("id"),
        PARTY_SCHEMATA[schema_name],
        names,
        countries=[c for prop in FTM_COUNTRIES for c in values(prop)],
        identifiers=identifiers,
        birth_dates=values("birthDate"),
        list_id=list_id,
        reason=reason,
        source_url=(values("sourceUrl") or [""])[0],
    )


# --- CSV formats -----------------------------------------------------------------------------

_TARGETS_COLUMNS = ("id", "schema", "name", "aliases", "birth_date", "countries", "identifiers")
_PLAIN_COLUMNS = ("id", "name")


def _csv_records(
    file_name: str,
    lines: Iterable[tuple[int, str | None]],
    required: tuple[str, ...],
    convert: Callable[[Mapping[str, str], str], _T],
    list_id: str,
    stats: ReadStats,
) -> Iterator[tuple[int, Callable[[], _T]]]:
    numbers: list[int] = [0]

    def texts() -> Iterator[str]:
        for line_no, text in lines:
            if text is None:
                continue
            numbers[0] = line_no
            yield text

    reader = csv.reader(texts(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValidationError(
            f"{file_name}, line {numbers[0]}: not readable as CSV ({exc})"
        ) from None
    if header is None:
        raise ValidationError(f"{file_name}: the file is empty")
    columns = [h.strip().casefold() for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValidationError(
            f"{file_name}, line 1: missing column(s) {', '.join(missing)}",
            hint=f"the header must name at least: {', '.join(required)}",
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"{file_name}, line {numbers[0]}: not readable as CSV ({exc})"
            raise ValidationError(message) from None
        if not any(cell.strip() for cell in row):
            continue
        line_no = numbers[0]
        if len(row) != len(columns):
            problem = f"{len(row)} cells where the header has {len(columns)}"

            def bad(problem: str = problem) -> _T:
                raise _RowError(problem)

            yield line_no, bad
            continue
        record = dict(zip(columns, row, strict=True))
        yield line_no, partial(convert, record, list_id)


def _targets_row(row: Mapping[str, str], list_id: str) -> _Built:
    schema = _schema(row.get("schema", ""), ignore_others=True)
    identifiers = [normalise_identifier(v) for v in _split(row.get("identifiers", ""))]
    identifiers += [normalise_identifier(v, "phone") for v in _split(row.get("phones", ""))]
    identifiers += [normalise_identifier(v, "email") for v in _split(row.get("emails", ""))]
    reason = row.get("sanctions", "").strip()
    if not reason and row.get("dataset", "").strip():
        reason = "listed in " + row["dataset"].strip()
    return _entity(
        row.get("id"),
        schema,
        [row.get("name", ""), *_split(row.get("aliases", ""))],
        countries=_split(row.get("countries", "")),
        identifiers=identifiers,
        birth_dates=_split(row.get("birth_date", "")),
        list_id=list_id,
        reason=reason,
        source_url="",
    )


def _plain_row(row: Mapping[str, str], list_id: str) -> _Built:
    schema = _schema(row.get("schema", "") or "LegalEntity", ignore_others=False)
    return _entity(
        row.get("id"),
        schema,
        [row.get("name", ""), *_split(row.get("aliases", ""))],
        countries=_split(row.get("country", "")),
        identifiers=[normalise_identifier(v) for v in _split(row.get("identifiers", ""))],
        birth_dates=_split(row.get("birth_date", "")),
        list_id=list_id,
        reason=row.get("reason", "").strip() or _listed_on(row.get("list", "")),
        source_url=row.get("source_url", "").strip(),
    )


# --- shared ----------------------------------------------------------------------------------


def _schema(value: str, *, ignore_others: bool) -> Schema:
    value = value.strip()
    if value in PARTY_SCHEMATA:
        return PARTY_SCHEMATA[value]
    if ignore_others and _SCHEMA_NAME.match(value):
        raise _Ignore
    raise _RowError(
        f"unknown schema {_short(value)}; use one of {', '.join((*SCHEMAS, 'PublicBody'))}"
    )


def _listed_on(list_name: str) -> str:
    return f"listed on {list_name.strip()}" if list_name.strip() else ""


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(_SPLIT) if part.strip()]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _clean(value: str, limit: int = _TEXT_LIMIT) -> str:
    return " ".join("".join(ch for ch in value if ch.isprintable()).split())[:limit]


def _entity(
    entity_id: Any,
    schema: Schema,
    names: Iterable[str],
    *,
    countries: Iterable[str],
    identifiers: Iterable[str],
    birth_dates: Iterable[str],
    list_id: str,
    reason: str,
    source_url: str,
) -> _Built:
    """An entity and how many of its countries did not resolve."""
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise _RowError("the entry has no id")
    entity_id = entity_id.strip()
    if len(entity_id) > 200 or not entity_id.isprintable():
        raise _RowError(f"the id {_short(entity_id)} is too long or has control characters")
    kept: dict[str, None] = {}
    for name in names:
        cleaned = _clean(name, 500)
        if cleaned:
            kept.setdefault(cleaned)
    if not kept:
        raise _RowError(f"entry {entity_id!r} has no name")
    resolved: dict[str, None] = {}
    unresolved = 0
    for text in countries:
        resolution = resolve_country(text.strip())
        if resolution.country is None:
            unresolved += 1
        else:
            resolved.setdefault(resolution.country.alpha2)
    dates = {d: None for d in (normalise_date(v) for v in birth_dates) if d}
    entity = ListEntity(
        id=entity_id,
        schema=schema,
        names=tuple(list(kept)[:MAX_NAMES]),
        countries=tuple(resolved),
        identifiers=tuple(dict.fromkeys(i for i in identifiers if i)),
        birth_dates=tuple(dates),
        list_id=list_id,
        reason=_clean(reason),
        source_url=source_url.strip()[:1000]
        if source_url.startswith(("https://", "http://"))
        else "",
    )
    return entity, unresolved


# --- queries ---------------------------------------------------------------------------------

#: The largest file of names to screen accepted (bytes).
MAX_QUERY_FILE_BYTES = 100_000_000


def read_queries(path: Path, *, max_bytes: int = MAX_QUERY_FILE_BYTES) -> list[Query]:
    """The names to screen in a CSV or JSON file: ``id`` and ``name``, optionally ``schema``,
    ``country`` and ``identifier`` (``;``-separated for several).

    JSON is an array of objects with those keys (or ``{"queries": [...]}``); a file whose
    name ends in ``.json`` is read as JSON, anything else as CSV. Any problem raises
    :class:`~tipaudit.errors.ValidationError` naming the file and the line or item.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if size > max_bytes:
        raise ValidationError(f"{path.name}: {size:,} bytes is larger than {max_bytes:,}")
    if path.suffix.casefold() == ".json":
        return _json_queries(path)
    stats = ReadStats()
    queries: list[Query] = []
    lines = _lines(path, skip_bad=False, max_bytes=max_bytes, stats=stats)
    records = _csv_records(path.name, lines, ("id", "name"), _query_row, "", stats)
    for line_no, build in records:
        try:
            queries.append(build())
        except (_RowError, _Ignore) as exc:
            raise ValidationError(f"{path.name}, line {line_no}: {exc}") from None
    if not queries:
        raise ValidationError(f"{path.name}: no names to screen")
    return queries


def _json_queries(path: Path) -> list[Query]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path.name}, line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise ValidationError(f"{path.name}: the JSON is nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("queries"), list):
        data = data["queries"]
    if not isinstance(data, list):
        raise ValidationError(f"{path.name}: expected a JSON array of objects with id and name")
    queries = []
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise ValidationError(f"{path.name}, item {number}: not a JSON object")
        row = {str(k).casefold(): "" if v is None else str(v) for k, v in item.items()}
        try:
            queries.append(_query_row(row, ""))
        except (_RowError, _Ignore) as exc:
            raise ValidationError(f"{path.name}, item {number}: {exc}") from None
    if not queries:
        raise ValidationError(f"{path.name}: no names to screen")
    return queries


def _query_row(row: Mapping[str, str], _list_id: str) -> Query:
    schema = _schema(row.get("schema", "") or "LegalEntity", ignore_others=False)
    entity, _unresolved = _entity(
        row.get("id"),
        schema,
        [row.get("name", "")],
        countries=_split(row.get("country", "")),
        identifiers=[normalise_identifier(v) for v in _split(row.get("identifier", ""))],
        birth_dates=_split(row.get("birth_date", "")),
        list_id="",
        reason="",
        source_url="",
    )
    return Query(
        id=entity.id,
        schema=entity.schema,
        names=entity.names,
        countries=entity.countries,
        identifiers=entity.identifiers,
        birth_dates=entity.birth_dates,
    )
