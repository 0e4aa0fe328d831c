"""The trafficking-indicator taxonomy: ILO forced-labour indicators and trafficking acts.

Every finding, report and review in tipaudit names what it is about with a stable indicator code
such as ``ILO-09`` (debt bondage) or ``TIP-DOCS`` (identity-document confiscation). The codes,
their definitions, sources, plain-language wording and HTCDS v2.0 mappings are versioned data in
``tipaudit/core/data/indicators.yaml``; this module loads and validates that file and offers
lookups. See ``docs/indicators.md`` for the code scheme and how to propose a change.

Typical use::

    from tipaudit.core.indicators import load_taxonomy, validate_codes

    taxonomy = load_taxonomy()
    taxonomy.get("ILO-07").plain("es")
    validate_codes(["ILO-09", "TIP-FEES"])
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from tipaudit.errors import NotFoundError, ValidationError

__all__ = [
    "CODE_PATTERN",
    "MAX_FILE_BYTES",
    "REQUIRED_LANGUAGES",
    "Citation",
    "HtcdsMapping",
    "Indicator",
    "IndicatorKind",
    "Source",
    "Taxonomy",
    "load_taxonomy",
    "validate_codes",
]

#: Shape of an indicator code: ``ILO-`` and two digits, or ``TIP-`` and an upper-case word.
CODE_PATTERN = re.compile(r"(?:ILO-\d{2}|TIP-[A-Z][A-Z0-9]{1,19})")

#: Languages every indicator must have plain-language wording in.
REQUIRED_LANGUAGES: tuple[str, ...] = ("en", "es")

_LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(?:-[A-Z]{2})?")
_SOURCE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]*")
_HTCDS_FIELD_PATTERN = re.compile(r"(?:org|prs|vic|per|cas|cco|hte|spl|con)_[A-Za-z]+")
_PACKAGED_NAME = "indicators.yaml"

#: Largest taxonomy file accepted, in bytes. The packaged file is a few dozen kilobytes; the
#: limit refuses runaway or hostile files before the (pure-Python) YAML parser spends seconds.
MAX_FILE_BYTES = 1_000_000


class IndicatorKind(StrEnum):
    """What an indicator describes."""

    #: One of the 11 ILO indicators of forced labour (ILO SAP-FL, 2012).
    ILO_FORCED_LABOUR = "ilo_forced_labour"
    #: A trafficking-specific act named in law or standards (Palermo, 22 U.S.C. 7104(g), ...).
    TRAFFICKING_ACT = "trafficking_act"

    @property
    def code_prefix(self) -> str:
        """The prefix every code of this kind starts with."""
        return "ILO-" if self is IndicatorKind.ILO_FORCED_LABOUR else "TIP-"


@dataclass(frozen=True, slots=True)
class Source:
    """A document the taxonomy cites: a convention, statute, regulation or standard."""

    id: str
    citation: str
    url: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """A pointer from an indicator into a :class:`Source` (an article, paragraph or item)."""

    source_id: str
    pointer: str


@dataclass(frozen=True, slots=True)
class HtcdsMapping:
    """Where an indicator is recorded in the Human Trafficking Case Data Standard v2.0.

    ``field`` is an HTCDS picklist field (``vic_MethodsOfControl``) and ``value`` the name of one
    of its values (``DebtBondage``), both spelled exactly as in the standard.
    """

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """One entry of the taxonomy, identified by its stable ``code``."""

    code: str
    kind: IndicatorKind
    name: str
    definition: str
    sources: tuple[Citation, ...]
    plain_language: Mapping[str, str] = field(hash=False)
    related: tuple[str, ...]
    htcds: tuple[HtcdsMapping, ...]
    htcds_note: str | None = None

    def plain(self, language: str = "en") -> str:
        """The wording a reporter ticks on a form, in ``language`` (``"en"``, ``"es"``, ...).

        Raises :class:`~tipaudit.errors.NotFoundError` when there is no wording in that language.
        """
        try:
            return self.plain_language[language]
        except KeyError:
            available = ", ".join(sorted(self.plain_language))
            raise NotFoundError(
                f"Indicator {self.code} has no plain-language wording in {language!r}; "
                f"available: {available}."
            ) from None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A loaded, validated set of indicators with lookups by code and kind.

    Iterating yields the indicators in file order (ILO indicators in ILO order first).
    """

    version: str
    title: str
    sources: tuple[Source, ...]
    indicators: tuple[Indicator, ...]
    origin: str = field(default="", compare=False)
    _by_code: Mapping[str, Indicator] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_by_code", MappingProxyType({ind.code: ind for ind in self.indicators})
        )

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, in file order."""
        return tuple(self._by_code)

    def get(self, code: str) -> Indicator:
        """The indicator with ``code``.

        Raises :class:`~tipaudit.errors.NotFoundError` for an unknown code; the message suggests
        the closest known codes.
        """
        try:
            return self._by_code[code]
        except KeyError:
            raise NotFoundError(
                f"Unknown indicator code {code!r} in taxonomy {self.version}. "
                f"{_suggest(code, self.codes)}",
                hint="Indicator codes are listed in docs/indicators.md.",
            ) from None

    def by_kind(self, kind: IndicatorKind | str) -> tuple[Indicator, ...]:
        """The indicators of one kind, in file order."""
        wanted = IndicatorKind(kind)
        return tuple(ind for ind in self.indicators if ind.kind is wanted)

    def source(self, source_id: str) -> Source:
        """The source with ``source_id``; raises :class:`~tipaudit.errors.NotFoundError`."""
        for src in self.sources:
            if src.id == source_id:
                return src
        known = ", ".join(src.id for src in self.sources)
        raise NotFoundError(f"Unknown source {source_id!r}; known sources: {known}.")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and strictly validate a taxonomy file; without ``path``, the packaged one.

    The packaged taxonomy is parsed once per process and cached; a file given by ``path`` is read
    afresh on every call. Raises :class:`~tipaudit.errors.ValidationError` naming the file and the
    offending entry when the file is not a valid taxonomy, and
    :class:`~tipaudit.errors.NotFoundError` when ``path`` does not exist.
    """
    if path is None:
        return _load_packaged()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Checker(str(path)).fail("file", _too_big(size))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"Indicator taxonomy file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text ({exc.reason}).") from None
    return _parse(text, origin=str(path))


def validate_codes(codes: Iterable[str], *, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """Check that every code is known and return them without duplicates, in the order given.

    Use this where a finding, report or decision cites indicators. ``taxonomy`` defaults to the
    packaged one. Raises :class:`~tipaudit.errors.ValidationError` listing every unknown code with
    suggestions; a single string is refused because it would be read character by character.
    """
    if isinstance(codes, str | bytes):
        raise ValidationError(
            f"Expected a collection of indicator codes, got the single string {codes!r}; "
            "wrap it in a list."
        )
    tax = load_taxonomy() if taxonomy is None else taxonomy
    seen: dict[str, None] = {}
    unknown: list[str] = []
    for code in codes:
        if not isinstance(code, str):
            raise ValidationError(f"Indicator codes are strings; got {code!r}.")
        if code in tax:
            seen.setdefault(code, None)
        elif code not in unknown:
            unknown.append(code)
    if unknown:
        details = "; ".join(f"{code!r}: {_suggest(code, tax.codes)}" for code in unknown)
        raise ValidationError(
            f"Unknown indicator code(s) for taxonomy {tax.version}: {details}",
            hint="Indicator codes are listed in docs/indicators.md.",
        )
    return tuple(seen)


# --- loading ---------------------------------------------------------------------------------


@functools.cache
def _load_packaged() -> Taxonomy:
    resource = resources.files("tipaudit.core") / "data" / _PACKAGED_NAME
    return _parse(resource.read_text(encoding="utf-8"), origin=str(resource))


def _suggest(code: str, known: tuple[str, ...]) -> str:
    wanted = code.strip().upper()
    # "ilo-9" and "ILO-9" mean ILO-09: offer the exact normalised code first.
    wanted = re.sub(r"^ILO-(\d)$", r"ILO-0\1", wanted)
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
    if wanted in known:
        close = [wanted, *(other for other in close if other != wanted)][:3]
    if close:
        return f"Did you mean {', '.join(close)}?"
    return f"Known codes: {', '.join(known)}."


_TOP_KEYS = frozenset({"version", "title", "sources", "indicators"})
_SOURCE_KEYS = frozenset({"id", "citation", "url"})
_SOURCE_OPTIONAL = frozenset({"note"})
_INDICATOR_KEYS = frozenset(
    {"code", "kind", "name", "definition", "sources", "plain_language", "related", "htcds"}
)
_INDICATOR_OPTIONAL = frozenset({"htcds_note"})


class _Checker:
    """Builds ``ValidationError`` messages that name the file and the entry."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str) -> ValidationError:
        return ValidationError(
            f"{self.origin}: {where}: {problem}",
            hint="See docs/indicators.md for the format of the indicator taxonomy.",
        )

    def keys(
        self,
        where: str,
        value: object,
        required: frozenset[str],
        optional: frozenset[str] = frozenset(),
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {_type_name(value)}")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(where, f"missing key(s) {', '.join(missing)}")
        unknown = sorted(str(key) for key in value.keys() - required - optional)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)}")
        return value

    def text(self, where: str, mapping: Mapping[str, Any], key: str) -> str:
        value = mapping[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key} must be non-empty text, got {_type_name(value)}")
        return value.strip()

    def optional_text(self, where: str, mapping: Mapping[str, Any], key: str) -> str | None:
        if key not in mapping:
            return None
        return self.text(where, mapping, key)

    def items(self, where: str, mapping: Mapping[str, Any], key: str) -> list[Any]:
        value = mapping[key]
        if not isinstance(value, list):
            raise self.fail(where, f"{key} must be a list, got {_type_name(value)}")
        return value


def _too_big(size: int) -> str:
    return f"{size:,} bytes is larger than the {MAX_FILE_BYTES:,}-byte limit for a taxonomy"


def _type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated in one mapping.

    Plain ``safe_load`` keeps the last of two ``htcds:`` keys and silently drops the first.
    """


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeySafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _parse(text: str, *, origin: str) -> Taxonomy:
    check = _Checker(origin)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise check.fail("file", _too_big(size))
    try:
        # A SafeLoader subclass: builds only plain YAML types, never Python objects.
        document = yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "file"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise check.fail(where, f"not valid YAML ({problem})") from None

    top = check.keys("top level", document, _TOP_KEYS)
    version = top["version"]
    if not isinstance(version, str) or not version.strip():
        raise check.fail(
            "top level", "version must be quoted text such as '2026.1' (a bare number loses zeros)"
        )
    title = check.text("top level", top, "title")
    sources = _parse_sources(check, check.items("top level", top, "sources"))
    source_ids = frozenset(src.id for src in sources)

    entries = check.items("top level", top, "indicators")
    if not entries:
        raise check.fail("top level", "indicators must list at least one indicator")
    indicators: list[Indicator] = []
    positions: dict[str, int] = {}
    for index, entry in enumerate(entries):
        indicator = _parse_indicator(check, index, entry, source_ids)
        if indicator.code in positions:
            raise check.fail(
                _where(index, indicator.code),
                f"duplicate code, already used by indicators[{positions[indicator.code]}]",
            )
        positions[indicator.code] = index
        indicators.append(indicator)

    for index, indicator in enumerate(indicators):
        for related in indicator.related:
            if related == indicator.code:
                raise check.fail(_where(index, indicator.code), "related lists the code itself")
            if related not in positions:
                raise check.fail(
                    _where(index, indicator.code),
                    f"related code {related!r} is not defined. "
                    f"{_suggest(related, tuple(positions))}",
                )
    return Taxonomy(
        version=version.strip(),
        title=title,
        sources=sources,
        indicators=tuple(indicators),
        origin=origin,
    )


def _parse_sources(check: _Checker, entries: list[Any]) -> tuple[Source, ...]:
    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"sources[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            where = f"sources[{index}] (id {entry['id']!r})"
        mapping = check.keys(where, entry, _SOURCE_KEYS, _SOURCE_OPTIONAL)
        source_id = check.text(where, mapping, "id")
        if not _SOURCE_ID_PATTERN.fullmatch(source_id):
            raise check.fail(where, "id must be lower-case letters, digits, '.' and '-'")
        if source_id in seen:
            raise check.fail(where, "duplicate source id")
        seen.add(source_id)
        url = check.text(where, mapping, "url")
        if not url.startswith("https://"):
            raise check.fail(where, f"url must start with https://, got {url!r}")
        sources.append(
            Source(
                id=source_id,
                citation=check.text(where, mapping, "citation"),
                url=url,
                note=check.optional_text(where, mapping, "note"),
            )
        )
    if not sources:
        raise check.fail("top level", "sources must list at least one source")
    return tuple(sources)


def _where(index: int, code: object) -> str:
    return (
        f"indicators[{index}] (code {code!r})" if isinstance(code, str) else f"indicators[{index}]"
    )


def _parse_indicator(
    check: _Checker, index: int, entry: object, source_ids: frozenset[str]
) -> Indicator:
    where = _where(index, entry.get("code") if isinstance(entry, dict) else None)
    mapping = check.keys(where, entry, _INDICATOR_KEYS, _INDICATOR_OPTIONAL)

    code = check.text(where, mapping, "code")
    if not CODE_PATTERN.fullmatch(code):
        raise check.fail(where, "code must look like ILO-01 or TIP-WORD (upper case)")
    try:
        kind = IndicatorKind(mapping["kind"])
    except ValueError:
        allowed = ", ".join(kind.value for kind in IndicatorKind)
        raise check.fail(where, f"kind must be one of {allowed}, got {mapping['kind']!r}") from None
    if not code.startswith(kind.code_prefix):
        raise check.fail(where, f"a {kind.value} code must start with {kind.code_prefix}")

    return Indicator(
        code=code,
        kind=kind,
        name=check.text(where, mapping, "name"),
        definition=check.text(where, mapping, "definition"),
        sources=_parse_citations(check, where, mapping, source_ids),
        plain_language=_parse_plain(check, where, mapping["plain_language"]),
        related=_parse_related(check, where, mapping),
        htcds=_parse_htcds(check, where, mapping),
        htcds_note=check.optional_text(where, mapping, "htcds_note"),
    )


def _parse_citations(
    check: _Checker, where: str, mapping: Mapping[str, Any], source_ids: frozenset[str]
) -> tuple[Citation, ...]:
    citations: list[Citation] = []
    for position, item in enumerate(check.items(where, mapping, "sources")):
        here = f"{where} sources[{position}]"
        cited = check.keys(here, item, frozenset({"id", "pointer"}))
        source_id = check.text(here, cited, "id")
        if source_id not in source_ids:
            raise check.fail(
                here, f"unknown source id {source_id!r}; known: {', '.join(sorted(source_ids))}"
            )
        citations.append(Citation(source_id=source_id, pointer=check.text(here, cited, "pointer")))
    if not citations:
        raise check.fail(where, "sources must cite at least one source")
    return tuple(citations)


def _parse_plain(check: _Checker, where: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise check.fail(where, f"plain_language must be a mapping, got {_type_name(value)}")
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in value]
    if missing:
        raise check.fail(where, f"plain_language lacks language(s) {', '.join(missing)}")
    wording: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(language, str) or not _LANGUAGE_PATTERN.fullmatch(language):
            raise check.fail(where, f"plain_language key {language!r} is not a language tag")
        if not isinstance(text, str) or not text.strip():
            raise check.fail(where, f"plain_language.{language} must be non-empty text")
        wording[language] = text.strip()
    return MappingProxyType(wording)


def _parse_related(check: _Checker, where: str, mapping: Mapping[str, Any]) -> tuple[str, ...]:
    related = check.items(where, mapping, "related")
    for code in related:
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            raise check.fail(where, f"related entry {code!r} is not an indicator code")
    if len(set(related)) != len(related):
        raise check.fail(where, "related lists a code more than once")
    return tuple(related)


def _parse_htcds(
    check: _Checker, where: str, mapping: Mapping[str, Any]
) -> tuple[HtcdsMapping, ...]:
    items = check.items(where, mapping, "htcds")
    if not items and "htcds_note" not in mapping:
        raise check.fail(where, "htcds is empty: add htcds_note saying why no HTCDS value fits")
    result: list[HtcdsMapping] = []
    for position, item in enumerate(items):
        here = f"{where} htcds[{position}]"
        entry = check.keys(here, item, frozenset({"field", "value"}))
        field_name = check.text(here, entry, "field")
        if not _HTCDS_FIELD_PATTERN.fullmatch(field_name):
            raise check.fail(here, f"{field_name!r} is not an HTCDS field name such as vic_Foo")
        mapped = HtcdsMapping(field=field_name, value=check.text(here, entry, "value"))
        if mapped in result:
            raise check.fail(here, "duplicate HTCDS mapping")
        result.append(mapped)
    return tuple(result)
