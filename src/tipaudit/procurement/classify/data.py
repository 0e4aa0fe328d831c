"""Reading and validating the crosswalk and keyword files.

``crosswalk/cpv.yaml`` and ``crosswalk/unspsc.yaml`` hold one scheme each; ``crosswalk/other.yaml``
holds the smaller schemes under ``schemes:``. ``keywords/<language>.yaml`` hold the terms of one
language: ``entries`` (terms → goods and industries), ``negatives`` (terms → blocked labels)
and ``purpose_words`` ("para", "pentru": what follows names the item's destination). Every
entry says ``why``. Loading fails with a :class:`CrosswalkDataError` naming the file and the
entry when anything is off: bad YAML, an unknown key, an ILAB good not spelled as
in the 2022 List of Goods, an industry outside the vocabulary, a code that is not in the
vendored vocabulary or whose ``title`` differs from it, or a duplicate code prefix or term.
See ``docs/classification.md`` for the formats.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tipaudit.procurement.classify.model import INDUSTRIES, NONE, CrosswalkDataError
from tipaudit.procurement.classify.schemes import CROSSWALK_SCHEMES
from tipaudit.procurement.classify.text import normalise, tokens
from tipaudit.procurement.classify.vocabularies import CpvVocabulary, UnspscVocabulary

__all__ = [
    "PACKAGE_FOLDER",
    "CodeEntry",
    "KeywordEntry",
    "KeywordFile",
    "NegativeEntry",
    "Scope",
    "code_prefix",
    "load_crosswalk_file",
    "load_keyword_file",
]

#: The folder holding ``crosswalk/`` and ``keywords/``.
PACKAGE_FOLDER = Path(__file__).resolve().parent

Scope = Literal["phrase", "text"]

_ENTRY_KEYS = frozenset({"code", "title", "goods", "industries", "weak", "why"})
_KEYWORD_KEYS = frozenset({"terms", "goods", "industries", "why"})
_NEGATIVE_KEYS = frozenset({"terms", "blocks", "scope", "unless", "why"})
_DIGITS = re.compile(r"\d+")
_ALNUM = re.compile(r"[A-Z0-9]+")
_MIN_STEM = 3


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One crosswalk row: a code prefix of one scheme and what it maps to."""

    scheme: str
    code: str
    prefix: str
    title: str | None
    goods: tuple[str, ...]
    #: High-risk industries, or ``("none",)`` for "identified, not at risk".
    industries: tuple[str, ...]
    #: A weak mapping (budget lines, catch-all codes) gives way to any keyword in the text.
    weak: bool
    why: str
    source_file: str


@dataclass(frozen=True, slots=True)
class KeywordEntry:
    """Terms of one language that mean the same goods and industries."""

    language: str
    terms: tuple[str, ...]
    goods: tuple[str, ...]
    industries: tuple[str, ...]
    why: str
    source_file: str


@dataclass(frozen=True, slots=True)
class NegativeEntry:
    """Terms that block labels: ``coffee machine`` is not Coffee.

    A negative blocks its labels when given by a code, and when given by a keyword — one whose
    words overlap the negative's words (``scope: phrase``, the default) or anywhere in the
    item's text (``scope: text``, e.g. ``supervision`` blocks construction). It does nothing
    when one of its ``unless`` terms occurs anywhere in the text (``design`` blocks
    construction unless ``design and build``).
    """

    language: str
    terms: tuple[str, ...]
    blocks: tuple[str, ...]
    scope: Scope
    why: str
    source_file: str
    unless: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeywordFile:
    """The entries and negatives of one ``keywords/<language>.yaml``."""

    language: str
    entries: tuple[KeywordEntry, ...]
    negatives: tuple[NegativeEntry, ...]
    #: Words introducing what an item is *for* ("para", "pentru"): in an item's description,
    #: keywords in the few words after them name the destination, not the item.
    purpose_words: tuple[str, ...] = ()


def _read_yaml(path: Path, source: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CrosswalkDataError(f"{source}: cannot be read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CrosswalkDataError(f"{source}: not valid YAML ({exc})") from None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CrosswalkDataError(f"{where}: expected a mapping, found {type(value).__name__}")
    return value


def _entries(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise CrosswalkDataError(f"{where}: expected a list of entries")
    return [_mapping(item, f"{where} entry {number}") for number, item in enumerate(value, 1)]


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CrosswalkDataError(f"{where}: {field} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_keys(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise CrosswalkDataError(
            f"{where}: unknown key {unknown[0]!r}", hint=f"allowed: {', '.join(sorted(allowed))}"
        )


def _why(entry: Mapping[str, Any], where: str) -> str:
    why = entry.get("why")
    if not isinstance(why, str) or not why.strip():
        raise CrosswalkDataError(f"{where}: every entry needs a short 'why'")
    return " ".join(why.split())


def _labels(
    entry: Mapping[str, Any], where: str, known_goods: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    goods = _strings(entry.get("goods"), where, "goods")
    industries = _strings(entry.get("industries"), where, "industries")
    check_goods(goods, where, known_goods)
    check_industries(industries, where)
    if not goods and not industries:
        raise CrosswalkDataError(f"{where}: give goods, industries or both (industries: [none])")
    return goods, industries


def check_goods(goods: Iterable[str], where: str, known_goods: frozenset[str]) -> None:
    """Fail unless every name is an ILAB good exactly as the 2022 edition spells it."""
    for good in goods:
        if good not in known_goods:
            close = difflib.get_close_matches(good, sorted(known_goods), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else None
            raise CrosswalkDataError(
                f"{where}: unknown ILAB good {good!r} (names must be spelled exactly as in the "
                "2022 List of Goods)",
                hint=hint,
            )


def check_industries(industries: Iterable[str], where: str) -> None:
    """Fail unless every industry is in the vocabulary and ``none`` stands alone."""
    listed = tuple(industries)
    for industry in listed:
        if industry != NONE and industry not in INDUSTRIES:
            raise CrosswalkDataError(
                f"{where}: unknown industry {industry!r}",
                hint=f"use one of: {', '.join(sorted(INDUSTRIES))}, or none",
            )
    if NONE in listed and len(listed) > 1:
        raise CrosswalkDataError(f"{where}: 'none' must stand alone")


def code_prefix(scheme: str, code: str) -> str:
    """The lookup key of a crosswalk code: the significant part of a hierarchical code.

    CPV drops trailing zeros (``18100000`` → ``181``; at least the 2-digit division); UNSPSC
    drops trailing ``00`` pairs (``53100000`` → ``5310``); other schemes keep their letters
    and digits (``14.12`` → ``1412``).
    """
    cleaned = "".join(_ALNUM.findall(code.upper()))
    if scheme in {"CPV", "CPV-AM"}:
        stripped = cleaned.rstrip("0")
        return cleaned[: max(2, len(stripped))]
    if scheme == "UNSPSC":
        while len(cleaned) > 2 and cleaned.endswith("00"):
            cleaned = cleaned[:-2]
        return cleaned
    return cleaned


def _check_code(
    scheme: str,
    code: str,
    title: str | None,
    where: str,
    cpv: CpvVocabulary,
    unspsc: UnspscVocabulary,
) -> None:
    if scheme == "CPV":
        if not re.fullmatch(r"\d{8}", code) or code not in cpv:
            raise CrosswalkDataError(f"{where}: {code!r} is not a CPV 2008 code (8 digits)")
        official = cpv.english(code)
    elif scheme == "UNSPSC":
        if not re.fullmatch(r"\d{8}", code):
            raise CrosswalkDataError(f"{where}: {code!r} is not an 8-digit UNSPSC code")
        official_or_none = unspsc.titles.get(code)
        if official_or_none is None:
            if code.endswith("00"):
                raise CrosswalkDataError(f"{where}: {code!r} is not in the UNSPSC vocabulary")
            return
        official = official_or_none
    else:
        return
    if title is not None and normalise(title) != normalise(official):
        raise CrosswalkDataError(
            f"{where}: title {title!r} differs from the vocabulary's {official!r} (wrong code?)"
        )


def load_crosswalk_file(
    path: Path,
    *,
    known_goods: frozenset[str],
    cpv: CpvVocabulary,
    unspsc: UnspscVocabulary,
    source: str | None = None,
) -> list[CodeEntry]:
    """The entries of one crosswalk file (``scheme:`` + ``entries:``, or ``schemes:``)."""
    source = source or f"crosswalk/{path.name}"
    document = _mapping(_read_yaml(path, source), source)
    tables: list[tuple[str, bool, Any, str]] = []
    if "schemes" in document:
        _check_keys(document, frozenset({"schemes", "description"}), source)
        for name, raw_table in _mapping(document["schemes"], f"{source}: schemes").items():
            where = f"{source}: schemes.{name}"
            table = _mapping(raw_table, where)
            _check_keys(table, frozenset({"entries", "weak", "description"}), where)
            tables.append((str(name), bool(table.get("weak", False)), table.get("entries"), where))
    else:
        _check_keys(document, frozenset({"scheme", "entries", "description"}), source)
        tables.append((str(document.get("scheme")), False, document.get("entries"), source))
    result: list[CodeEntry] = []
    for scheme, weak_default, entries, where_table in tables:
        if scheme not in CROSSWALK_SCHEMES:
            raise CrosswalkDataError(
                f"{where_table}: unknown scheme {scheme!r}",
                hint=f"one of: {', '.join(sorted(CROSSWALK_SCHEMES))}",
            )
        seen: dict[str, str] = {}
        for number, entry in enumerate(_entries(entries, where_table), 1):
            raw_code = entry.get("code")
            where = f"{where_table} entry {number}"
            if not isinstance(raw_code, str) or not raw_code.strip():
                raise CrosswalkDataError(f"{where}: 'code' must be a quoted string")
            code = raw_code.strip()
            where = f"{where_table} entry {number} (code {code})"
            _check_keys(entry, _ENTRY_KEYS, where)
            title = entry.get("title")
            if title is not None and not isinstance(title, str):
                raise CrosswalkDataError(f"{where}: title must be a string")
            _check_code(scheme, code, title, where, cpv, unspsc)
            goods, industries = _labels(entry, where, known_goods)
            prefix = code_prefix(scheme, code)
            if not prefix:
                raise CrosswalkDataError(f"{where}: empty code")
            if prefix in seen:
                raise CrosswalkDataError(
                    f"{where}: duplicate prefix {prefix!r} (already mapped by {seen[prefix]})"
                )
            seen[prefix] = f"entry {number} (code {code})"
            weak = entry.get("weak", weak_default)
            if not isinstance(weak, bool):
                raise CrosswalkDataError(f"{where}: weak must be true or false")
            result.append(
                CodeEntry(
                    scheme=scheme,
                    code=code,
                    prefix=prefix,
                    title=title,
                    goods=goods,
                    industries=industries,
                    weak=weak,
                    why=_why(entry, where),
                    source_file=source,
                )
            )
    return result


def term_tokens(term: str, where: str) -> tuple[str, ...]:
    """The normalised words of a keyword term; a word may end in ``*`` (a stem)."""
    words = []
    for raw in normalise(term).split(" "):
        star = raw.endswith("*")
        found = tokens(raw)
        if not found:
            continue
        if star:
            if len(found[-1]) < _MIN_STEM:
                raise CrosswalkDataError(
                    f"{where}: stem {raw!r} is shorter than {_MIN_STEM} letters"
                )
            found[-1] += "*"
        words.extend(found)
    if not words:
        raise CrosswalkDataError(f"{where}: term {term!r} has no letters or digits")
    return tuple(words)


def load_keyword_file(
    path: Path, *, known_goods: frozenset[str], source: str | None = None
) -> KeywordFile:
    """The entries and negatives of one keyword file."""
    source = source or f"keywords/{path.name}"
    document = _mapping(_read_yaml(path, source), source)
    _check_keys(
        document,
        frozenset({"language", "description", "purpose_words", "entries", "negatives"}),
        source,
    )
    language = document.get("language")
    if not isinstance(language, str) or not language.strip():
        raise CrosswalkDataError(f"{source}: 'language' is required")
    seen_by_kind: dict[str, dict[tuple[str, ...], str]] = {"entries": {}, "negatives": {}}

    def unique_terms(entry: Mapping[str, Any], where: str, kind: str) -> tuple[str, ...]:
        seen = seen_by_kind[kind]
        terms = _strings(entry.get("terms"), where, "terms")
        if not terms:
            raise CrosswalkDataError(f"{where}: 'terms' is required")
        for term in terms:
            key = term_tokens(term, where)
            if key in seen:
                raise CrosswalkDataError(
                    f"{where}: duplicate term {term!r} (already in {seen[key]})"
                )
            seen[key] = where.removeprefix(f"{source}: ")
        return terms

    entries = []
    for number, entry in enumerate(_entries(document.get("entries") or [], source), 1):
        where = f"{source}: entries entry {number}"
        _check_keys(entry, _KEYWORD_KEYS, where)
        terms = unique_terms(entry, where, "entries")
        where = f"{where} ({terms[0]!r})"
        goods, industries = _labels(entry, where, known_goods)
        entries.append(KeywordEntry(language, terms, goods, industries, _why(entry, where), source))
    negatives = []
    for number, entry in enumerate(_entries(document.get("negatives") or [], source), 1):
        where = f"{source}: negatives entry {number}"
        _check_keys(entry, _NEGATIVE_KEYS, where)
        terms = unique_terms(entry, where, "negatives")
        where = f"{where} ({terms[0]!r})"
        blocks = _strings(entry.get("blocks"), where, "blocks")
        if not blocks:
            raise CrosswalkDataError(f"{where}: 'blocks' lists the goods and industries blocked")
        check_goods([b for b in blocks if b not in INDUSTRIES], where, known_goods)
        scope = entry.get("scope", "phrase")
        if scope not in ("phrase", "text"):
            raise CrosswalkDataError(f"{where}: scope must be 'phrase' or 'text'")
        unless = _strings(entry.get("unless"), where, "unless")
        for term in unless:
            term_tokens(term, where)
        negatives.append(
            NegativeEntry(language, terms, blocks, scope, _why(entry, where), source, unless)
        )
    purpose_words = []
    for word in _strings(document.get("purpose_words"), source, "purpose_words"):
        found = tokens(normalise(word))
        if len(found) != 1:
            raise CrosswalkDataError(f"{source}: purpose word {word!r} must be one word")
        purpose_words.append(found[0])
    return KeywordFile(language, tuple(entries), tuple(negatives), tuple(purpose_words))
