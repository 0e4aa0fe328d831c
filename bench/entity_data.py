"""Seeded generator of a large watchlist and of names to screen against it (for the benchmarks).

People and organisations in four scripts (Latin, Cyrillic, Arabic, Chinese), with legal forms
for organisations. Names are made up from syllables and small character sets, so they look
like names without being anyone's. Queries are mostly other generated names (which may share a
word with a listed name, as real traffic does), with realistic variants of listed names mixed
in: a typo, swapped word order, a dropped middle name, another legal form, another script.

    from entity_data import generate_list, generate_queries
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYLLABLES = [
    "al", "an", "ba", "bi", "da", "de", "el", "fa", "ga", "ha", "hu", "ib", "ja", "ka", "ko",
    "la", "li", "ma", "mo", "na", "ni", "or", "pa", "ra", "ri", "sa", "se", "ta", "to", "ul",
    "va", "wa", "ya", "za", "zu", "ler", "son", "berg", "mir", "dan", "kov", "ova", "ez", "ic",
]  # fmt: skip
CYRILLIC = dict(zip("abvgdezijklmnoprstufhcywxq", "абвгдезийклмнопрстуфхцывхк", strict=True))
ARABIC = dict(zip("abtjhdrzsfqklmnwyeioupvcgx", "ابتجحدرزسفقكلمنويييووبفكجك", strict=True))
HAN_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
HAN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文红建国志海波晓云飞鹏斌宇"
INDUSTRIES = [
    "Trading", "Textiles", "Garments", "Fishing", "Logistics", "Manpower", "Recruitment",
    "Security", "Construction", "Agro", "Mining", "Timber", "Seafood", "Brick Works", "Cotton",
]  # fmt: skip
LEGAL_FORMS = ["Ltd", "LLC", "Limited", "GmbH", "S.A.", "S.A. de C.V.", "Pvt Ltd", "Co.", "Inc."]


@dataclass(frozen=True)
class Row:
    """A generated list entry or query."""

    id: str
    name: str
    schema: str
    country: str
    variant_of: str = ""


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _script(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in text.casefold())


class Vocabulary:
    """The words names are made of; a bigger list uses more words, so names stay rare-ish."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.given = sorted({_word(rng) for _ in range(max(300, size // 30))})
        self.family = sorted({_word(rng) for _ in range(max(3000, size // 3))})
        self.brands = sorted({_word(rng) for _ in range(max(2000, size // 5))})


def make_name(rng: random.Random, vocab: Vocabulary) -> tuple[str, str, str]:  # noqa: PLR0911
    """(name, schema, country) of a new person or organisation in one of four scripts."""
    roll = rng.random()
    if roll < 0.3:
        brand = rng.choice(vocab.brands)
        name = f"{brand} {rng.choice(vocab.brands)} {rng.choice(INDUSTRIES)}"
        if rng.random() < 0.1:
            return (
                f"ООО «{_script(brand, CYRILLIC).capitalize()} {rng.choice(vocab.family)}»",  # noqa: RUF001
                "Company",
                "RU",
            )
        if rng.random() < 0.1:
            return (
                rng.choice(HAN_FAMILY) + "".join(rng.sample(HAN_GIVEN, 3)) + "有限公司",
                "Company",
                "CN",
            )
        return (
            f"{name} {rng.choice(LEGAL_FORMS)}",
            "Company",
            rng.choice(["GB", "IN", "MX", "TR", "PK"]),
        )
    given = rng.choice(vocab.given)
    middle = rng.choice(vocab.given) if rng.random() < 0.4 else ""
    family = rng.choice(vocab.family)
    latin = " ".join(p for p in (given, middle, family) if p)
    script = rng.random()
    if script < 0.1:
        return _script(latin, CYRILLIC).title(), "Person", "RU"
    if script < 0.2:
        return _script(latin, ARABIC), "Person", "SA"
    if script < 0.3:
        return (
            rng.choice(HAN_FAMILY) + "".join(rng.sample(HAN_GIVEN, rng.randint(1, 2))),
            "Person",
            "CN",
        )
    return latin, "Person", rng.choice(["AF", "NG", "US", "PH", "BR"])


def variant(rng: random.Random, name: str) -> str:  # noqa: PLR0911
    """A realistic variant: a typo, swapped words, a dropped middle word or another legal form."""
    words = name.split()
    roll = rng.random()
    if roll < 0.4 and len(name) > 4:
        pos = rng.randrange(1, len(name) - 1)
        kind = rng.random()
        if kind < 0.33:
            return name[:pos] + name[pos + 1 :]
        if kind < 0.66:
            return name[:pos] + name[pos + 1] + name[pos] + name[pos + 2 :]
        return name[:pos] + name[pos] + name[pos:]
    if roll < 0.6 and len(words) >= 2:
        return " ".join(words[1:] + words[:1])
    if roll < 0.8 and len(words) == 3:
        return f"{words[0]} {words[2]}"
    if any(form in name for form in LEGAL_FORMS):
        return name.rsplit(" ", 1)[0] + " " + rng.choice(LEGAL_FORMS)
    return name.upper()


def generate_list(size: int, seed: int = 20261129) -> tuple[list[Row], Vocabulary]:
    """``size`` list entries."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng, size)
    rows = []
    for i in range(size):
        name, schema, country = make_name(rng, vocab)
        rows.append(Row(f"bench-{i}", name, schema, country))
    return rows, vocab


def generate_queries(
    listed: list[Row], vocab: Vocabulary, count: int, *, variants: float = 0.05, seed: int = 7
) -> Iterator[Row]:
    """``count`` queries; a share ``variants`` of them are variants of listed entries."""
    rng = random.Random(seed)
    for i in range(count):
        if rng.random() < variants:
            source = rng.choice(listed)
            yield Row(f"q-{i}", variant(rng, source.name), source.schema, source.country, source.id)
        else:
            name, schema, country = make_name(rng, vocab)
            yield Row(f"q-{i}", name, schema, country)


def write_list(rows: list[Row], path: Path) -> None:
    """The list in tipaudit's plain CSV list format."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "schema", "country", "list", "reason"])
        for row in rows:
            writer.writerow([row.id, row.name, row.schema, row.country, "bench", "generated"])


def write_queries(rows: Iterator[Row], path: Path) -> dict[str, str]:
    """The queries as the CSV ``tipaudit entities screen`` reads; returns variant -> source id."""
    truth: dict[str, str] = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "schema", "country"])
        for row in rows:
            writer.writerow([row.id, row.name, row.schema, row.country])
            if row.variant_of:
                truth[row.id] = row.variant_of
    return truth
