"""A fast keyword matcher over normalised words, and a substring matcher for Chinese.

Terms are sequences of normalised words; a word ending in ``*`` is a stem and matches any word
that starts with it (``uniform*`` matches ``uniforme``, ``uniformes``, ``uniformidad`` — so
stems are written with care). All languages share one trie: a Ukrainian word can only match a
Ukrainian term, so running every language's terms over every text costs nothing extra. Each
scan step is a dictionary lookup; the first step (where most words fail) is cached per word.
Chinese has no spaces: its terms are found as substrings of the normalised text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, NamedTuple, TypeVar

__all__ = ["HanMatcher", "Hit", "WordMatcher"]

T = TypeVar("T")

_ROOT_CACHE_LIMIT = 200_000


class Hit(NamedTuple, Generic[T]):
    """A term found at words (or, for Chinese, characters) ``start`` to ``end``."""

    start: int
    end: int
    payload: T


class _Node(Generic[T]):
    __slots__ = ("children", "payloads", "stems")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.stems: dict[str, _Node[T]] = {}
        self.payloads: list[T] = []

    def step_stems(self, word: str) -> list[_Node[T]]:
        return [node for stem, node in self.stems.items() if word.startswith(stem)]


class WordMatcher(Generic[T]):
    """Finds every occurrence of every term in a list of words."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._root_stems: dict[int, dict[str, _Node[T]]] = {}
        self._root_cache: dict[str, tuple[_Node[T], ...]] = {}
        self._digit_terms = False

    def add(self, words: tuple[str, ...], payload: T) -> None:
        """Add a term (normalised words, a trailing ``*`` marking a stem)."""
        node = self._root
        if words[0][:1].isdigit():
            self._digit_terms = True
        for word in words:
            if word.endswith("*"):
                stem = word[:-1]
                child = node.stems.get(stem)
                if child is None:
                    child = _Node()
                    node.stems[stem] = child
                    if node is self._root:
                        self._root_stems.setdefault(len(stem), {})[stem] = child
                node = child
            else:
                node = node.children.setdefault(word, _Node())
        node.payloads.append(payload)
        self._root_cache.clear()

    def _first(self, word: str) -> tuple[_Node[T], ...]:
        cached = self._root_cache.get(word)
        if cached is None:
            nodes = []
            child = self._root.children.get(word)
            if child is not None:
                nodes.append(child)
            for length, table in self._root_stems.items():
                if length <= len(word):
                    node = table.get(word[:length])
                    if node is not None:
                        nodes.append(node)
            cached = tuple(nodes)
            if len(self._root_cache) >= _ROOT_CACHE_LIMIT:
                self._root_cache.clear()
            self._root_cache[word] = cached
        return cached

    def find(self, words: Sequence[str]) -> list[Hit[T]]:
        """Every term occurrence, overlapping ones included, in order of start."""
        hits: list[Hit[T]] = []
        cache = self._root_cache
        count = len(words)
        for start, word in enumerate(words):
            frontier: Sequence[_Node[T]] | None = cache.get(word)
            if frontier is None:
                if word.isdigit() and not self._digit_terms:
                    continue
                frontier = self._first(word)
            end = start + 1
            while frontier:
                for node in frontier:
                    for payload in node.payloads:
                        hits.append(Hit(start, end, payload))
                if end >= count:
                    break
                following = words[end]
                advanced: list[_Node[T]] = []
                for node in frontier:
                    child = node.children.get(following)
                    if child is not None:
                        advanced.append(child)
                    if node.stems:
                        advanced.extend(node.step_stems(following))
                frontier = advanced
                end += 1
        return hits


class HanMatcher(Generic[T]):
    """Finds Chinese terms as substrings (character offsets)."""

    def __init__(self) -> None:
        self._terms: dict[str, list[T]] = {}

    def add(self, term: str, payload: T) -> None:
        """Add a normalised Chinese term."""
        self._terms.setdefault(term, []).append(payload)

    def __bool__(self) -> bool:
        return bool(self._terms)

    def find(self, text: str) -> list[Hit[T]]:
        """Every occurrence of every term."""
        hits: list[Hit[T]] = []
        for term, payloads in self._terms.items():
            position = text.find(term)
            while position >= 0:
                hits.extend(Hit(position, position + len(term), p) for p in payloads)
                position = text.find(term, position + 1)
        hits.sort(key=lambda hit: hit.start)
        return hits
