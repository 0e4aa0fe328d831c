"""The item classifier: codes first, then description keywords, negatives, category fallback.

Built once from the data files (:meth:`Classifier.load`), then :meth:`Classifier.classify_item`
is called for every item. How one item is classified:

1. **Code.** The scheme name is normalised (:mod:`~tipaudit.procurement.classify.schemes`)
   and the code looked up in that scheme's crosswalk; the most specific prefix wins. Invalid
   codes (a "CPV" code that is not a CPV 2008 code) give nothing and a note. When there is no
   usable code but the classification description is exactly a CPV label (in English, Spanish,
   French, Romanian, Ukrainian or Russian), that code is used.
2. **Keywords** in the description, the classification description and the extra text
   (process title, ...) in every language, matched on whole normalised words.
   The classification description only speaks when the item's own text and the extra text
   say nothing (it names a category, not the item), and not at all when it is just the
   code's official label. Keywords in the few words after "para"/"pentru"/"for" in the
   description name what the item is *for* and are set aside; only the first
   :data:`MAX_WORDS` words of each text are read.
3. **Negatives** block labels: a negative's labels are removed from the code's mapping and
   from keywords overlapping it (``scope: phrase``) or anywhere in the text (``scope: text``),
   unless one of its ``unless`` terms occurs.
4. The code's and the keywords' labels are joined — except that a **weak** code mapping
   (budget lines) is dropped when any keyword identified the item.
5. **Category fallback**: when neither code nor keywords placed the item in an industry (or in
   ``none``), ``mainProcurementCategory: works`` gives ``construction``.

Results are cached per distinct input (``cache_size``): OCDS repeats the same item in tender,
award and contract, and the same classification labels and process titles across items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tipaudit.procurement.classify.data import (
    PACKAGE_FOLDER,
    CodeEntry,
    KeywordEntry,
    KeywordFile,
    NegativeEntry,
    load_crosswalk_file,
    load_keyword_file,
    term_tokens,
)
from tipaudit.procurement.classify.matcher import HanMatcher, Hit, WordMatcher
from tipaudit.procurement.classify.model import (
    NONE,
    CrosswalkDataError,
    ItemClassification,
    Match,
)
from tipaudit.procurement.classify.schemes import SchemeCode, scheme_code
from tipaudit.procurement.classify.text import (
    analyse,
    damaged_variant,
    has_han,
    label_key,
    normalise,
)
from tipaudit.procurement.classify.vocabularies import (
    DATA_FOLDER,
    CpvVocabulary,
    UnspscVocabulary,
    load_cpv,
    load_unspsc,
)

if TYPE_CHECKING:
    from tipaudit.refdata import ReferenceData

__all__ = ["CATEGORY_INDUSTRIES", "Classifier", "bundled_ilab_goods"]

#: OCDS ``mainProcurementCategory`` → industry, used only when nothing else placed the item.
#: Works are construction by definition (ISIC F); goods and services say nothing specific.
CATEGORY_INDUSTRIES: dict[str, str] = {"works": "construction"}

_ILAB_EDITION = "2022"

#: Keywords are looked for in the first this many words of each text: an item's name comes
#: first, and long technical specifications after it mention parts and materials
#: ("... cu conector de 15 mm ...") that are not what is bought.
MAX_WORDS = 60
#: ... and, before that, the first this many characters (the text is normalised only so far).
MAX_CHARS = 800

#: How many words after a purpose word ("para", "pentru", "for") name the item's destination.
PURPOSE_WINDOW = 4


def bundled_ilab_goods(edition: str = _ILAB_EDITION) -> frozenset[str]:
    """The good names of the bundled ILAB List of Goods (checksum verified)."""
    from tipaudit.refdata import ilab
    from tipaudit.refdata._io import sha256_bytes
    from tipaudit.refdata.manifest import MANIFEST_NAME, DatasetKind, read_manifest
    from tipaudit.refdata.registry import BUNDLED_FOLDER

    infos = read_manifest(
        (BUNDLED_FOLDER / MANIFEST_NAME).read_bytes(), origin="bundled", folder=BUNDLED_FOLDER
    )
    for info in infos:
        if info.kind is DatasetKind.ILAB_GOODS and info.edition == edition:
            entry = info.files[0]
            data = (BUNDLED_FOLDER / entry.path).read_bytes()
            if sha256_bytes(data) != entry.sha256:
                raise CrosswalkDataError(f"bundled {entry.path}: checksum mismatch")
            return frozenset(ilab.goods_from_json(data, origin=entry.path).goods())
    raise CrosswalkDataError(f"no bundled ILAB List of Goods edition {edition}")


_Role = Literal["keyword", "negative", "unless"]
_Kind = Literal["good", "industry", "none"]
_Field = Literal["description", "classification description", "extra text"]
_FIELDS: tuple[_Field, ...] = ("description", "classification description", "extra text")


@dataclass(frozen=True, slots=True, eq=False)
class _Term:
    """A matcher payload: one written term of a keyword entry, a negative or its ``unless``."""

    entry: KeywordEntry | NegativeEntry
    term: str
    role: _Role
    #: Keyword terms: per field, the (label, kind, match) it gives — built once.
    matches: dict[str, tuple[tuple[str, _Kind, Match], ...]] = field(default_factory=dict)


_FoundHit = tuple[_Field, Hit[_Term], bool]


@dataclass(frozen=True, slots=True, eq=False)
class _CodeResult:
    """What a code (or a classification text equal to a code's label) maps to."""

    entry: CodeEntry | None
    #: ``CPV 18113000 'Industrial clothing'`` or the label-lookup sentence.
    subject: str
    note: str | None = None
    #: The code's official labels as label keys (CPV: every vendored language).
    labels: frozenset[str] = frozenset()
    #: The (label, kind, match) triples of the mapping — built once per code.
    matches: tuple[tuple[str, _Kind, Match], ...] = ()

    def is_label(self, text: str) -> bool:
        """Whether a text is just this code's official label."""
        return bool(text) and bool(self.labels) and " ".join(analyse(text)[1]) in self.labels


def _kind(label: str, goods: tuple[str, ...]) -> _Kind:
    if label in goods:
        return "good"
    return "none" if label == NONE else "industry"


def _code_result(
    entry: CodeEntry | None,
    subject: str,
    note: str | None = None,
    labels: frozenset[str] = frozenset(),
) -> _CodeResult:
    matches: list[tuple[str, _Kind, Match]] = []
    if entry is not None:
        for label in (*entry.goods, *entry.industries):
            evidence = (
                f"{subject} → {label} ({entry.source_file}, {entry.code}"
                f"{_quoted(entry.title)}: {entry.why})"
            )
            matches.append(
                (
                    label,
                    _kind(label, entry.goods),
                    Match(label, "code", evidence, entry.source_file),
                )
            )
    return _CodeResult(entry, subject, note, labels, tuple(matches))


class Classifier:
    """Classifies procurement items into ILAB goods and PPN 02/23 high-risk industries."""

    def __init__(
        self,
        *,
        code_entries: Iterable[CodeEntry],
        keyword_files: Iterable[KeywordFile],
        cpv: CpvVocabulary,
        unspsc: UnspscVocabulary,
        cache_size: int = 65_536,
    ) -> None:
        self._cpv = cpv
        self._unspsc = unspsc
        self._tables: dict[str, dict[str, CodeEntry]] = {}
        for entry in code_entries:
            self._tables.setdefault(entry.scheme, {})[entry.prefix] = entry
        self.code_entries = tuple(e for table in self._tables.values() for e in table.values())
        self.keyword_files = tuple(keyword_files)
        self._words: WordMatcher[_Term] = WordMatcher()
        self._han: HanMatcher[_Term] = HanMatcher()
        for file in self.keyword_files:
            for keyword in file.entries:
                for term in keyword.terms:
                    self._add_term(term, _keyword_term(keyword, term))
            for negative in file.negatives:
                for term in negative.terms:
                    self._add_term(term, _Term(negative, term, "negative"))
                for term in negative.unless:
                    self._add_term(term, _Term(negative, term, "unless"))
        self._purpose_words = frozenset(
            word for file in self.keyword_files for word in file.purpose_words
        )
        self._code_cache: dict[tuple[str, str], _CodeResult] = {}
        self._label_cache: dict[str, _CodeResult | None] = {}
        self._hits_cache: dict[
            tuple[str, str], tuple[tuple[tuple[Hit[_Term], bool], ...], tuple[str, ...]]
        ] = {}
        self._classify_cached = (
            lru_cache(maxsize=cache_size)(self._classify) if cache_size else self._classify
        )

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        *,
        ilab_goods: Iterable[str] | None = None,
        folder: Path | None = None,
        data_folder: Path | None = None,
        cache_size: int = 65_536,
    ) -> Classifier:
        """Build from ``crosswalk/*.yaml`` and ``keywords/*.yaml``.

        ``ilab_goods`` are the valid good names (default: the bundled 2022 List of Goods);
        ``folder`` holds ``crosswalk/`` and ``keywords/`` (default: this package) and
        ``data_folder`` the vendored vocabularies; tests point them at copies with a broken
        file. ``cache_size`` distinct inputs are memoised (0: none). Raises
        :class:`CrosswalkDataError` naming the file and entry of any problem.
        """
        known = frozenset(ilab_goods) if ilab_goods is not None else bundled_ilab_goods()
        root = folder or PACKAGE_FOLDER
        cpv = load_cpv(data_folder or DATA_FOLDER)
        unspsc = load_unspsc(data_folder or DATA_FOLDER)
        crosswalks = sorted((root / "crosswalk").glob("*.yaml"))
        keywords = sorted((root / "keywords").glob("*.yaml"))
        if not crosswalks or not keywords:
            raise CrosswalkDataError(f"{root}: no crosswalk/*.yaml or keywords/*.yaml files")
        entries: list[CodeEntry] = []
        seen: dict[tuple[str, str], str] = {}
        for path in crosswalks:
            for entry in load_crosswalk_file(path, known_goods=known, cpv=cpv, unspsc=unspsc):
                key = (entry.scheme, entry.prefix)
                if key in seen:
                    raise CrosswalkDataError(
                        f"{entry.source_file}: code {entry.code} of {entry.scheme} is also "
                        f"mapped in {seen[key]}"
                    )
                seen[key] = entry.source_file
                entries.append(entry)
        files = [load_keyword_file(path, known_goods=known) for path in keywords]
        return cls(
            code_entries=entries,
            keyword_files=files,
            cpv=cpv,
            unspsc=unspsc,
            cache_size=cache_size,
        )

    @classmethod
    def from_reference_data(cls, refdata: ReferenceData, *, cache_size: int = 65_536) -> Classifier:
        """Build with the good names of the 2022 List of Goods served by ``refdata``."""
        goods = refdata.ilab_goods(_ILAB_EDITION).goods()
        return cls.load(ilab_goods=goods, cache_size=cache_size)

    def _add_term(self, term: str, payload: _Term) -> None:
        item = payload.entry
        normalised = normalise(term)
        if has_han(normalised):
            self._han.add(normalised.replace("*", ""), payload)
            return
        words = term_tokens(term, item.source_file)
        self._words.add(words, payload)
        damaged = damaged_variant(term)
        if damaged is not None:
            variant = term_tokens(damaged, item.source_file)
            if variant != words:
                self._words.add(variant, payload)

    # -- classification ----------------------------------------------------------------------
    def classify_item(
        self,
        scheme: str | None,
        code: str | None,
        description: str | None,
        *,
        extra_text: str | None = None,
        classification_description: str | None = None,
        category: str | None = None,
    ) -> ItemClassification:
        """Classify one item.

        ``scheme``, ``code`` and ``classification_description`` are the item's
        ``classification``; ``description`` its own text; ``extra_text`` anything else worth
        reading (the process title or description, when the item says little); ``category``
        the process's ``mainProcurementCategory``. All may be ``None`` or messy.
        """
        return self._classify_cached(
            scheme or "",
            code or "",
            description or "",
            extra_text or "",
            classification_description or "",
            (category or "").strip().casefold(),
        )

    def cache_clear(self) -> None:
        """Forget memoised results (e.g. before measuring throughput)."""
        clear = getattr(self._classify_cached, "cache_clear", None)
        if clear is not None:
            clear()

    def _classify(
        self,
        scheme: str,
        code: str,
        description: str,
        extra_text: str,
        classification_description: str,
        category: str,
    ) -> ItemClassification:
        notes: list[str] = []
        code_result = self._code(scheme, code, classification_description, description)
        if code_result is not None:
            if code_result.note:
                notes.append(code_result.note)
            if code_result.is_label(classification_description):
                classification_description = ""  # only the code's label: the code spoke
        positives, negatives = self._keyword_hits(
            (description, classification_description, extra_text), notes
        )
        positives, negatives = self._set_aside_category_text(positives, negatives, notes)

        goods, industries, not_at_risk = self._keyword_labels(positives, negatives, notes)
        identified = bool(goods or industries or not_at_risk)
        code_goods, code_industries, code_none = self._code_labels(
            code_result, negatives, identified, notes
        )

        industry_list = [*code_industries, *industries]
        none_list = [*code_none, *not_at_risk]
        if not industry_list and not none_list and category in CATEGORY_INDUSTRIES:
            label = CATEGORY_INDUSTRIES[category]
            industry_list.append(
                Match(
                    label,
                    "category",
                    f"mainProcurementCategory '{category}' → {label} (neither code nor "
                    "keywords placed the item)",
                    "classifier.py (CATEGORY_INDUSTRIES)",
                )
            )
        return ItemClassification(
            goods=(*code_goods, *goods),
            industries=tuple(industry_list),
            not_at_risk=tuple(none_list),
            notes=tuple(dict.fromkeys(notes)) if notes else (),
        )

    def _keyword_labels(
        self, positives: list[_FoundHit], negatives: list[_FoundHit], notes: list[str]
    ) -> tuple[list[Match], list[Match], list[Match]]:
        """Goods, industries and ``none`` matches of the keyword hits that no negative blocks."""
        found: dict[_Kind, dict[str, Match]] = {"good": {}, "industry": {}, "none": {}}
        for place, hit, han in positives:
            blockers = self._blockers(place, hit, han, negatives) if negatives else {}
            for label, kind, match in hit.payload.matches[place]:
                if label in blockers:
                    notes.append(
                        f"keyword '{hit.payload.term}' in {place} would give {label}; "
                        f"blocked by {blockers[label]}"
                    )
                else:
                    found[kind].setdefault(label, match)
        return (
            list(found["good"].values()),
            list(found["industry"].values()),
            list(found["none"].values()),
        )

    @staticmethod
    def _code_labels(
        code_result: _CodeResult | None,
        negatives: list[_FoundHit],
        identified: bool,
        notes: list[str],
    ) -> tuple[list[Match], list[Match], list[Match]]:
        """Goods, industries and ``none`` matches of the code, minus blocked labels."""
        found: dict[_Kind, list[Match]] = {"good": [], "industry": [], "none": []}
        if code_result is None or code_result.entry is None:
            return found["good"], found["industry"], found["none"]
        if code_result.entry.weak and identified:
            notes.append(
                f"{code_result.subject}: weak mapping ({code_result.entry.source_file}) set "
                "aside because keywords in the text identify the item"
            )
            return found["good"], found["industry"], found["none"]
        blocked = (
            {
                label
                for _place, hit, _han in negatives
                for label in hit.payload.entry.blocks  # type: ignore[union-attr]
            }
            if negatives
            else set()
        )
        for label, kind, match in code_result.matches:
            if label in blocked:
                notes.append(
                    f"{code_result.subject} would give {label}; blocked by a negative keyword "
                    "in the text"
                )
            else:
                found[kind].append(match)
        return found["good"], found["industry"], found["none"]

    def _keyword_hits(
        self, texts: tuple[str, str, str], notes: list[str]
    ) -> tuple[list[_FoundHit], list[_FoundHit]]:
        """Keyword hits and active negative hits (negatives whose ``unless`` is absent)."""
        positives: list[_FoundHit] = []
        negatives: list[_FoundHit] = []
        excused: set[int] = set()
        for place, text in zip(_FIELDS, texts, strict=True):
            if not text:
                continue
            if place == "description":  # mostly distinct: whole items are memoised instead
                found, text_notes = self._text_hits(place, text)
            else:  # category labels and process titles repeat across many items
                key = (place, text)
                cached = self._hits_cache.get(key)
                if cached is None:
                    cached = self._text_hits(place, text)
                    if len(self._hits_cache) >= _HITS_CACHE_LIMIT:
                        self._hits_cache.clear()
                    self._hits_cache[key] = cached
                found, text_notes = cached
            notes.extend(text_notes)
            for hit, han in found:
                role = hit.payload.role
                if role == "keyword":
                    positives.append((place, hit, han))
                elif role == "negative":
                    negatives.append((place, hit, han))
                else:
                    excused.add(id(hit.payload.entry))
        if excused:
            negatives = [n for n in negatives if id(n[1].payload.entry) not in excused]
        return positives, negatives

    def _text_hits(
        self, place: _Field, text: str
    ) -> tuple[tuple[tuple[Hit[_Term], bool], ...], tuple[str, ...]]:
        """Every term found in one text (first :data:`MAX_WORDS` words), and notes."""
        notes: list[str] = []
        normalised, words, han_text = analyse(text[:MAX_CHARS])
        if len(words) > MAX_WORDS:
            words = words[:MAX_WORDS]
        found = [(hit, False) for hit in self._words.find(words)]
        if place == "description" and not self._purpose_words.isdisjoint(words):
            found = self._drop_purpose(words, found, notes)
        if han_text and self._han:
            found += [(hit, True) for hit in self._han.find(normalised)]
        return tuple(found), tuple(notes)

    def _drop_purpose(
        self,
        words: Sequence[str],
        found: list[tuple[Hit[_Term], bool]],
        notes: list[str],
    ) -> list[tuple[Hit[_Term], bool]]:
        """Drop keywords naming what the item is for: "Acumulator pentru stație radio".

        A keyword that lies within :data:`PURPOSE_WINDOW` words after a purpose word
        ("para", "pentru", "for") describes the destination, not the item.
        """
        spans = [
            (index + 1, index + 1 + PURPOSE_WINDOW)
            for index, word in enumerate(words)
            if index > 0 and word in self._purpose_words
        ]
        kept = []
        for hit, han in found:
            if hit.payload.role == "keyword" and any(
                start <= hit.start and hit.end <= end for start, end in spans
            ):
                notes.append(
                    f"keyword '{hit.payload.term}' in description set aside: it names what "
                    "the item is for, not the item"
                )
                continue
            kept.append((hit, han))
        return kept

    @staticmethod
    def _set_aside_category_text(
        positives: list[_FoundHit], negatives: list[_FoundHit], notes: list[str]
    ) -> tuple[list[_FoundHit], list[_FoundHit]]:
        """Keywords of the classification description count only when nothing else speaks.

        A classification description names a category ("Echipament radio", "MATERIAL DE
        CURACION", "Architectural engineering"); when the item's own text or the extra text
        names the item, that is more specific and wins (labelling rule), and the category's
        keywords and negatives are set aside.
        """
        category = "classification description"
        if not any(p[0] == category for p in positives) and not any(
            n[0] == category for n in negatives
        ):
            return positives, negatives
        own = [p for p in positives if p[0] != category]
        if not own:
            return positives, negatives
        own_negatives = [n for n in negatives if n[0] != category]
        if len(own) < len(positives) or len(own_negatives) < len(negatives):
            notes.append(
                "keywords in the classification description set aside: the item's own text "
                "is more specific"
            )
        return own, own_negatives

    @staticmethod
    def _blockers(
        place: str, hit: Hit[_Term], han: bool, negatives: Sequence[_FoundHit]
    ) -> dict[str, str]:
        """Which of a keyword hit's labels are blocked, and by what."""
        labels = [label for label, _kind, _match in hit.payload.matches[place]]
        blockers: dict[str, str] = {}
        for neg_place, neg_hit, neg_han in negatives:
            negative = neg_hit.payload.entry
            assert isinstance(negative, NegativeEntry)
            overlaps = (
                neg_place == place
                and neg_han == han
                and neg_hit.start < hit.end
                and hit.start < neg_hit.end
            )
            if negative.scope == "text" or overlaps:
                for label in labels:
                    if label in negative.blocks and label not in blockers:
                        blockers[label] = (
                            f"negative '{neg_hit.payload.term}' in {neg_place} "
                            f"({negative.source_file}: {negative.why})"
                        )
        return blockers

    # -- codes -------------------------------------------------------------------------------
    def _code(
        self, scheme: str, code: str, classification_description: str, description: str
    ) -> _CodeResult | None:
        """The code's mapping; else a classification text that is a CPV label; else a note."""
        found = scheme_code(scheme, code)
        result: _CodeResult | None = None
        if found is not None:
            key = (found.scheme, found.code)
            result = self._code_cache.get(key)
            if result is None:
                result = self._lookup(found, code)
                if len(self._code_cache) >= _CACHE_LIMIT:
                    self._code_cache.clear()
                self._code_cache[key] = result
            if result.entry is not None:
                return result
        for place, text in (
            ("classification description", classification_description),
            ("description", description),
        ):
            by_label = self._by_label(text)
            if by_label is not None:
                note = result.note if result is not None else None
                return _code_result(
                    by_label.entry, f"{place} {by_label.subject}", note, by_label.labels
                )
        return result

    def _by_label(self, text: str) -> _CodeResult | None:
        if not text or len(text) > 200:
            return None
        if text in self._label_cache:
            return self._label_cache[text]
        codes = self._cpv.by_label.get(" ".join(analyse(text)[1]), ())
        result = None
        entries = {self._longest("CPV", c) for c in codes}
        if codes and len(entries) == 1:
            entry = next(iter(entries))
            if entry is not None:
                code8 = codes[0]
                result = _code_result(
                    entry,
                    f"{text.strip()[:80]!r} is the CPV label of {code8} "
                    f"{self._cpv.english(code8)!r}",
                    labels=frozenset(label_key(x) for x in self._cpv.labels[code8] if x),
                )
        if len(self._label_cache) >= _CACHE_LIMIT:
            self._label_cache.clear()
        self._label_cache[text] = result
        return result

    def _longest(self, scheme: str, digits: str) -> CodeEntry | None:
        table = self._tables.get(scheme, {})
        for length in range(len(digits), 0, -1):
            entry = table.get(digits[:length])
            if entry is not None:
                return entry
        return None

    def _lookup(self, found: SchemeCode, raw_code: str) -> _CodeResult:
        scheme, cleaned = found.scheme, found.code
        shown = raw_code.strip()[:40]
        if scheme in {"CPV", "CPV-AM"}:
            return self._lookup_cpv(scheme, cleaned, shown)
        if scheme == "UNSPSC":
            digits = cleaned[:8]
            if not (
                digits.isdigit() and len(digits) == 8 and digits[:2] + "000000" in self._unspsc
            ):
                return _code_result(
                    None, "", f"UNSPSC code {shown!r} is not a UNSPSC code; ignored"
                )
            title = self._unspsc.title(digits)
            subject = f"UNSPSC {digits}" + (f" (in {title!r})" if title else "")
            table = self._tables.get("UNSPSC", {})
            entry = None
            for length in (8, 6, 4, 2):
                entry = table.get(digits[:length])
                if entry is not None:
                    break
            return _code_result(entry, subject)
        entry = self._longest(scheme, cleaned)
        subject = f"{scheme} {shown}" + (f" ({found.reason})" if scheme == "COG-MX" else "")
        return _code_result(entry, subject)

    def _lookup_cpv(self, scheme: str, digits: str, shown: str) -> _CodeResult:
        if not digits.isdigit() or len(digits) < 8:
            return _code_result(None, "", f"{scheme} code {shown!r} is not a CPV code; ignored")
        if scheme == "CPV":
            code8 = digits[:8]
            if len(digits) > 9 or code8 not in self._cpv:
                return _code_result(None, "", f"CPV code {shown!r} is not a CPV 2008 code; ignored")
        else:
            code8 = next(
                (
                    digits[:length].ljust(8, "0")
                    for length in range(8, 1, -1)
                    if digits[:length].ljust(8, "0") in self._cpv
                ),
                "",
            )
            if not code8:
                return _code_result(
                    None, "", f"{scheme} code {shown!r} does not start a CPV code; ignored"
                )
        subject = f"{scheme} {digits[:8]} {self._cpv.english(code8)!r}"
        if code8 != digits[:8]:
            subject = f"{scheme} {digits[:8]} (under CPV {code8} {self._cpv.english(code8)!r})"
        labels = frozenset(label_key(label) for label in self._cpv.labels[code8] if label)
        return _code_result(self._longest("CPV", code8), subject, labels=labels)


_CACHE_LIMIT = 100_000
_HITS_CACHE_LIMIT = 20_000


def _keyword_term(entry: KeywordEntry, term: str) -> _Term:
    matches: dict[str, tuple[tuple[str, _Kind, Match], ...]] = {}
    for place in _FIELDS:
        matches[place] = tuple(
            (
                label,
                _kind(label, entry.goods),
                Match(
                    label,
                    "keyword",
                    f"keyword '{term}' ({entry.language}) in {place} → {label}: {entry.why}",
                    entry.source_file,
                ),
            )
            for label in (*entry.goods, *entry.industries)
        )
    return _Term(entry, term, "keyword", matches)


def _quoted(title: str | None) -> str:
    return f" {title!r}" if title else ""
