"""Country resolution: free text and codes to ISO 3166-1 countries, or a reason why not.

Everything tipaudit judges leans on countries, and publishers write them in every language, script
and form: ``"México   "``, ``"MX"``, ``"Україна"``, ``"Congo, Democratic Republic of the"``,
``"Turkey (Türkiye)"``. :func:`resolve_country` turns such text into a :class:`Country` and says
how (``method``), or leaves it unresolved and says why (``reason``). It never guesses: there is no
fuzzy matching, and a name that real publishers use for two countries ("Congo", "Korea") stays
unresolved with both candidates named, because a wrong country on a risk register harms people.

Typical use::

    from tipaudit.core.countries import resolve_country

    result = resolve_country("Congo, Democratic Republic of the")
    if result.ok:
        result.country.alpha3        # "COD"
    else:
        result.reason                # "ambiguous: ...", "not a country: ...", "unknown: ..."

Resolution order (the first that applies wins; see ``docs/countries.md``):

1. empty text (or text with no letters or digits) -> unresolved, ``empty``;
2. a curated entry in ``data/country_aliases.yaml``: an alias (``method="alias"``), a name used
   for several countries (``ambiguous``) or something that is not a country (``not a country``);
3. an ISO 3166-1 code: two letters (``alpha2``), three letters (``alpha3``) or three digits
   (``numeric``); Kosovo's user-assigned ``XK`` / ``XKX`` count as codes;
4. an English ISO 3166-1 name (short, official or common name, or the inverted form of a comma
   name) (``name``);
5. a name from pycountry's gettext translations into 150-odd languages (``translation``);
6. word-order variants: ``"A, B"`` read as ``"B A"``, ``"A (B)"`` read as ``"B A"``, or the two
   parts each naming the same country (``"Turkey (Türkiye)"``, ``"Mexico (MX)"``);
7. text whose UTF-8 bytes were decoded as Windows-1252 or Latin-1 (so that "Côte" arrives as
   "C", "A tilde", "acute accent", "te"), repaired exactly and looked up again; the reason then
   records the repair.

Names are compared after normalisation: case folding, Unicode NFKD with accents and other
combining marks removed, dots and apostrophes dropped, ``&`` read as ``and``, all other
punctuation and symbols read as spaces, a leading "the" dropped and the abbreviations ``St``,
``Rep``, ``Dem`` and ``Isds`` expanded. So "Mexico" = "México" = "MEXICO." and
"Côte d'Ivoire" = "Cote dIvoire" = "Côte d'Ivoire" with a typographic apostrophe.

Kosovo is not in ISO 3166-1. It resolves to the user-assigned code ``XK`` / ``XKX`` (used by the
European Commission, the World Bank and others) with no numeric code (``numeric == ""``).

The indexes are built lazily, once per process, on first use (about half a second: every
translation catalogue is read); after that a lookup is a handful of dictionary probes, and
repeated texts are answered from a bounded cache.
"""

from __future__ import annotations

import functools
import gettext
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry
import yaml

from tipaudit.errors import NotFoundError, ValidationError

__all__ = [
    "KOSOVO",
    "MAX_QUERY_LENGTH",
    "METHODS",
    "NOT_COUNTRY_ORG_ID_PREFIXES",
    "Country",
    "CountryAliases",
    "Resolution",
    "all_countries",
    "country_from_org_id",
    "get_country",
    "load_aliases",
    "resolve_country",
]

#: The values :attr:`Resolution.method` takes for a resolved text ("" when unresolved).
METHODS: tuple[str, ...] = (
    "alpha2",
    "alpha3",
    "numeric",
    "name",
    "translation",
    "alias",
    "org_id_prefix",
)

#: org-id.guide prefixes that name international or multilateral lists, not a country's register.
NOT_COUNTRY_ORG_ID_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "XI": "international registers such as XI-LEI (the Global LEI Index) and XI-IATI",
        "XM": "lists of multilateral organisations such as XM-DAC (the OECD DAC list)",
        "XE": "lists kept by international or regional bodies",
    }
)

#: Texts longer than this are not looked up: no country name or translation comes close.
MAX_QUERY_LENGTH = 256

_PACKAGED_ALIASES = "country_aliases.yaml"
_ALIAS_FILE_MAX_BYTES = 1_000_000

# Reason categories: every unresolved reason starts with one of these and a colon.
_EMPTY = "empty"
_AMBIGUOUS = "ambiguous"
_NOT_COUNTRY = "not a country"
_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Country:
    """One ISO 3166-1 country or territory (or Kosovo, see :data:`KOSOVO`).

    ``name`` is the English short name as people say it: pycountry's ``common_name`` where it
    has one ("Bolivia", "South Korea"), a curated display name for ISO's inverted index forms
    ("Democratic Republic of the Congo" for "Congo, The Democratic Republic of the"), and the ISO
    short name otherwise ("Türkiye", "Côte d'Ivoire"). ``official_name`` is ISO's official name
    when ISO gives one.
    """

    alpha2: str
    alpha3: str
    numeric: str
    name: str
    official_name: str | None = None


#: Kosovo: not in ISO 3166-1; user-assigned XK / XKX as used by the EU and the World Bank.
KOSOVO = Country(
    alpha2="XK", alpha3="XKX", numeric="", name="Kosovo", official_name="Republic of Kosovo"
)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving one text.

    ``method`` says how a country was found (one of :data:`METHODS`) and is ``""`` when none
    was. ``reason`` says why nothing was found, starting with a category and a colon:
    ``empty``, ``ambiguous`` (every candidate is named), ``not a country`` (a region, an
    organisation, a former country or a placeholder) or ``unknown``. For a resolved text it is
    ``""``, or notes a repair of mis-decoded text.
    """

    query: str
    country: Country | None
    method: str
    reason: str

    @property
    def ok(self) -> bool:
        """Whether a country was found."""
        return self.country is not None


@dataclass(frozen=True, slots=True)
class CountryAliases:
    """The curated names of an alias file, keyed by their normalised form.

    ``aliases`` maps a name to an alpha-3 code, ``ambiguous`` a name to its candidate codes,
    ``not_countries`` a name to why it is not a country, ``display_names`` an alpha-3 code to the
    English name shown. ``labels`` keeps each normalised key's spelling in the file.
    """

    aliases: Mapping[str, str]
    ambiguous: Mapping[str, tuple[str, ...]]
    not_countries: Mapping[str, str]
    display_names: Mapping[str, str]
    labels: Mapping[str, str]


# --- public functions ------------------------------------------------------------------------


def resolve_country(text: str) -> Resolution:
    """Resolve free text or a code to a country, or say why it cannot be done.

    Never raises for any text; see the module documentation for the order of methods.
    """
    if not isinstance(text, str):
        return Resolution(str(text), None, "", f"{_UNKNOWN}: not text but {type(text).__name__}")
    if len(text) > MAX_QUERY_LENGTH:
        return _unresolved(
            text, f"{_UNKNOWN}: {len(text)} characters is too long to be a country name"
        )
    return _resolve_cached(text)


def country_from_org_id(identifier_scheme: str) -> Resolution:
    """The registering country of an org-id.guide identifier scheme such as ``GB-COH``.

    OCDS organisation identifiers use org-id.guide prefixes ``CC-XXX`` whose first two letters are
    the ISO 3166-1 alpha-2 code of the country whose register issued the identifier (``MX-RFC``,
    ``GB-COH``, ``UA-EDR``, ``MD-IDNO``). The rule reads only those two letters, strictly as an
    ISO alpha-2 code (``UK-...`` is not ``GB``); a full identifier such as ``GB-COH-01234567``
    works too. The ``XI-``, ``XM-`` and ``XE-`` prefixes name international and multilateral
    lists (``XI-LEI``, ``XI-IATI``, ``XM-DAC``) and are reported as not a country.
    """
    if not isinstance(identifier_scheme, str):
        return Resolution(
            str(identifier_scheme),
            None,
            "",
            f"{_UNKNOWN}: not text but {type(identifier_scheme).__name__}",
        )
    stripped = identifier_scheme.strip()
    if not stripped:
        return _unresolved(identifier_scheme, f"{_EMPTY}: no identifier scheme given")
    match = _ORG_ID_PATTERN.match(stripped)
    if match is None:
        return _unresolved(
            identifier_scheme,
            f"{_UNKNOWN}: {_short(stripped)} is not an org-id.guide scheme of the form CC-XXX "
            "(such as GB-COH)",
        )
    prefix = match.group(1).upper()
    if prefix in NOT_COUNTRY_ORG_ID_PREFIXES:
        return _unresolved(
            identifier_scheme,
            f"{_NOT_COUNTRY}: {prefix}- schemes are {NOT_COUNTRY_ORG_ID_PREFIXES[prefix]}, "
            "not a country's register",
        )
    country = _index().by_alpha2.get(prefix)
    if country is None:
        return _unresolved(
            identifier_scheme,
            f"{_UNKNOWN}: the prefix {prefix!r} is not an ISO 3166-1 alpha-2 code",
        )
    return Resolution(identifier_scheme, country, "org_id_prefix", "")


def get_country(code: str) -> Country:
    """The country with an ISO 3166-1 alpha-2, alpha-3 or three-digit numeric code.

    Case and surrounding spaces do not matter; Kosovo is ``XK`` / ``XKX``. Raises
    :class:`~tipaudit.errors.NotFoundError` for any other text (names go to
    :func:`resolve_country`).
    """
    key = code.strip().upper() if isinstance(code, str) else ""
    index = _index()
    country = index.by_alpha2.get(key) or index.by_alpha3.get(key) or index.by_numeric.get(key)
    if country is None:
        raise NotFoundError(
            f"No country has the code {code!r}.",
            hint="Use an ISO 3166-1 code such as GB, GBR or 826; resolve_country() reads names.",
        )
    return country


def all_countries() -> tuple[Country, ...]:
    """Every ISO 3166-1 country and territory, and Kosovo, ordered by alpha-2 code."""
    return _index().countries


def load_aliases(path: Path | None = None) -> CountryAliases:
    """Load and validate a curated alias file; without ``path``, the packaged one.

    Raises :class:`~tipaudit.errors.ValidationError` naming the file and the entry when the file
    is malformed, names an unknown alpha-3 code, repeats a (normalised) name, or gives an ISO
    English name or code of one country to another.
    """
    if path is None:
        return _packaged_aliases()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"Country alias file not found: {path}") from None
    return _parse_aliases(data, origin=str(path), iso=_iso_countries())


# --- normalisation ---------------------------------------------------------------------------

# Dropped outright: dots (so "U.K." is "uk") and apostrophes (so "People's" is "peoples").
_DROPPED = ".'`\u2018\u2019\u02bc\u02bb\u00b4\u055a"
_ABBREVIATIONS: Mapping[str, str] = MappingProxyType(
    {"st": "saint", "rep": "republic", "dem": "democratic", "isds": "islands"}
)


def _ascii_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for point in range(128):
        char = chr(point)
        if not char.isalnum():
            table[point] = " "
    table[ord("&")] = " and "
    for char in _DROPPED:
        table[ord(char)] = None
    return table


_TABLE = _ascii_table()


def _key(text: str) -> str:
    """The normalised form under which names are indexed and looked up."""
    folded = text.lower().translate(_TABLE) if text.isascii() else _fold_unicode(text)
    words = folded.split()
    if len(words) > 1 and words[0] == "the":
        del words[0]
    return " ".join([_ABBREVIATIONS.get(word, word) for word in words])


def _fold_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_TABLE)).casefold()
    out: list[str] = []
    for char in decomposed:
        if char.isascii():
            out.append(char.translate(_TABLE))
        elif unicodedata.combining(char) or char in _DROPPED:
            continue
        else:
            category = unicodedata.category(char)
            if category[0] in "LNM":
                out.append(char)
            elif category != "Cf":  # format characters such as ZWNJ vanish; the rest separates
                out.append(" ")
    return "".join(out)


# --- the index -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    """What a normalised key leads to: a country and method, or a reason."""

    country: Country | None
    method: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Index:
    countries: tuple[Country, ...]
    by_alpha2: Mapping[str, Country]
    by_alpha3: Mapping[str, Country]
    by_numeric: Mapping[str, Country]
    curated: Mapping[str, _Hit]
    names: Mapping[str, _Hit]


@dataclass(frozen=True, slots=True)
class _IsoCountry:
    """pycountry's record, reduced to what the index needs."""

    alpha2: str
    alpha3: str
    numeric: str
    name: str
    official_name: str | None
    common_name: str | None

    def english_names(self) -> tuple[str, ...]:
        names = (self.name, self.official_name, self.common_name)
        return tuple(dict.fromkeys(name for name in names if name))


@functools.cache
def _iso_countries() -> tuple[_IsoCountry, ...]:
    records = [
        _IsoCountry(
            alpha2=record.alpha_2,
            alpha3=record.alpha_3,
            numeric=record.numeric,
            name=record.name,
            official_name=getattr(record, "official_name", None),
            common_name=getattr(record, "common_name", None),
        )
        for record in pycountry.countries
    ]
    records.append(
        _IsoCountry(
            alpha2=KOSOVO.alpha2,
            alpha3=KOSOVO.alpha3,
            numeric=KOSOVO.numeric,
            name=KOSOVO.name,
            official_name=KOSOVO.official_name,
            common_name=None,
        )
    )
    return tuple(sorted(records, key=lambda record: record.alpha2))


@functools.cache
def _packaged_aliases() -> CountryAliases:
    resource = resources.files("tipaudit.core") / "data" / _PACKAGED_ALIASES
    return _parse_aliases(resource.read_bytes(), origin=str(resource), iso=_iso_countries())


@functools.cache
def _index() -> _Index:
    iso = _iso_countries()
    curated_file = _packaged_aliases()
    countries: dict[str, Country] = {}
    for record in iso:
        display = curated_file.display_names.get(record.alpha3)
        countries[record.alpha3] = (
            KOSOVO
            if record.alpha3 == KOSOVO.alpha3
            else Country(
                alpha2=record.alpha2,
                alpha3=record.alpha3,
                numeric=record.numeric,
                name=display or record.common_name or record.name,
                official_name=record.official_name,
            )
        )
    english = _name_layer(
        (key, record.alpha3, "")
        for record in iso
        for name in record.english_names()
        for key in _name_keys(name)
    )
    translated = _name_layer(_translation_keys(iso))
    names: dict[str, _Hit] = {}
    for layer, method in ((translated, "translation"), (english, "name")):
        for key, claims in layer.items():
            names[key] = _layer_hit(claims, method, countries)
    curated: dict[str, _Hit] = {}
    for key, alpha3 in curated_file.aliases.items():
        curated[key] = _Hit(countries[alpha3], "alias", "")
    for key, candidates in curated_file.ambiguous.items():
        listed = _list_candidates(candidates, countries)
        label = curated_file.labels[key]
        curated[key] = _Hit(
            None,
            "",
            f"{_AMBIGUOUS}: {label!r} is used for {listed}; write the full name or the ISO code",
        )
    for key, why in curated_file.not_countries.items():
        label = curated_file.labels[key]
        curated[key] = _Hit(None, "", f"{_NOT_COUNTRY}: {label!r} is {why}")
    ordered = tuple(countries[record.alpha3] for record in iso)
    return _Index(
        countries=ordered,
        by_alpha2=MappingProxyType({country.alpha2: country for country in ordered}),
        by_alpha3=MappingProxyType({country.alpha3: country for country in ordered}),
        by_numeric=MappingProxyType(
            {country.numeric: country for country in ordered if country.numeric}
        ),
        curated=MappingProxyType(curated),
        names=MappingProxyType(names),
    )


def _name_keys(name: str) -> Iterator[str]:
    """A name's key and, for "A, B" (one comma), the key of the inverted "B A"."""
    key = _key(name)
    if key:
        yield key
    head, comma, tail = name.partition(",")
    if comma and "," not in tail:
        inverted = _key(f"{tail} {head}")
        if inverted and inverted != key:
            yield inverted


def _translation_keys(iso: Iterable[_IsoCountry]) -> Iterator[tuple[str, str, str]]:
    """(key, alpha-3, language) for every name in pycountry's translation catalogues."""
    records = [record for record in iso if record.alpha3 != KOSOVO.alpha3]
    for language in _locales():
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for record in records:
            for name in record.english_names():
                translated = catalogue.gettext(name)
                if translated and translated != name:
                    for key in _name_keys(translated):
                        yield key, record.alpha3, language


def _locales() -> list[str]:
    base = Path(pycountry.LOCALES_DIR)
    return sorted(
        entry.name for entry in base.iterdir() if (entry / "LC_MESSAGES" / "iso3166-1.mo").is_file()
    )


def _name_layer(
    entries: Iterable[tuple[str, str, str]],
) -> dict[str, dict[str, set[str]]]:
    """key -> {alpha-3 -> languages} (languages empty for English names)."""
    layer: dict[str, dict[str, set[str]]] = {}
    for key, alpha3, language in entries:
        languages = layer.setdefault(key, {}).setdefault(alpha3, set())
        if language:
            languages.add(language)
    return layer


def _layer_hit(
    claims: Mapping[str, set[str]], method: str, countries: Mapping[str, Country]
) -> _Hit:
    if len(claims) == 1:
        (alpha3,) = claims
        return _Hit(countries[alpha3], method, "")
    parts = []
    for alpha3 in sorted(claims):
        languages = ", ".join(sorted(claims[alpha3]))
        where = f" (in {languages})" if languages else ""
        parts.append(f"{alpha3} ({countries[alpha3].name}){where}")
    source = "pycountry's translations" if method == "translation" else "ISO 3166-1"
    return _Hit(None, "", f"{_AMBIGUOUS}: in {source} this name is {' and '.join(parts)}")


def _list_candidates(candidates: Iterable[str], countries: Mapping[str, Country]) -> str:
    named = [f"{alpha3} ({countries[alpha3].name})" for alpha3 in candidates]
    return ", ".join(named[:-1]) + f" and {named[-1]}"


# --- resolving -------------------------------------------------------------------------------

_ORG_ID_PATTERN = re.compile(r"([A-Za-z]{2})-[A-Za-z0-9]")
_ALPHA2 = re.compile(r"[A-Za-z]{2}")
_ALPHA3 = re.compile(r"[A-Za-z]{3}")
_NUMERIC = re.compile(r"[0-9]{3}")
_PARENTHESIS = re.compile(r"([^()]*)\(([^()]*)\)\s*")


@functools.lru_cache(maxsize=8192)
def _resolve_cached(text: str) -> Resolution:
    key = _key(text)
    if not key:
        reason = "no country given" if not text.strip() else "no letters or digits"
        return _unresolved(text, f"{_EMPTY}: {reason}")
    hit = _lookup(text, key) or _variants(text)
    if hit is None:
        repaired = _repair(text)
        if repaired is not None:
            fixed = _lookup(repaired, _key(repaired)) or _variants(repaired)
            if fixed is not None and fixed.country is not None:
                note = f"read {_short(text)} as {_short(repaired)} (mis-decoded UTF-8 repaired)"
                return Resolution(text, fixed.country, fixed.method, note)
    if hit is None:
        return _unresolved(text, _why_unknown(text, key))
    return Resolution(text, hit.country, hit.method, hit.reason)


def _lookup(text: str, key: str, *, codes: bool = True) -> _Hit | None:
    """Curated entries, then codes (unless ``codes`` is false), then names; no variants."""
    index = _index()
    hit = index.curated.get(key)
    if hit is not None:
        return hit
    if codes:
        code = _code_hit(text)
        if code is not None:
            return code
    return index.names.get(key)


def _code_hit(text: str) -> _Hit | None:
    if not text.isascii():
        return None
    compact = text.replace(".", "").replace(" ", "").strip()
    index = _index()
    country: Country | None = None
    method = ""
    if _ALPHA2.fullmatch(compact):
        country, method = index.by_alpha2.get(compact.upper()), "alpha2"
    elif _ALPHA3.fullmatch(compact):
        country, method = index.by_alpha3.get(compact.upper()), "alpha3"
    elif _NUMERIC.fullmatch(compact):
        country, method = index.by_numeric.get(compact), "numeric"
    return None if country is None else _Hit(country, method, "")


def _variants(text: str) -> _Hit | None:
    """ "A, B" and "A (B)": the inverted "B A", or two parts naming the same country."""
    parts = _split(text)
    if parts is None:
        return None
    head, tail = parts
    inverted = f"{tail} {head}"
    hit = _lookup(inverted, _key(inverted), codes=False)
    if hit is not None:
        return hit
    first, second = _lookup(head, _key(head)), _lookup(tail, _key(tail))
    if first is None or second is None or first.country is None or second.country is None:
        return None
    if first.country == second.country:
        return first
    return _Hit(
        None,
        "",
        f"{_AMBIGUOUS}: {_short(head.strip())} is {first.country.alpha3} "
        f"({first.country.name}) but {_short(tail.strip())} is {second.country.alpha3} "
        f"({second.country.name})",
    )


def _split(text: str) -> tuple[str, str] | None:
    match = _PARENTHESIS.fullmatch(text.strip())
    if match is not None:
        head, tail = match.group(1), match.group(2)
    else:
        head, comma, tail = text.partition(",")
        if not comma or "," in tail:
            return None
    if not _key(head) or not _key(tail):
        return None
    return head, tail


def _repair(text: str) -> str | None:
    """Text that was UTF-8 read as Windows-1252 or Latin-1, decoded back; None if it was not."""
    if text.isascii():
        return None
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        if repaired != text:
            return repaired
    return None


def _why_unknown(text: str, key: str) -> str:
    stripped = text.strip()
    if "?" in stripped or "\ufffd" in stripped:
        return (
            f"{_UNKNOWN}: {_short(stripped)} has '?' or '\ufffd' where a letter should be; "
            "the text looks damaged by a character-encoding error"
        )
    parts = _split(stripped)
    if parts is not None:
        for position, part in enumerate(parts):
            hit = _lookup(part, _key(part))
            if hit is not None and hit.country is not None:
                other = parts[1 - position]
                return (
                    f"{_UNKNOWN}: {_short(part.strip())} alone is {hit.country.alpha3} "
                    f"({hit.country.name}), but {_short(other.strip())} is not a country name, "
                    "so the whole is not read as a country"
                )
    compact = stripped.replace(".", "").replace(" ", "") if stripped.isascii() else ""
    if _ALPHA2.fullmatch(compact):
        return f"{_UNKNOWN}: {_short(stripped)} is not an ISO 3166-1 alpha-2 code"
    if _NUMERIC.fullmatch(compact):
        return f"{_UNKNOWN}: {_short(stripped)} is not an ISO 3166-1 numeric code"
    if _ALPHA3.fullmatch(compact):
        return f"{_UNKNOWN}: {_short(stripped)} is not an ISO 3166-1 alpha-3 code or a known name"
    return f"{_UNKNOWN}: no country has the name {_short(stripped or key)}"


def _unresolved(query: str, reason: str) -> Resolution:
    return Resolution(query, None, "", reason)


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --- the alias file --------------------------------------------------------------------------

_TOP_KEYS = frozenset({"aliases", "ambiguous", "not_countries", "display_names"})
_ALPHA3_PATTERN = re.compile(r"[A-Z]{3}")


class _AliasParser:
    """Reads one alias file, raising ``ValidationError`` that names the file and the entry."""

    def __init__(self, origin: str, iso: tuple[_IsoCountry, ...]) -> None:
        self.origin = origin
        self.known = frozenset(record.alpha3 for record in iso)
        self.english: dict[str, str] = {}
        for record in iso:
            for name in record.english_names():
                for key in _name_keys(name):
                    self.english.setdefault(key, record.alpha3)
        self.codes = {
            code.lower(): record.alpha3 for record in iso for code in (record.alpha2, record.alpha3)
        }
        self.labels: dict[str, str] = {}

    def fail(self, where: str, problem: str) -> ValidationError:
        return ValidationError(
            f"{self.origin}: {where}: {problem}",
            hint="See docs/countries.md for the format of the country alias file.",
        )

    def parse(self, data: bytes) -> CountryAliases:
        document = self.document(data)
        return CountryAliases(
            aliases=MappingProxyType(self.aliases(_section(self, document, "aliases"))),
            ambiguous=MappingProxyType(self.ambiguous(_section(self, document, "ambiguous"))),
            not_countries=MappingProxyType(
                self.not_countries(_section(self, document, "not_countries"))
            ),
            display_names=MappingProxyType(
                self.display_names(_section(self, document, "display_names"))
            ),
            labels=MappingProxyType(self.labels),
        )

    def document(self, data: bytes) -> Mapping[str, Any]:
        if len(data) > _ALIAS_FILE_MAX_BYTES:
            raise self.fail("file", f"{len(data)} bytes is more than {_ALIAS_FILE_MAX_BYTES}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail("file", f"not UTF-8 text ({exc.reason})") from None
        try:
            _refuse_duplicate_keys(self, yaml.compose(text, Loader=yaml.SafeLoader))
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "file"
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise self.fail(where, f"not valid YAML ({problem})") from None
        if not isinstance(document, dict):
            raise self.fail("top level", "expected a mapping")
        unknown = sorted(set(map(str, document)) - _TOP_KEYS)
        if unknown:
            raise self.fail("top level", f"unknown key(s) {', '.join(unknown)}")
        return document

    def claim(self, section: str, name: object) -> str:
        """The normalised key of a name, refused when empty or already taken."""
        where = f"{section}: {name!r}"
        if not isinstance(name, str) or not name.strip():
            raise self.fail(where, "a name must be non-empty text")
        key = _key(name)
        if not key:
            raise self.fail(where, "the name has no letters or digits")
        if key in self.labels:
            raise self.fail(where, f"normalises to {key!r}, as {self.labels[key]!r} does already")
        self.labels[key] = name
        return key

    def alpha3(self, where: str, value: object) -> str:
        if not isinstance(value, str) or not _ALPHA3_PATTERN.fullmatch(value):
            raise self.fail(where, f"{value!r} is not an upper-case alpha-3 code")
        if value not in self.known:
            raise self.fail(where, f"{value!r} is not an ISO 3166-1 alpha-3 code (nor XKX)")
        return value

    def aliases(self, section: Mapping[Any, Any]) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for name, value in section.items():
            key = self.claim("aliases", name)
            where = f"aliases: {name!r}"
            alpha3 = self.alpha3(where, value)
            for taken in (self.english.get(key), self.codes.get(key.replace(" ", ""))):
                if taken is not None and taken != alpha3:
                    raise self.fail(
                        where,
                        f"{name!r} is ISO's name or code for {taken}; it cannot mean {alpha3}",
                    )
            aliases[key] = alpha3
        return aliases

    def ambiguous(self, section: Mapping[Any, Any]) -> dict[str, tuple[str, ...]]:
        ambiguous: dict[str, tuple[str, ...]] = {}
        for name, value in section.items():
            key = self.claim("ambiguous", name)
            where = f"ambiguous: {name!r}"
            if not isinstance(value, list) or len(value) < 2:
                raise self.fail(where, "list two or more alpha-3 codes")
            candidates = tuple(self.alpha3(where, item) for item in value)
            if len(set(candidates)) != len(candidates):
                raise self.fail(where, "a code is listed twice")
            ambiguous[key] = candidates
        return ambiguous

    def not_countries(self, section: Mapping[Any, Any]) -> dict[str, str]:
        not_countries: dict[str, str] = {}
        for name, value in section.items():
            key = self.claim("not_countries", name)
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"not_countries: {name!r}", "say why it is not a country")
            not_countries[key] = value.strip()
        return not_countries

    def display_names(self, section: Mapping[Any, Any]) -> dict[str, str]:
        display_names: dict[str, str] = {}
        for code, value in section.items():
            where = f"display_names: {code!r}"
            alpha3 = self.alpha3(where, code)
            if not isinstance(value, str) or not value.strip():
                raise self.fail(where, "the display name must be non-empty text")
            display_names[alpha3] = value.strip()
        return display_names


def _parse_aliases(data: bytes, *, origin: str, iso: tuple[_IsoCountry, ...]) -> CountryAliases:
    return _AliasParser(origin, iso).parse(data)


def _section(check: _AliasParser, document: Mapping[str, Any], name: str) -> Mapping[Any, Any]:
    value = document.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise check.fail(name, "expected a mapping")
    return value


def _refuse_duplicate_keys(check: _AliasParser, node: yaml.Node | None) -> None:
    """``safe_load`` keeps the last of two equal keys silently; refuse them instead."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise check.fail(
                        f"line {key_node.start_mark.line + 1}", f"duplicate key {key_node.value!r}"
                    )
                seen.add(key_node.value)
            _refuse_duplicate_keys(check, value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(check, item)
