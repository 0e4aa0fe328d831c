"""FollowTheMoney-shaped examples and entities: what the yente-compatible ``/match`` API speaks.

:func:`query_from_example` turns a yente query example (``{"schema": "Person", "properties":
{"name": [...], "birthDate": [...], ...}}``) into a :class:`~tipaudit.screening.model.Query`,
checking every part and raising :class:`~tipaudit.errors.ValidationError` with the path of the
bad value; :func:`entity_properties` turns a list entry back into FtM properties. Both read the
same property tables as the FtM list reader (:mod:`.lists`), so what can be imported can be
asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tipaudit.core.countries import resolve_country
from tipaudit.errors import ValidationError
from tipaudit.screening.lists import FTM_COUNTRIES, FTM_IDENTIFIERS, FTM_NAMES
from tipaudit.screening.model import (
    ListEntity,
    Query,
    Schema,
    identifier_scheme,
    normalise_date,
    normalise_identifier,
)

#: FtM schemata a query may have, and the matcher schema each is compared as. Other party
#: schemata (``PublicBody``) are organisations; ``Thing``-like ones have no place here.
QUERY_SCHEMATA: Mapping[str, Schema] = {
    "Person": "Person",
    "Organization": "Organization",
    "Company": "Company",
    "LegalEntity": "LegalEntity",
    "PublicBody": "Organization",
}

#: Limits on one query example (hostile input stays cheap).
MAX_VALUES = 50
MAX_VALUE_CHARS = 1000
MAX_PROPERTIES = 100

#: Identifier scheme -> FtM property, for answers (the reverse of ``FTM_IDENTIFIERS``).
SCHEME_PROPERTIES: Mapping[str, str] = {scheme: prop for prop, scheme in FTM_IDENTIFIERS.items()}


def _problem(path: str, message: str) -> ValidationError:
    return ValidationError(f"{path}: {message}")


def _values(path: str, name: str, raw: object) -> list[str]:
    """The string values of one property (a string or a list of strings)."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise _problem(f"{path}.properties.{name[:40]}", "must be a string or a list of strings")
    if len(raw) > MAX_VALUES:
        raise _problem(f"{path}.properties.{name[:40]}", f"at most {MAX_VALUES} values")
    out = []
    for item in raw:
        value = str(item) if isinstance(item, (int, float)) and not isinstance(item, bool) else item
        if not isinstance(value, str):
            raise _problem(f"{path}.properties.{name[:40]}", "values must be strings")
        if len(value) > MAX_VALUE_CHARS:
            raise _problem(
                f"{path}.properties.{name[:40]}",
                f"a value may have at most {MAX_VALUE_CHARS} chars",
            )
        if value.strip():
            out.append(value.strip())
    return out


def _country_codes(values: list[str]) -> tuple[str, ...]:
    codes: list[str] = []
    for value in values:
        resolution = resolve_country(value)
        if resolution.ok and resolution.country is not None:
            codes.append(resolution.country.alpha2)
    return tuple(dict.fromkeys(codes))


def _valid_date(date: str) -> bool:
    parts = date.split("-") if date else []
    if not parts or not 1000 <= int(parts[0]) <= 2100:
        return False
    if len(parts) > 1 and not 1 <= int(parts[1]) <= 12:
        return False
    return len(parts) < 3 or 1 <= int(parts[2]) <= 31


def query_from_example(key: str, example: object, warnings: list[str] | None = None) -> Query:
    """A query from one yente example; a :class:`ValidationError` names the bad part.

    Unknown properties are ignored (yente ignores what its matcher does not read). Countries
    that do not resolve and birth dates that are not dates (``1974-01-32``) are dropped, as
    FollowTheMoney drops values it cannot clean; each is noted in ``warnings`` if given.
    """
    path = f"queries.{key[:60]}"
    if not isinstance(example, dict):
        raise _problem(path, "must be an object with 'schema' and 'properties'")
    schema_name = example.get("schema")
    if not isinstance(schema_name, str) or schema_name not in QUERY_SCHEMATA:
        shown = repr(schema_name)[:40] if schema_name is not None else "missing"
        raise _problem(
            f"{path}.schema",
            f"{shown} is not a schema this matcher compares; use one of "
            + ", ".join(QUERY_SCHEMATA),
        )
    props = example.get("properties")
    if not isinstance(props, dict):
        raise _problem(f"{path}.properties", "must be an object of property lists")
    if len(props) > MAX_PROPERTIES:
        raise _problem(f"{path}.properties", f"at most {MAX_PROPERTIES} properties")
    values: dict[str, list[str]] = {}
    for name, raw in props.items():
        if not isinstance(name, str):
            raise _problem(f"{path}.properties", "property names must be strings")
        values[name] = _values(path, name, raw)
    names = [n for prop in FTM_NAMES for n in values.get(prop, [])]
    if not names:
        raise _problem(f"{path}.properties.name", "give at least one name to match")
    identifiers = [
        normalise_identifier(value, scheme)
        for prop, scheme in FTM_IDENTIFIERS.items()
        for value in values.get(prop, [])
    ]
    dates: list[str] = []
    for value in values.get("birthDate", []):
        date = normalise_date(value)
        if not _valid_date(date):
            if warnings is not None:
                warnings.append(
                    f"{path}.properties.birthDate: {value[:30]!r} is not a date; ignored"
                )
            continue
        dates.append(date)
    raw_countries = [c for prop in FTM_COUNTRIES for c in values.get(prop, [])]
    countries = _country_codes(raw_countries)
    if warnings is not None and len(countries) < len(set(raw_countries)):
        warnings.append(f"{path}: a country was not recognised and is ignored")
    query_id = example.get("id")
    return Query(
        id=query_id[:200] if isinstance(query_id, str) and query_id.strip() else key[:200],
        schema=QUERY_SCHEMATA[schema_name],
        names=tuple(dict.fromkeys(names)),
        countries=countries,
        identifiers=tuple(i for i in dict.fromkeys(identifiers) if i),
        birth_dates=tuple(dict.fromkeys(dates)),
    )


def query_example(query: Query, schema: str | None = None) -> dict[str, Any]:
    """The query as yente echoes it back: ``{id, schema, properties}``."""
    return {
        "id": query.id,
        "schema": schema or query.schema,
        "properties": _properties(
            query.names, query.countries, query.identifiers, query.birth_dates
        ),
    }


def entity_properties(entity: ListEntity) -> dict[str, list[str]]:
    """FtM properties of a list entry: ``name``, ``alias``, ``country``, identifiers by scheme,
    ``birthDate``, ``notes`` (why it is listed) and ``sourceUrl``."""
    props = _properties(entity.names, entity.countries, entity.identifiers, entity.birth_dates)
    if entity.reason:
        props["notes"] = [entity.reason]
    if entity.source_url:
        props["sourceUrl"] = [entity.source_url]
    return props


def _properties(
    names: tuple[str, ...],
    countries: tuple[str, ...],
    identifiers: tuple[str, ...],
    birth_dates: tuple[str, ...],
) -> dict[str, list[str]]:
    props: dict[str, list[str]] = {}
    if names:
        props["name"] = [names[0]]
    if names[1:]:
        props["alias"] = list(names[1:])
    if countries:
        props["country"] = [c.lower() for c in countries]
    for identifier in identifiers:
        prop = SCHEME_PROPERTIES.get(identifier_scheme(identifier), "idNumber")
        props.setdefault(prop, []).append(identifier.split(":", 1)[-1])
    if birth_dates:
        props["birthDate"] = list(birth_dates)
    return props
