"""Candidate retrieval: an inverted index of blocking keys, so no query scans the whole list.

Every list entity is filed under keys derived from its normalised names and identifiers:

* ``t:`` each name token, and each pair of neighbouring tokens written together
  (``abdul haq`` is also filed under ``abdulhaq``);
* ``p:`` the Metaphone code of each alphabetic token of three or more letters, which survives
  most typos and transliteration variants (``Mohammed``/``Muhammad``/``محمد`` → ``MHMT``);
* ``f:`` the first four letters of each token of five or more letters (typos late in a word);
* ``a:`` the letters of each token of four or more letters, sorted (swapped letters:
  ``afiz``/``faiz``);
* ``i:`` each identifier value (exact, whatever its scheme).

A query looks up its own keys, rarest first. Keys filed under more than ``max_posting``
entities are skipped (a common first name alone proposes nobody) unless the query has no
other key. Candidates are ranked by the summed rarity (inverse document frequency) of the keys
they share with the query and the best ``max_candidates`` are returned; identifier hits always
come first.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rigour.text import metaphone

from tipaudit.screening.model import ListEntity, Query, Record
from tipaudit.screening.names import NormalisedName, kind_for_schema, normalise_name

#: Weight of an identifier key: above any sum of name keys.
IDENTIFIER_KEY_WEIGHT = 1000.0


def names_of(record: Record) -> tuple[NormalisedName, ...]:
    """The normalised, non-empty names of an entity or query (duplicates removed)."""
    kind = kind_for_schema(record.schema)
    seen: dict[tuple[str, ...], NormalisedName] = {}
    for name in record.names:
        norm = normalise_name(name, kind)
        if not norm.empty and norm.tokens not in seen:
            seen[norm.tokens] = norm
    return tuple(seen.values())


def identifier_values(record: Record) -> tuple[str, ...]:
    """The values (scheme removed) of a record's identifiers."""
    values = {i.split(":", 1)[-1] for i in record.identifiers}
    return tuple(sorted(v for v in values if v))


def name_keys(names: Iterable[NormalisedName]) -> set[str]:
    """The blocking keys of a set of normalised names."""
    keys: set[str] = set()
    for name in names:
        tokens = name.tokens[:20]
        for i, token in enumerate(tokens):
            keys.add("t:" + token)
            if i + 1 < len(tokens):
                keys.add("t:" + token + tokens[i + 1])
            if len(token) >= 3 and token.isalpha():
                code = _metaphone(token)
                if code:
                    keys.add("p:" + code)
            if len(token) >= 5:
                keys.add("f:" + token[:4])
            if len(token) >= 4:
                keys.add("a:" + "".join(sorted(token)))
    return keys


@lru_cache(maxsize=200_000)
def _metaphone(token: str) -> str:
    return metaphone(token)


def record_keys(record: Record, names: Iterable[NormalisedName]) -> set[str]:
    """All blocking keys of a record: its names' keys and its identifiers."""
    keys = name_keys(names)
    keys.update("i:" + value for value in identifier_values(record))
    return keys


@dataclass(frozen=True, slots=True)
class Candidate:
    """A list entity proposed for scoring, with its summed key rarity (the retrieval rank)."""

    entity: ListEntity
    names: tuple[NormalisedName, ...]
    retrieval_score: float


class MatchIndex:
    """An in-memory index of list entities for fast candidate retrieval."""

    def __init__(
        self,
        entities: Iterable[ListEntity],
        *,
        max_candidates: int = 50,
        max_posting: int = 1000,
    ) -> None:
        self.max_candidates = max_candidates
        self.max_posting = max_posting
        self._entities: list[ListEntity] = []
        self._names: list[tuple[NormalisedName, ...]] = []
        self._by_id: dict[str, int] = {}
        postings: dict[str, list[int]] = {}
        token_df: Counter[str] = Counter()
        for entity in entities:
            if entity.id in self._by_id:
                continue
            position = len(self._entities)
            names = names_of(entity)
            self._by_id[entity.id] = position
            self._entities.append(entity)
            self._names.append(names)
            for key in record_keys(entity, names):
                postings.setdefault(key, []).append(position)
            token_df.update({t for n in names for t in n.tokens})
        self._token_df = token_df
        self._weights: dict[str, float] = {}
        # The prefilter's comparison strings per entity (its first 20 names), gathered once:
        # reading them off every candidate's names for every query cost more than comparing.
        # With one name per entity (the usual case) they are flat lists: one lookup less.
        self._single_name = all(len(names) == 1 for names in self._names)
        self._sorted_keys: list[tuple[str, ...]] = []
        self._compacts: list[tuple[str, ...]] = []
        self._first_sorted: list[str] = []
        self._first_compact: list[str] = []
        if self._single_name:
            self._first_sorted = [names[0].sorted_key for names in self._names]
            self._first_compact = [names[0].compact for names in self._names]
        else:
            self._sorted_keys = [tuple(n.sorted_key for n in names[:20]) for names in self._names]
            self._compacts = [tuple(n.compact for n in names[:20]) for names in self._names]
        # Arrays: a query sums key weights over thousands of positions in a few numpy calls.
        self._postings: dict[str, npt.NDArray[np.int32]] = {
            key: np.asarray(positions, dtype=np.int32) for key, positions in postings.items()
        }

    def __len__(self) -> int:
        return len(self._entities)

    def __iter__(self) -> Iterator[ListEntity]:
        return iter(self._entities)

    def get(self, entity_id: str) -> ListEntity | None:
        """The entity with this id, if indexed."""
        position = self._by_id.get(entity_id)
        return None if position is None else self._entities[position]

    def names(self, entity_id: str) -> tuple[NormalisedName, ...]:
        """The normalised names of an indexed entity (empty when unknown)."""
        position = self._by_id.get(entity_id)
        return () if position is None else self._names[position]

    def token_weight(self, token: str) -> float:
        """The rarity of a name token in this list: ``log(1 + N / (1 + df))``, at least a little."""
        weight = self._weights.get(token)
        if weight is None:
            weight = math.log(1.0 + len(self._entities) / (1.0 + self._token_df.get(token, 0)))
            if len(self._weights) < 1_000_000:
                self._weights[token] = weight
        return weight

    def token_frequency(self, token: str) -> int:
        """How many indexed entities use this name token."""
        return self._token_df.get(token, 0)

    def candidates(self, query: Query, limit: int | None = None) -> list[Candidate]:
        """The list entities most likely to match the query, best first (no full scan)."""
        positions, sums = self.ranked(query, names_of(query), limit)
        return [self.candidate_at(p, s) for p, s in zip(positions, sums, strict=True)]

    def candidate_at(self, position: int, retrieval_sum: float) -> Candidate:
        """The candidate at an index position, with its summed key rarity (rounded)."""
        return Candidate(self._entities[position], self._names[position], round(retrieval_sum, 4))

    def ranked(
        self, query: Query, names: tuple[NormalisedName, ...], limit: int | None = None
    ) -> tuple[list[int], list[float]]:
        """Index positions of the best candidates and their summed key rarity, best first.

        What :meth:`candidates` returns, without building a :class:`Candidate` for each: the
        batch path builds them only for the few it scores in full. ``names`` are the query's
        normalised names (:func:`names_of`).
        """
        limit = self.max_candidates if limit is None else limit
        total = max(len(self._entities), 1)
        keys = record_keys(query, names)
        postings = self._postings
        present = [(k, postings[k]) for k in keys if k in postings]
        present.sort(key=lambda item: len(item[1]))
        usable = [(k, p) for k, p in present if len(p) <= self.max_posting or k[0] == "i"]
        if not usable and present:
            usable = present[:1]
        if not usable or limit <= 0:
            return [], []
        weights = np.asarray(
            [
                IDENTIFIER_KEY_WEIGHT if key[0] == "i" else math.log(1.0 + total / len(posting))
                for key, posting in usable
            ]
        )
        arrays = [posting for _key, posting in usable]
        positions = np.concatenate(arrays)
        repeated = np.repeat(weights, [len(a) for a in arrays])
        unique, inverse = np.unique(positions, return_inverse=True)
        sums = np.bincount(inverse, weights=repeated)
        if len(unique) > limit:
            # Keep every position tied with the limit-th score, then break ties by position.
            cut = -np.partition(-sums, limit - 1)[limit - 1]
            chosen = np.flatnonzero(sums >= cut)
            unique, sums = unique[chosen], sums[chosen]
        order = np.lexsort((unique, -sums))[:limit]
        return unique[order].tolist(), sums[order].tolist()

    def quick_forms(self, positions: list[int]) -> tuple[list[int] | None, list[str], list[str]]:
        """For the prefilter: the owner (index into ``positions``), sorted-words form and
        run-together form of every name (up to 20 each) of the entities at ``positions``.

        The owners are ``None`` when every entity of the index has exactly one name (the
        k-th name is then the k-th entity's).
        """
        if self._single_name:
            first_sorted, first_compact = self._first_sorted, self._first_compact
            return (
                None,
                [first_sorted[p] for p in positions],
                [first_compact[p] for p in positions],
            )
        sorted_keys, compacts = self._sorted_keys, self._compacts
        owners: list[int] = []
        keys: list[str] = []
        runs: list[str] = []
        for owner, p in enumerate(positions):
            owners.extend([owner] * len(sorted_keys[p]))
            keys.extend(sorted_keys[p])
            runs.extend(compacts[p])
        return owners, keys, runs
