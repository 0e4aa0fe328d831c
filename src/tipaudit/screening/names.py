"""Name normalisation for screening: people and organisations, in any script.

A name is reduced to a :class:`NormalisedName`: lower-case ASCII tokens (transliterated with
rigour), with what was removed kept as features — legal forms for organisations (``LLC``,
Cyrillic ``OOO``, ``S.A. de C.V.`` …) and honorifics for people (``Mr``, ``Sheikh``, ``Col.``).
Token order is kept (``tokens``) and also sorted (``sorted_key``) for order-insensitive comparison;
names written in an abjad (Arabic, Persian, Urdu, Hebrew), whose vowels are usually not
written, also get a consonant skeleton so that ``محمد`` and ``Mohammad`` can meet.

Nothing here raises on odd input: empty, very long, control characters or mixed scripts
give a (possibly empty) normalised name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from rigour.names import extract_org_types, remove_org_prefixes, remove_org_types
from rigour.text import ascii_text
from rigour.text.normalize import Normalize, normalize

NameKind = Literal["person", "organization", "any"]

#: Longer input is cut before normalisation: no real name is longer, and it bounds the work.
MAX_NAME_CHARS = 300

#: Honorifics, titles and ranks removed from the start of a person name (after casefolding
#: and transliteration). Kept as a feature, never compared.
HONORIFICS: frozenset[str] = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord",
        "lady", "hon", "rev", "reverend", "fr", "father", "sheikh", "shaikh", "sheik", "shaykh",
        "haji", "hajji", "alhaj", "alhaji", "mullah", "mulla", "maulvi", "mawlawi", "maulana",
        "qari", "imam", "general", "gen", "lt", "ltgen", "lieutenant", "col", "colonel",
        "maj", "major", "capt", "captain", "cpt", "brig", "brigadier", "cmdr", "commander",
        "adm", "admiral", "sgt", "sergeant", "cpl", "corporal", "marshal", "president",
        "senator", "minister", "ambassador", "judge", "justice", "herr", "frau", "sr", "sra",
        "srta", "mme", "mlle", "gospodin",
    }
)  # fmt: skip

#: Trailing words that rigour's legal-form table leaves (its table is conservative about
#: ``Corp``/``Company``): removed from the end of an organisation name, kept as a form.
EXTRA_LEGAL_FORMS: dict[str, str] = {
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "company": "co",
    "incorporated": "inc",
    "limited": "ltd",
    "ltd": "ltd",
    "plc": "plc",
}

#: Chinese and Japanese legal forms, written at the end of a name without spaces (longest
#: first), with their compare form and generic kind; and their pinyin / romanised spellings.
CJK_LEGAL_FORMS: tuple[tuple[str, str, str | None], ...] = (
    ("股份有限公司", "gfyxgs", "jsc"),
    ("有限责任公司", "yxzrgs", "llc"),
    ("有限責任公司", "yxzrgs", "llc"),
    ("集团有限公司", "jtyxgs", "llc"),
    ("有限公司", "yxgs", "llc"),
    ("株式会社", "kk", "jsc"),
    ("集团公司", "jtgs", None),
    ("公司", "gs", None),
)
LATIN_LEGAL_PHRASES: tuple[tuple[tuple[str, ...], str, str | None], ...] = (
    (("gufen", "youxian", "gongsi"), "gfyxgs", "jsc"),
    (("youxian", "zeren", "gongsi"), "yxzrgs", "llc"),
    (("youxian", "gongsi"), "yxgs", "llc"),
    (("you", "xian", "gong", "si"), "yxgs", "llc"),
    (("gongsi",), "gs", None),
    (("cong", "ty", "tnhh"), "tnhh", "llc"),
    (("cong", "ty", "co", "phan"), "ctcp", "jsc"),
    (("cong", "ty"), "congty", None),
)

#: Arabic articles written apart or with a hyphen ("Al-Rashid", "al Rashid"): joined to the
#: next word so that every spelling gives the same token ("alrashid").
ARTICLES: frozenset[str] = frozenset({"al", "el"})

#: Words that carry no identity in an organisation name.
ORG_STOPWORDS: frozenset[str] = frozenset({"the", "of", "and", "for", "a", "an"})

_ABJAD = re.compile(
    r"[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_SPACED = re.compile(r"[\u3400-\u9fff]\s+[\u3400-\u9fff]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")


@dataclass(frozen=True, slots=True)
class LegalForm:
    """A legal form found in an organisation name: as written, its compare and generic forms."""

    text: str
    form: str
    generic: str | None


@dataclass(frozen=True, slots=True)
class NormalisedName:
    """One name ready for comparison, with what normalisation removed kept for explanations."""

    original: str
    kind: NameKind
    tokens: tuple[str, ...]
    legal_forms: tuple[LegalForm, ...] = ()
    honorifics: tuple[str, ...] = ()
    abjad: bool = False
    han: bool = False
    #: Derived comparison forms, computed once (names are compared many times).
    text: str = field(init=False, compare=False, repr=False)
    sorted_key: str = field(init=False, compare=False, repr=False)
    compact: str = field(init=False, compare=False, repr=False)
    initials: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # text: the tokens in written order; sorted_key: sorted (order-insensitive form);
        # compact: run together ("abdul haq" and "abdulhaq" meet); initials: first letters.
        object.__setattr__(self, "text", " ".join(self.tokens))
        object.__setattr__(self, "sorted_key", " ".join(sorted(self.tokens)))
        object.__setattr__(self, "compact", "".join(self.tokens))
        object.__setattr__(self, "initials", tuple(t[0] for t in self.tokens))

    @property
    def skeleton_tokens(self) -> tuple[str, ...]:
        """The consonant skeleton of every token (vowels dropped, repeats collapsed)."""
        return tuple(skeleton(t) for t in self.tokens)

    @property
    def empty(self) -> bool:
        """True when nothing comparable is left."""
        return not self.tokens


def clean_text(text: str) -> str:
    """Cut to :data:`MAX_NAME_CHARS`, replace control and format characters by spaces, NFC."""
    text = text[:MAX_NAME_CHARS]
    chars = [" " if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} else c for c in text]
    return unicodedata.normalize("NFC", "".join(chars))


def is_abjad(text: str) -> bool:
    """True when the text contains Arabic-script or Hebrew letters (vowels mostly unwritten)."""
    return _ABJAD.search(text) is not None


@lru_cache(maxsize=100_000)
def skeleton(token: str) -> str:
    """The consonant skeleton of an ASCII token: vowels and ``y`` dropped, repeats collapsed."""
    bare = _REPEATS.sub(r"\1", _VOWELS.sub("", token))
    return bare or token


def ascii_tokens(text: str) -> tuple[str, ...]:
    """Transliterate any script to ASCII, casefold, split on everything but letters and digits."""
    if not text.strip():
        return ()
    latin = ascii_text(text).casefold()
    return tuple(t for t in _NON_ALNUM.split(latin) if t)


def _casefold_name(text: str) -> str:
    return normalize(text, Normalize.CASEFOLD | Normalize.NAME) or ""


def _split_cjk_legal_form(folded: str) -> tuple[str, LegalForm | None]:
    text = folded.rstrip()
    for written, form, generic in CJK_LEGAL_FORMS:
        if text.endswith(written) and len(text) > len(written):
            return text[: -len(written)], LegalForm(written, form, generic)
    return folded, None


def _split_latin_phrases(words: list[str]) -> LegalForm | None:
    """A romanised Chinese or Vietnamese legal form at the end or the start of the words."""
    for phrase, form, generic in LATIN_LEGAL_PHRASES:
        size = len(phrase)
        if len(words) > size and tuple(words[-size:]) == phrase:
            del words[-size:]
            return LegalForm(" ".join(phrase), form, generic)
        if len(words) > size and tuple(words[:size]) == phrase:
            del words[:size]
            return LegalForm(" ".join(phrase), form, generic)
    return None


def _join_articles(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        if out and out[-1] in ARTICLES and len(token) > 2:
            out[-1] = out[-1] + token
        else:
            out.append(token)
    return out


def _split_legal_forms(folded: str) -> tuple[str, tuple[LegalForm, ...]]:
    """Remove the legal forms rigour recognises, then the trailing extra ones."""
    forms: list[LegalForm] = []
    folded, cjk = _split_cjk_legal_form(folded)
    if cjk is not None:
        forms.append(cjk)
    specific = extract_org_types(folded)
    generic = extract_org_types(folded, generic=True)
    generic_by_text = dict(generic)
    for written, form in specific:
        forms.append(LegalForm(written, form, generic_by_text.get(written)))
    rest = remove_org_types(folded, replacement=" ") if specific else folded
    rest = remove_org_prefixes(rest)
    if not rest.strip():
        # The whole name is a legal form ("Limited"): keep it as the name.
        return folded, ()
    words = rest.split()
    latin = _split_latin_phrases(words)
    if latin is not None:
        forms.append(latin)
    while len(words) > 1 and words[-1] in EXTRA_LEGAL_FORMS:
        word = words.pop()
        forms.append(LegalForm(word, EXTRA_LEGAL_FORMS[word], None))
    return " ".join(words), tuple(forms)


@lru_cache(maxsize=200_000)
def normalise_name(name: str, kind: NameKind = "any") -> NormalisedName:
    """Normalise one name of a person, an organisation or an unknown kind of entity.

    Organisation (and unknown-kind) names lose their legal forms, people lose leading
    honorifics; both are returned as features. The result may be empty, never an error.
    """
    text = clean_text(name)
    abjad = is_abjad(text)
    folded = _casefold_name(text)
    legal_forms: tuple[LegalForm, ...] = ()
    if kind != "person" and folded:
        folded, legal_forms = _split_legal_forms(folded)
    tokens = _join_articles(list(ascii_tokens(folded)))
    honorifics: list[str] = []
    if kind != "organization":
        while len(tokens) > 1 and tokens[0] in HONORIFICS:
            honorifics.append(tokens.pop(0))
    han = _HAN.search(text) is not None
    if kind == "person" and han and len(tokens) > 2 and not _HAN_SPACED.search(text):
        # A Chinese name written in characters: family name, then the given name's syllables
        # as one word (王建国 -> wang jianguo), as it is romanised.
        tokens = [tokens[0], "".join(tokens[1:])]
    if (kind != "person" and legal_forms) or kind == "organization":
        kept = [t for t in tokens if t not in ORG_STOPWORDS]
        tokens = kept or tokens
    return NormalisedName(
        original=name[:MAX_NAME_CHARS],
        kind=kind,
        tokens=tuple(tokens),
        legal_forms=legal_forms,
        honorifics=tuple(honorifics),
        abjad=abjad,
        han=han,
    )


def kind_for_schema(schema: str) -> NameKind:
    """The name kind that a list schema implies."""
    if schema == "Person":
        return "person"
    if schema in {"Organization", "Company"}:
        return "organization"
    return "any"
