"""Text normalisation shared by the keyword files and the item texts.

Both sides go through :func:`normalise`, so a keyword written ``algodón`` matches ``ALGODON``,
``algodón`` and, in text whose accented letters were destroyed by a wrong encoding
(``ALGOD?N``, ``ALGOD�N``), the damaged form too (see :func:`damaged_variant`).

- letters lose their diacritics (NFKD, combining marks removed: ``ș``/``ş`` → ``s``,
  ``й`` → ``и``), ``œ``/``æ`` become ``oe``/``ae``, and everything is case-folded;
- a ``?`` or U+FFFD between two letters — a letter lost to an encoding error — is removed;
- words are runs of letters and digits (:func:`tokens`); Chinese has no spaces, so a run of
  Han characters is one "word" and Chinese keywords are matched as substrings instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "analyse",
    "damaged_variant",
    "has_han",
    "label_key",
    "normalise",
    "scripts",
    "tokens",
]

_DAMAGED = re.compile(r"(?<=[^\W\d_])[?\ufffd]+(?=[^\W\d_])")
_TOKEN = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")
#: Combining marks (U+0300 to U+036F) are dropped; a few ligatures are spelled out.
_FOLD = dict.fromkeys(range(768, 880)) | {
    ord("œ"): "oe",
    ord("Œ"): "oe",
    ord("æ"): "ae",
    ord("Æ"): "ae",
    ord("ø"): "o",
    ord("Ø"): "o",
    ord("ł"): "l",
    ord("Ł"): "l",
    0x00B4: "'",  # acute accent used as an apostrophe
    0x2019: "'",  # right single quotation mark
}


class _FoldTable(dict[int, str]):
    """``str.translate`` table: each character's NFKD form without combining marks (memoised).

    Folding character by character with a cached table is faster than NFKD on whole texts.
    """

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKD", chr(code)).translate(_FOLD)
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    if "?" in text or "\ufffd" in text:
        text = _DAMAGED.sub("", text)
    if not text.isascii():
        text = text.translate(_FOLD_TABLE)
    return text.casefold()


def normalise(text: str) -> str:
    """Case-folded text without diacritics, damaged letters removed, spaces collapsed."""
    return _SPACES.sub(" ", _fold(text)).strip()


def label_key(text: str) -> str:
    """A text reduced to its normalised words joined by single spaces (for label lookups)."""
    return " ".join(tokens(_fold(text)))


def tokens(normalised: str) -> list[str]:
    """The words of a normalised text (runs of letters and digits)."""
    return _TOKEN.findall(normalised)


@lru_cache(maxsize=1 << 16)
def analyse(text: str) -> tuple[str, tuple[str, ...], bool]:
    """A text's folded form, its words and whether it has Chinese characters (cached).

    Item texts repeat a lot in OCDS data (tender, award and contract items; classification
    labels; one process title for many items), so the analysis is memoised.
    """
    folded = _fold(text)
    return folded, tuple(_TOKEN.findall(folded)), has_han(folded)


def has_han(text: str) -> bool:
    """Whether the text contains Chinese (Han) characters."""
    return not text.isascii() and _HAN.search(text) is not None


def damaged_variant(term: str) -> str | None:
    """The term as it reads after an encoding error deleted its accented Latin letters.

    ``construcción`` → ``construccin`` (matching ``CONSTRUCCI?N`` once the ``?`` is removed);
    ``None`` when the term has no accented Latin letter.
    """
    kept = []
    changed = False
    for char in term:
        decomposed = unicodedata.normalize("NFKD", char)
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            changed = True
            continue
        kept.append(char)
    return "".join(kept) if changed else None


def scripts(text: str) -> frozenset[str]:
    """The writing systems used in a text: ``latin``, ``cyrillic``, ``armenian``, ``han``.

    A cheap guess from character ranges, used for reporting; matching simply tries every
    keyword set (a Cyrillic word can only match a Cyrillic keyword).
    """
    found: set[str] = set()
    for char in text:
        code = ord(char)
        if char.isascii():
            if char.isalpha():
                found.add("latin")
        elif 0x400 <= code <= 0x52F:
            found.add("cyrillic")
        elif 0x530 <= code <= 0x58F:
            found.add("armenian")
        elif _HAN.match(char):
            found.add("han")
        elif char.isalpha() and code < 0x250:
            found.add("latin")
    return frozenset(found)
