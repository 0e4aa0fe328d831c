"""Scoring a query against a list entity, feature by feature, with the reasons in plain words.

The score is the sum of ``weight * score`` over :data:`FEATURES`, clipped to 0..1. The three
name features carry weights that add up to 1 (two identical names score 1 before qualifiers);
the other features are qualifiers: positive weights for agreeing evidence (identifiers, country,
birth date, legal form), negative weights — penalties — for contradicting evidence. A feature
that has nothing to compare (no birth date on one side) scores 0 and says so.

``match`` is ``score >= threshold``; :data:`DEFAULT_THRESHOLD` was chosen on the tuning parts
of the evaluation sets (see ``docs/entity-matching.md``).
"""

from __future__ import annotations

import gc
import math
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import FrozenInstanceError, dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler
from rigour.names import NameTypeTag, SymbolCategory, analyze_names
from rigour.text import metaphone

from tipaudit.screening.index import IDENTIFIER_KEY_WEIGHT, Candidate, MatchIndex, names_of
from tipaudit.screening.model import CONTACT_SCHEMES, ListEntity, Query, identifier_scheme
from tipaudit.screening.names import NormalisedName, normalise_name, skeleton

#: Chosen on the tuning parts (``tipaudit entities evaluate``; ``evaluate.tune_threshold``): the
#: threshold with the best F1 over the pooled tuning parts, on a grid of step 0.01.
DEFAULT_THRESHOLD = 0.73

#: Two tokens are taken as the same word from this Jaro-Winkler similarity on.
TOKEN_MATCH = 0.85
#: Words this short (Chinese syllables, ``Ali``) must be spelt alike: one edit turns ``guo``
#: into ``gao``, another name.
SHORT_WORD = 3
#: At most one edit per this many letters between two spellings of the same word.
MAX_EDIT_SHARE = 4
#: The least similarity of two spellings taken as the same word.
SAME_WORD = 0.88
#: The most similarity of two words taken as different words.
DIFFERENT_WORD = 0.8
#: Whole-string measures (token sort, spaces ignored) count only from this similarity on:
#: below it, names that share long words but differ in one ("Golden Harvest Foods" and
#: "Golden Harvest Textiles") would look alike; the word-by-word alignment judges those.
WHOLE_STRING_FLOOR = 0.88
#: ... and from this one when both names have as many words (then the words are compared
#: one by one anyway; a whole-string measure only rescues typos that cross a word boundary).
SAME_LENGTH_WHOLE_STRING_FLOOR = 0.92
#: A nickname and the name it stands for (``Bill``/``William``) count this much.
NICKNAME_MATCH = 0.88
#: A person's name that agrees except for one missing middle name counts this much.
PARTIAL_NAME = 0.9
#: An initial ("J") against a word starting with that letter counts this much.
INITIAL_MATCH = 0.9
#: Comparing consonant skeletons is weaker evidence than comparing spellings.
SKELETON_DISCOUNT = 0.95
#: Name similarity below this counts as none (unrelated names still share some letters).
NAME_FLOOR = 0.5
#: Tokens beyond this many per name are not compared (hostile input).
MAX_TOKENS = 20

_ORG_SCHEMAS = frozenset({"Organization", "Company"})


@dataclass(frozen=True, slots=True)
class Alignment:
    """Tokens of two names paired one-to-one (order ignored), with the overall similarity."""

    similarity: float
    pairs: tuple[tuple[str, str, float], ...]


@dataclass(frozen=True, slots=True)
class NameComparison:
    """How similar two normalised names are, and by which method."""

    query: NormalisedName
    entity: NormalisedName
    similarity: float
    method: str
    alignment: Alignment


@lru_cache(maxsize=100_000)
def _sound(token: str) -> str:
    return metaphone(token) if token.isalpha() else token


@lru_cache(maxsize=100_000)
def _nicknames(token: str) -> frozenset[str]:
    """The nickname groups rigour files a given name under (``bob`` and ``robert``: BOB)."""
    if len(token) < 2 or not token.isalpha():
        return frozenset()
    return frozenset(
        symbol.id
        for name in analyze_names(
            NameTypeTag.PER,
            [token],
            phonetics=False,
            numerics=False,
            consolidate=False,
            rewrite=False,
        )
        for symbol in name.symbols
        if symbol.category == SymbolCategory.NICK
    )


def _token_similarity(a: str, b: str) -> float:
    """Jaro-Winkler similarity of two words, when they are plausibly the same word.

    Jaro-Winkler rewards a shared beginning, so different names with a common stem
    (``Abdulaziz``/``Abdullah``, ``Xiaoming``/``Xiaohong``, ``Guo``/``Guoqiang``) look alike.
    Two words of more than :data:`SHORT_WORD` letters therefore count as the same (at least
    :data:`TOKEN_MATCH`) only when one edit (a swap counts as one) separates them, or at most
    one edit per four letters (two for shorter words), lengths within one letter, with the same
    consonants, or for words of eight letters or more the same Metaphone code
    (``Mohammed``/``Muhammad``, ``Yusuf``/``Yousif``) separates them, or when rigour knows one as
    a nickname of the other (``Bob``/``Robert``, ``Ed``/``Edward``: :data:`NICKNAME_MATCH`);
    otherwise they stay below :data:`TOKEN_MATCH`.
    """
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return INITIAL_MATCH if a[0] == b[0] else 0.0
    similarity = JaroWinkler.normalized_similarity(a, b)
    longest = max(len(a), len(b))
    if longest > SHORT_WORD:
        allowed = max(2, longest // MAX_EDIT_SHARE)
        edits = OSA.distance(a, b, score_cutoff=allowed + 1)
        if edits <= 1:
            return max(similarity, SAME_WORD)
        if (
            edits <= allowed
            and abs(len(a) - len(b)) <= 1
            and (skeleton(a) == skeleton(b) or (longest >= 8 and _sound(a) == _sound(b)))
        ):
            return max(similarity, SAME_WORD)
    if _nicknames(a) & _nicknames(b):
        return NICKNAME_MATCH
    return min(similarity, DIFFERENT_WORD)


def align_tokens(
    left: tuple[str, ...], right: tuple[str, ...], *, exact: bool = False
) -> Alignment:
    """Pair tokens greedily by similarity; score matched letters over all letters.

    With ``exact`` only identical tokens pair.
    """
    left, right = left[:MAX_TOKENS], right[:MAX_TOKENS]
    total = sum(map(len, left)) + sum(map(len, right))
    if not total:
        return Alignment(0.0, ())
    # Only pairs that can be paired (at least TOKEN_MATCH) are kept and sorted.
    if exact:
        scored = [(1.0, i, j) for i, a in enumerate(left) for j, b in enumerate(right) if a == b]
    else:
        similarity = _token_similarity
        scored = [
            (sim, i, j)
            for i, a in enumerate(left)
            for j, b in enumerate(right)
            if (sim := similarity(a, b)) >= TOKEN_MATCH
        ]
    scored.sort(reverse=True)
    used_left: set[int] = set()
    used_right: set[int] = set()
    pairs: list[tuple[str, str, float]] = []
    matched = 0.0
    for sim, i, j in scored:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        pairs.append((left[i], right[j], sim))
        matched += sim * (len(left[i]) + len(right[j]))
    return Alignment(matched / total, tuple(pairs))


def _missing_middle_name(
    query: NormalisedName, entity: NormalisedName, alignment: Alignment
) -> tuple[float, str, Alignment] | None:
    """People's names where one side has one more word (a middle name or patronymic) and
    every word of the shorter name agrees: scored on the shorter name, discounted."""
    if query.kind != "person" and entity.kind != "person":
        return None
    if query.han or entity.han:
        # A Chinese name has no middle name: a missing syllable is part of the given name.
        return None
    shorter, longer = sorted((query.tokens, entity.tokens), key=len)
    if len(shorter) < 2 or len(longer) != len(shorter) + 1 or len(longer) > MAX_TOKENS:
        return None
    if len(alignment.pairs) != len(shorter):
        return None
    letters = sum(len(a) + len(b) for a, b, _s in alignment.pairs)
    similarity = sum(sim * (len(a) + len(b)) for a, b, sim in alignment.pairs) / letters
    return (
        similarity * PARTIAL_NAME,
        "every word of the shorter name agrees; one middle name or patronymic is missing",
        alignment,
    )


def compare_names(query: NormalisedName, entity: NormalisedName) -> NameComparison:
    """The best of several similarity measures between two normalised names."""
    if query.empty or entity.empty:
        return NameComparison(query, entity, 0.0, "nothing to compare", Alignment(0.0, ()))
    if query.han and entity.han:
        # Both written in Chinese characters: syllables that differ by a letter are other
        # characters, so only identical words count.
        exact = align_tokens(query.tokens, entity.tokens, exact=True)
        return NameComparison(
            query,
            entity,
            round(exact.similarity, 4),
            "Chinese characters, words compared exactly",
            exact,
        )
    alignment = align_tokens(query.tokens, entity.tokens)
    options: list[tuple[float, str, Alignment]] = [
        (alignment.similarity, "word by word, token order ignored", alignment),
    ]
    partial = _missing_middle_name(query, entity, alignment)
    if partial is not None:
        options.append(partial)
    for whole, method in (
        (fuzz.token_sort_ratio(query.sorted_key, entity.sorted_key) / 100.0, "token order ignored"),
        (fuzz.ratio(query.compact, entity.compact) / 100.0, "spaces ignored"),
    ):
        floor = WHOLE_STRING_FLOOR
        if len(query.tokens) == len(entity.tokens):
            floor = SAME_LENGTH_WHOLE_STRING_FLOOR
        if whole >= floor:
            options.append((whole, method, alignment))
    if query.abjad or entity.abjad:
        skeleton = align_tokens(query.skeleton_tokens, entity.skeleton_tokens)
        options.append(
            (
                skeleton.similarity * SKELETON_DISCOUNT,
                "consonants compared because one name is written in Arabic or Hebrew script",
                skeleton,
            )
        )
    similarity, method, chosen = max(options, key=lambda option: option[0])
    return NameComparison(query, entity, round(similarity, 4), method, chosen)


@dataclass(frozen=True, slots=True)
class FeatureResult:
    """One feature's verdict on a pair: its score, its weight and the reason in words."""

    name: str
    score: float
    weight: float
    detail: str

    @property
    def contribution(self) -> float:
        """``weight * score``: what this feature adds to (or takes from) the total."""
        return self.weight * self.score


class Match:
    """The result of scoring one list entity against a query.

    Immutable and compared by value, like a frozen dataclass of ``entity_id``, ``score``,
    ``match``, ``features`` and ``explanation``. The feature results are kept packed (names,
    scores, weights, reasons) and become :class:`FeatureResult` objects on first access: a
    batch of a million names moves and writes the explanation of every match between
    processes, and rarely looks at its features one by one.
    """

    __slots__ = ("_features", "_packed", "entity_id", "explanation", "match", "score")

    entity_id: str
    score: float
    match: bool
    explanation: str
    _features: tuple[FeatureResult, ...] | None
    _packed: _Packed | None

    def __init__(
        self,
        entity_id: str,
        score: float,
        match: bool,
        features: tuple[FeatureResult, ...],
        explanation: str,
    ) -> None:
        _init_match(self, entity_id, score, match, explanation, tuple(features), None)

    @classmethod
    def packed(
        cls, entity_id: str, score: float, match: bool, explanation: str, packed: _Packed
    ) -> Match:
        """A match whose features are ``(names, scores, weights, reasons)``, built when read."""
        made = object.__new__(cls)
        _init_match(made, entity_id, score, match, explanation, None, packed)
        return made

    @property
    def features(self) -> tuple[FeatureResult, ...]:
        """Every feature's result, in the scorer's order."""
        features = self._features
        if features is None:
            names, scores, weights, details = self._packed or ((), (), (), ())
            features = tuple(map(FeatureResult, names, scores, weights, details))
            object.__setattr__(self, "_features", features)
        return features

    def _key(self) -> tuple[str, float, bool, tuple[FeatureResult, ...], str]:
        return (self.entity_id, self.score, self.match, self.features, self.explanation)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Match(entity_id={self.entity_id!r}, score={self.score!r}, match={self.match!r}, "
            f"features={self.features!r}, explanation={self.explanation!r})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Callable[..., Match], tuple[Any, ...]]:
        # Batches send matches between processes: flat tuples pickle many times faster than a
        # Python-level state call per feature result. Feature names and weights are the same
        # tuples for every match of a scorer, so pickle writes them once per batch.
        packed = self._packed
        if packed is None:
            features = self.features
            packed = (
                tuple(f.name for f in features),
                tuple(f.score for f in features),
                tuple(f.weight for f in features),
                tuple(f.detail for f in features),
            )
        return Match.packed, (self.entity_id, self.score, self.match, self.explanation, packed)


#: A match's features, packed: names, scores, weights and reasons, in the scorer's order.
_Packed = tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...], tuple[str, ...]]


def _init_match(
    match_: Match,
    entity_id: str,
    score: float,
    match: bool,
    explanation: str,
    features: tuple[FeatureResult, ...] | None,
    packed: _Packed | None,
) -> None:
    for name, value in (
        ("entity_id", entity_id),
        ("score", score),
        ("match", match),
        ("explanation", explanation),
        ("_features", features),
        ("_packed", packed),
    ):
        object.__setattr__(match_, name, value)


@dataclass
class Comparison:
    """A query and a list entity being compared, with their normalised names."""

    query: Query
    entity: ListEntity
    query_names: tuple[NormalisedName, ...]
    entity_names: tuple[NormalisedName, ...]
    token_weight: Callable[[str], float] = field(default=lambda _token: 1.0)

    @cached_property
    def best_names(self) -> NameComparison | None:
        """The most similar pair of names, one from each side (None if a side has none)."""
        best: NameComparison | None = None
        for q in self.query_names[:50]:
            for e in self.entity_names[:200]:
                result = compare_names(q, e)
                if best is None or result.similarity > best.similarity:
                    best = result
        return best


def _quote(name: NormalisedName) -> str:
    return "'" + " ".join(name.original.split())[:80] + "'"


def name_similarity(c: Comparison) -> tuple[float, str]:
    """How alike the two most similar names are, in spelling (0 to 1)."""
    best = c.best_names
    if best is None:
        return 0.0, "one side has no usable name"
    percent = round(best.similarity * 100)
    if best.similarity < NAME_FLOOR:
        return 0.0, (
            f"names {_quote(best.query)} and {_quote(best.entity)} are only {percent}% similar: "
            "too different to count"
        )
    return best.similarity, (
        f"names {_quote(best.query)} and {_quote(best.entity)} are {percent}% similar "
        f"({best.method})"
    )


def token_overlap(c: Comparison) -> tuple[float, str]:
    """Which share of the name words agree, weighting rare words more than common ones."""
    best = c.best_names
    if best is None:
        return 0.0, "one side has no usable name"
    matched_q = {a for a, _b, _s in best.alignment.pairs}
    matched_e = {b for _a, b, _s in best.alignment.pairs}
    if best.alignment.pairs and best.method.startswith("consonants"):
        q_tokens, e_tokens = best.query.skeleton_tokens, best.entity.skeleton_tokens
    else:
        q_tokens, e_tokens = best.query.tokens, best.entity.tokens
    # Each word's weight is looked up once; the sums add in the same order as always.
    q_weights = [c.token_weight(t) for t in q_tokens]
    e_weights = [c.token_weight(t) for t in e_tokens]
    total = sum(q_weights + e_weights)
    agreed = sum([w for t, w in zip(q_tokens, q_weights, strict=True) if t in matched_q]) + sum(
        [w for t, w in zip(e_tokens, e_weights, strict=True) if t in matched_e]
    )
    score = agreed / total if total else 0.0
    shared = ", ".join(sorted({a for a, _b, _s in best.alignment.pairs})) or "none"
    return round(score, 4), (
        f"{round(score * 100)}% of the name words agree, weighted by rarity in the list "
        f"(agreeing: {shared})"
    )


def _common_letters(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    """How many letters two multisets of initials share (``Counter`` intersection size)."""
    if len(left) > MAX_TOKENS or len(right) > MAX_TOKENS:
        return sum((Counter(left) & Counter(right)).values())
    remaining = list(right)
    common = 0
    for letter in left:
        if letter in remaining:
            remaining.remove(letter)
            common += 1
    return common


def initials_compatibility(c: Comparison) -> tuple[float, str]:
    """Whether the initials of the two most similar names agree, ignoring order."""
    best = c.best_names
    if best is None:
        return 0.0, "one side has no usable name"
    q_initials, e_initials = best.query.initials, best.entity.initials
    common = _common_letters(q_initials, e_initials)
    score = common / max(len(q_initials), len(e_initials))
    q_text = " ".join(best.query.initials).upper()
    e_text = " ".join(best.entity.initials).upper()
    verb = "agree" if score == 1.0 else f"share {common} letter(s)"
    return round(score, 4), f"initials {q_text} and {e_text} {verb}"


def _identifier_values(identifiers: tuple[str, ...]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for identifier in identifiers:
        value = identifier.split(":", 1)[-1]
        if value:
            out.setdefault(value, set()).add(identifier_scheme(identifier))
    return out


def identifier_match(c: Comparison) -> tuple[float, str]:
    """Whether both sides carry the same identifier (1), or only the same contact detail (0.5)."""
    q_ids, e_ids = _identifier_values(c.query.identifiers), _identifier_values(c.entity.identifiers)
    if not q_ids or not e_ids:
        return 0.0, "no identifier to compare on one side"
    best, best_text = 0.0, ""
    for value in q_ids.keys() & e_ids.keys():
        schemes = q_ids[value] | e_ids[value]
        if not (q_ids[value] & e_ids[value] or "id" in schemes):
            continue
        score = 0.5 if schemes <= CONTACT_SCHEMES else 1.0
        if score > best:
            best, best_text = score, f"{'/'.join(sorted(schemes))} {value}"
    if not best:
        return 0.0, "identifiers differ"
    kind = "contact detail" if best < 1.0 else "identifier"
    return best, f"same {kind} {best_text} on both sides"


def _countries(values: tuple[str, ...]) -> set[str]:
    return {v.strip().upper() for v in values if v.strip()}


def country_match(c: Comparison) -> tuple[float, str]:
    """Whether the two sides share a country."""
    q, e = _countries(c.query.countries), _countries(c.entity.countries)
    if not q or not e:
        return 0.0, "no country to compare on one side"
    common = q & e
    if common:
        return 1.0, f"both linked to {', '.join(sorted(common))}"
    return 0.0, "no country in common"


def country_mismatch(c: Comparison) -> tuple[float, str]:
    """Whether both sides name countries and none is shared (a penalty)."""
    q, e = _countries(c.query.countries), _countries(c.entity.countries)
    if not q or not e or q & e:
        return 0.0, "no country conflict"
    return 1.0, (
        f"countries differ: query {', '.join(sorted(q))}, list entry {', '.join(sorted(e))}"
    )


def _date_relation(c: Comparison) -> tuple[str, str, str] | None:
    """The closest pair of birth dates: (relation, query date, entity date)."""
    order = {"same": 0, "same-year": 1, "same-year-differs": 2, "one-year": 3, "far": 4}
    best: tuple[str, str, str] | None = None
    for q in c.query.birth_dates:
        for e in c.entity.birth_dates:
            qy, ey = q[:4], e[:4]
            if not (qy.isdigit() and ey.isdigit()):
                continue
            if q == e:
                relation = "same" if len(q) >= 10 else "same-year"
            elif qy == ey:
                shorter = min(len(q), len(e))
                relation = "same-year" if q[:shorter] == e[:shorter] else "same-year-differs"
            elif abs(int(qy) - int(ey)) == 1:
                relation = "one-year"
            else:
                relation = "far"
            if best is None or order[relation] < order[best[0]]:
                best = (relation, q, e)
    return best


def birth_date_match(c: Comparison) -> tuple[float, str]:
    """Whether the birth dates agree: the same day (1) or compatible within the same year (0.6)."""
    relation = _date_relation(c)
    if relation is None:
        return 0.0, "no birth date to compare on one side"
    kind, q, e = relation
    if kind == "same":
        return 1.0, f"same birth date {q}"
    if kind == "same-year":
        return 0.6, f"birth dates {q} and {e} agree as far as both are known"
    return 0.0, f"birth dates {q} and {e} do not agree"


def birth_date_mismatch(c: Comparison) -> tuple[float, str]:
    """Whether the birth dates contradict: other years (1), a year apart (0.5), same year (0.3)."""
    relation = _date_relation(c)
    if relation is None:
        return 0.0, "no birth date to compare on one side"
    kind, q, e = relation
    if kind == "far":
        return 1.0, f"birth dates {q} and {e} are years apart"
    if kind == "one-year":
        return 0.5, f"birth dates {q} and {e} are a year apart"
    if kind == "same-year-differs":
        return 0.3, f"birth dates {q} and {e} share the year only"
    return 0.0, "birth dates do not conflict"


def _legal_forms(names: tuple[NormalisedName, ...]) -> tuple[set[str], set[str]]:
    forms = {f.form for n in names for f in n.legal_forms}
    generic = {f.generic for n in names for f in n.legal_forms if f.generic}
    return forms, generic


def legal_form_agreement(c: Comparison) -> tuple[float, str]:
    """Whether two organisations have the same or an equivalent legal form."""
    if c.query.schema == "Person" or c.entity.schema == "Person":
        return 0.0, "legal forms apply to organisations only"
    qf, qg = _legal_forms(c.query_names)
    ef, eg = _legal_forms(c.entity_names)
    if not (qf and ef):
        return 0.0, "no legal form on one side"
    if qf & ef:
        return 1.0, f"same legal form ({', '.join(sorted(qf & ef))})"
    if qg & eg:
        return 1.0, f"equivalent legal forms ({'/'.join(sorted(qf | ef))}: {', '.join(qg & eg)})"
    return 0.0, f"legal forms {', '.join(sorted(qf))} and {', '.join(sorted(ef))} differ"


def legal_form_mismatch(c: Comparison) -> tuple[float, str]:
    """Whether two organisations have legal forms of different kinds (a penalty)."""
    if c.query.schema == "Person" or c.entity.schema == "Person":
        return 0.0, "legal forms apply to organisations only"
    qf, qg = _legal_forms(c.query_names)
    ef, eg = _legal_forms(c.entity_names)
    if not (qg and eg) or qf & ef or qg & eg:
        return 0.0, "no legal form conflict"
    return (
        1.0,
        f"legal forms of different kinds: {', '.join(sorted(qf))} vs {', '.join(sorted(ef))}",
    )


def schema_mismatch(c: Comparison) -> tuple[float, str]:
    """Whether a person is being compared with an organisation (rules the match out)."""
    kinds = {c.query.schema, c.entity.schema}
    if "Person" in kinds and kinds & _ORG_SCHEMAS:
        return 1.0, f"a {c.query.schema} cannot be a {c.entity.schema}"
    return 0.0, f"{c.query.schema} and {c.entity.schema} are compatible"


@dataclass(frozen=True, slots=True)
class Feature:
    """A named, weighted scoring function; its docstring is its one-sentence description."""

    name: str
    weight: float
    function: Callable[[Comparison], tuple[float, str]]

    @property
    def description(self) -> str:
        """The function's one-sentence docstring."""
        return (self.function.__doc__ or "").strip()


FEATURES: tuple[Feature, ...] = (
    Feature("name_similarity", 0.70, name_similarity),
    Feature("token_overlap", 0.20, token_overlap),
    Feature("initials", 0.10, initials_compatibility),
    Feature("identifier_match", 0.50, identifier_match),
    Feature("country_match", 0.05, country_match),
    Feature("country_mismatch", -0.15, country_mismatch),
    Feature("birth_date_match", 0.10, birth_date_match),
    Feature("birth_date_mismatch", -0.30, birth_date_mismatch),
    Feature("legal_form_agreement", 0.05, legal_form_agreement),
    Feature("legal_form_mismatch", -0.10, legal_form_mismatch),
    Feature("schema_mismatch", -1.00, schema_mismatch),
)


def _explain(
    entity_id: str,
    score: float,
    threshold: float,
    names: tuple[str, ...],
    scores: tuple[float, ...],
    weights: tuple[float, ...],
    details: tuple[str, ...],
) -> str:
    verdict = "match" if score >= threshold else "no match"
    relation = ">=" if score >= threshold else "<"
    lines = [f"{entity_id}: score {score:.2f} {relation} threshold {threshold:.2f}: {verdict}."]
    for name, value, weight, detail in zip(names, scores, weights, details, strict=True):
        contribution = weight * value  # FeatureResult.contribution
        if contribution:
            sign = "+" if contribution > 0 else "-"
            lines.append(f"{sign}{abs(contribution):.2f} {name}: {detail}.")
    return "\n".join(lines)


class Scorer:
    """Scores query-entity pairs with :data:`FEATURES` and decides against a threshold."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        features: tuple[Feature, ...] = FEATURES,
    ) -> None:
        if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self.threshold = threshold
        self.features = features
        self._spec: tuple[tuple[Feature, ...], tuple[str, ...], tuple[float, ...]] = (
            features,
            tuple(f.name for f in features),
            tuple(f.weight for f in features),
        )

    def score(
        self,
        query: Query,
        entity: ListEntity,
        *,
        token_weight: Callable[[str], float] | None = None,
        entity_names: tuple[NormalisedName, ...] | None = None,
        query_names: tuple[NormalisedName, ...] | None = None,
    ) -> Match:
        """Score one pair; every feature's result and reason is kept in the match."""
        comparison = Comparison(
            query,
            entity,
            names_of(query) if query_names is None else query_names,
            names_of(entity) if entity_names is None else entity_names,
            token_weight or (lambda _token: 1.0),
        )
        return self.explain(entity.id, *self.evaluate(comparison))

    def evaluate(self, comparison: Comparison) -> tuple[float, list[tuple[float, str]]]:
        """The score of a pair and every feature's (score, reason), before any
        :class:`FeatureResult` or explanation is built (a batch builds those only for the
        matches it returns)."""
        values = [feature.function(comparison) for feature in self.features]
        total = sum(
            feature.weight * value
            for feature, (value, _detail) in zip(self.features, values, strict=True)
        )
        return round(min(1.0, max(0.0, total)), 4), values

    def explain(self, entity_id: str, score: float, values: list[tuple[float, str]]) -> Match:
        """The :class:`Match` for a score and the feature values :meth:`evaluate` gave."""
        if self._spec[0] is not self.features:  # features replaced after construction
            self._spec = (
                self.features,
                tuple(f.name for f in self.features),
                tuple(f.weight for f in self.features),
            )
        _features, names, weights = self._spec
        scores = tuple(value for value, _detail in values)
        details = tuple(detail for _value, detail in values)
        explanation = _explain(entity_id, score, self.threshold, names, scores, weights, details)
        return Match.packed(
            entity_id,
            score,
            score >= self.threshold,
            explanation,
            (names, scores, weights, details),
        )


#: Beyond the ``limit`` results asked for, this many more candidates (ranked by a quick
#: whole-name similarity) are scored in full; the others are not scored at all.
PREFILTER_MARGIN = 2


def quick_similarity(
    query_names: tuple[NormalisedName, ...], candidates: list[Candidate]
) -> npt.NDArray[np.float64]:
    """A cheap similarity per candidate (0..100): the best rapidfuzz ratio between any of the
    query's names and any of the candidate's, on sorted words and on the words run together.

    Computed for all candidates at once (``rapidfuzz.process.cdist``); used only to choose
    which candidates to score in full, never as a score.
    """
    owners: list[int] = []
    sorted_keys: list[str] = []
    compacts: list[str] = []
    for position, candidate in enumerate(candidates):
        for name in candidate.names[:20] or ():
            owners.append(position)
            sorted_keys.append(name.sorted_key)
            compacts.append(name.compact)
    return _quick_similarity(query_names, len(candidates), owners, sorted_keys, compacts)


def _quick_similarity(
    query_names: tuple[NormalisedName, ...],
    count: int,
    owners: list[int] | None,
    sorted_keys: list[str],
    compacts: list[str],
) -> npt.NDArray[np.float64]:
    """:func:`quick_similarity` over names already gathered: ``owners[k]`` is the candidate
    (0..count-1) of the k-th name; ``None`` when candidate k has exactly name k."""
    best = np.zeros(count)
    if not query_names or not sorted_keys:
        return best
    by_sorted = process.cdist(
        [n.sorted_key for n in query_names[:20]], sorted_keys, scorer=fuzz.ratio
    )
    by_compact = process.cdist([n.compact for n in query_names[:20]], compacts, scorer=fuzz.ratio)
    per_name = np.maximum(by_sorted.max(axis=0), by_compact.max(axis=0))
    if owners is None:
        # One name per candidate: the maximum with 0 (ratios are never negative) is the ratio.
        best[:] = per_name
    else:
        np.maximum.at(best, np.asarray(owners), per_name)
    return best


def _prefilter(quick: npt.NDArray[np.float64], identifier: list[bool], keep: int) -> list[int]:
    """Which candidates to score in full, in retrieval order: the ``keep`` best by quick
    similarity (identifier hits first, ties by retrieval rank), plus every identifier hit."""
    rank = np.lexsort((np.arange(len(identifier)), -quick, ~np.asarray(identifier, dtype=bool)))
    chosen = set(rank[:keep].tolist())
    chosen.update(i for i, hit in enumerate(identifier) if hit)
    return sorted(chosen)


def score_candidates(
    index: MatchIndex,
    query: Query,
    scorer: Scorer,
    *,
    limit: int = 10,
    candidates: list[Candidate] | None = None,
) -> list[Match]:
    """Score the candidates most likely to matter for a query, in retrieval order.

    The index proposes up to ``index.max_candidates``; when there are more than ``limit +``
    :data:`PREFILTER_MARGIN`, only that many are scored in full — those with the highest
    :func:`quick_similarity`, plus every candidate sharing an identifier with the query.
    """
    query_names = names_of(query)
    return [
        scorer.score(
            query,
            candidate.entity,
            token_weight=index.token_weight,
            entity_names=candidate.names,
            query_names=query_names,
        )
        for candidate in _prefiltered(index, query, query_names, limit, candidates)
    ]


def _prefiltered(
    index: MatchIndex,
    query: Query,
    query_names: tuple[NormalisedName, ...],
    limit: int,
    candidates: list[Candidate] | None,
) -> list[Candidate]:
    """The candidates :func:`score_candidates` scores in full, in retrieval order."""
    keep = limit + PREFILTER_MARGIN
    if candidates is not None:
        if len(candidates) <= keep:
            return candidates
        quick = quick_similarity(query_names, candidates)
        hits = [c.retrieval_score >= IDENTIFIER_KEY_WEIGHT for c in candidates]
        return [candidates[i] for i in _prefilter(quick, hits, keep)]
    # From the index directly: a Candidate is built only for the few scored in full.
    positions, sums = index.ranked(query, query_names)
    chosen: Iterable[int] = range(len(positions))
    if len(positions) > keep:
        owners, sorted_keys, compacts = index.quick_forms(positions)
        quick = _quick_similarity(query_names, len(positions), owners, sorted_keys, compacts)
        # As Candidate.retrieval_score (rounded) >= IDENTIFIER_KEY_WEIGHT, without rounding all.
        hits = [
            s > IDENTIFIER_KEY_WEIGHT - 1 and round(s, 4) >= IDENTIFIER_KEY_WEIGHT for s in sums
        ]
        chosen = _prefilter(quick, hits, keep)
    return [index.candidate_at(positions[i], sums[i]) for i in chosen]


def screen(
    index: MatchIndex,
    query: Query,
    scorer: Scorer | None = None,
    *,
    limit: int = 10,
    only_matches: bool = False,
) -> list[Match]:
    """Retrieve candidates for a query from the index and score them, best first."""
    scorer = scorer or Scorer()
    query_names = names_of(query)
    token_weight = index.token_weight
    scored = []
    for candidate in _prefiltered(index, query, query_names, limit, None):
        comparison = Comparison(query, candidate.entity, query_names, candidate.names, token_weight)
        score, values = scorer.evaluate(comparison)
        scored.append((score, candidate.entity.id, values))
    # Best first; the features and the explanation are put into words only for those returned.
    scored.sort(key=lambda item: (-item[0], item[1]))
    if only_matches:
        scored = [item for item in scored if item[0] >= scorer.threshold]
    return [scorer.explain(entity_id, score, values) for score, entity_id, values in scored[:limit]]


# --- batches ----------------------------------------------------------------------------------

_WARM: dict[str, bool] = {}


def warm_up() -> None:
    """Load what the matcher loads lazily (rigour's name tables, about 20 s and 400 MB once per
    process; transliteration for Han, Arabic and Cyrillic): before forking workers or serving."""
    if _WARM.get("done"):
        return
    _nicknames("robert")
    normalise_name("\u5218\u6ce2\u6709\u9650\u516c\u53f8", "organization")  # Han, legal form
    normalise_name("\u0645\u062d\u0645\u062f", "person")  # Arabic
    normalise_name("\u0418\u0432\u0430\u043d", "any")  # Cyrillic
    _WARM["done"] = True


_BATCH: dict[str, tuple[MatchIndex, Scorer, int]] = {}


def _batch_init(index: MatchIndex, scorer: Scorer, limit: int) -> None:
    _BATCH["state"] = (index, scorer, limit)
    # Everything inherited from the parent (the index: millions of objects) is left out of
    # garbage collection: collecting it cost ~7 % of the time, and writing its collector
    # bookkeeping would copy the shared pages into each worker.
    gc.freeze()


def _batch_chunk(queries: list[Query]) -> list[list[Match]]:
    index, scorer, limit = _BATCH["state"]
    return [screen(index, query, scorer, limit=limit) for query in queries]


def screen_many(
    index: MatchIndex,
    queries: Iterable[Query],
    scorer: Scorer | None = None,
    *,
    limit: int = 10,
    workers: int = 1,
    chunk_size: int = 256,
) -> Iterator[tuple[Query, list[Match]]]:
    """:func:`screen` for many queries, in input order, on ``workers`` processes.

    With more than one worker the index is shared with forked processes (copy-on-write, no
    copy is made; on platforms without ``fork`` it runs in one process). Queries are read
    lazily in chunks, so memory stays bounded however many there are.
    """
    scorer = scorer or Scorer()
    warm_up()
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for query in queries:
            yield query, screen(index, query, scorer, limit=limit)
        return
    context = multiprocessing.get_context("fork")
    chunks = _chunks(queries, chunk_size)
    with context.Pool(workers, initializer=_batch_init, initargs=(index, scorer, limit)) as pool:
        pending: list[tuple[list[Query], Any]] = []
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(_batch_chunk, (chunk,))))
            if len(pending) >= workers * 4:
                done_chunk, result = pending.pop(0)
                yield from zip(done_chunk, result.get(), strict=True)
        for done_chunk, result in pending:
            yield from zip(done_chunk, result.get(), strict=True)


def _chunks(queries: Iterable[Query], size: int) -> Iterator[list[Query]]:
    chunk: list[Query] = []
    for query in queries:
        chunk.append(query)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
