"""Split a document's text into provisions (sentences within articles, sections and clauses).

A provision keeps where it came from: the file, the page (PDF), the section label built from the
headings and list numbering above it (``§ 7104(g)(4)(A)``, ``Article 3``), its lines and its
character offsets in the page text. It also keeps its *lead-in*: the text of the paragraphs and
list items it is listed under ("... shall include a condition that authorizes ... to terminate
..., if the contractor engages in"), which the screening rules read to tell a list of prohibited
acts from a list of permissions.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tipaudit.policy.reading import Document

__all__ = ["MAX_PROVISION_CHARS", "Location", "Provision", "split_document", "split_sentences"]

#: Longest provision kept whole; longer sentences are cut at semicolons.
MAX_PROVISION_CHARS = 3_000


@dataclass(frozen=True, slots=True)
class Location:
    """Where a provision is: file, page, section label, lines and characters (1-based lines)."""

    file: str
    page: int | None
    section: str
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    column_start: int
    column_end: int

    def describe(self) -> str:
        """Human-readable location, e.g. ``act.pdf p. 3, Article 5, line 12``."""
        parts = [self.file]
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.section:
            parts.append(self.section)
        lines = (
            f"line {self.line_start}"
            if self.line_start == self.line_end
            else f"lines {self.line_start}-{self.line_end}"
        )
        parts.append(lines)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Provision:
    """One sentence-level provision with its location and lead-in."""

    index: int
    text: str
    location: Location
    lead_in: str = ""


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LABEL = re.compile(
    r"^(?P<label>(?:Article|Art\.|Section|Sec\.|§{1,2}|Artículo|Articulo|Art[ií]culo|Rule|Regla|"
    r"Clause|Cláusula|Clausula|Regulation|Part|Parte|Chapter|Cap[ií]tulo|Schedule|Title|T[ií]tulo)"
    r"\s*[0-9IVXLC]+[A-Za-z0-9.\-\u2013]*)\s*[.:\-\u2013\u2014]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_ENUM = re.compile(
    r"^\s*(?:\((?P<paren>[0-9]{1,3}|[A-Za-z]{1,5})\)|(?P<num>[0-9]{1,3}(?:\.[0-9]{1,3})*)[.)]"
    r"|(?P<letter>[a-z])\)|(?P<bullet>[-*•]))\s+(?P<rest>\S.*)$"
)
_ROMAN = re.compile(r"^(?:i{1,3}|iv|vi{0,3}|ix|x{1,3}|xi{1,3}|xiv|xv)$")
_SHORT_LABEL = re.compile(
    r"^(§{1,2}\s*[\w.\-\u2013]+|\([A-Za-z0-9]{1,5}\)|(?:Article|Section|Rule|Art[ií]culo|Clause|Part|Parte|"
    r"Chapter|Cap[ií]tulo|Title|T[ií]tulo|Schedule)\s+[\w.\-]+)",
    re.IGNORECASE,
)

_ABBREV = {
    "u.s", "u.s.c", "e.g", "i.e", "no", "nos", "sec", "secs", "art", "arts", "mr", "mrs", "ms",
    "dr", "st", "inc", "ltd", "co", "corp", "v", "vs", "cf", "para", "paras", "p", "pp", "stat",
    "pub", "l", "ch", "cl", "subsec", "par", "fig", "vol", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "dept", "govt", "núm", "sr", "sra",
}  # fmt: skip
_BOUNDARY = re.compile(r"[.!?]['\"\u201d\u2019)\]]*\s+(?=[\"\u201c'¿¡(\[]?[A-ZÁÉÍÓÚÑ0-9])")


def split_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) offsets of the sentences of ``text`` (abbreviation-aware)."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        dot = match.start()
        word = re.search(r"([A-Za-zÁÉÍÓÚÑáéíóúñ.]+)$", text[max(start, dot - 40) : dot])
        token = word.group(1).lower().rstrip(".") if word else ""
        if token in _ABBREV or (len(token) == 1 and token.isalpha()):
            continue
        end = match.start() + len(match.group(0).rstrip())
        if text[start:end].strip():
            yield start, end
        start = match.end()
    if text[start:].strip():
        yield start, len(text.rstrip())


def _cut_long(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    if end - start <= MAX_PROVISION_CHARS:
        yield start, end
        return
    piece = start
    while piece < end:
        stop = min(end, piece + MAX_PROVISION_CHARS)
        if stop < end:
            semi = text.rfind(";", piece, stop)
            stop = semi + 1 if semi > piece else stop
        yield piece, stop
        piece = stop


def _short(heading: str) -> str:
    match = _SHORT_LABEL.match(heading.strip())
    if match:
        return re.sub(r"\s+", " ", match.group(1)).rstrip(".")
    return heading.strip()[:60]


def _enum_kind(value: str, previous_lower: str | None) -> str:
    if value.isdigit():
        return "num"
    if _ROMAN.match(value) and (len(value) > 1 or previous_lower not in {"h"}):
        return "roman"
    if value.islower():
        return "lower"
    if value.isupper() and _ROMAN.match(value.lower()) and len(value) > 1:
        return "ROMAN"
    return "upper"


@dataclass
class _Block:
    start: int
    end: int
    enum: str | None
    kind: str | None


def split_document(document: Document) -> list[Provision]:
    """Split every page of ``document`` into provisions, in reading order."""
    provisions: list[Provision] = []
    headings: dict[int, str] = {}
    for page in document.pages:
        provisions.extend(
            _split_page(document.path, page.number, page.text, headings, len(provisions))
        )
    return provisions


def _split_page(  # noqa: PLR0912, PLR0915 - a line-by-line state machine
    file: str, page: int | None, text: str, headings: dict[int, str], offset: int
) -> Iterator[Provision]:
    line_starts = [0]
    for match in re.finditer("\n", text):
        line_starts.append(match.end())

    def line_of(pos: int) -> int:
        return bisect.bisect_right(line_starts, pos)

    def column_of(pos: int) -> int:
        return pos - line_starts[line_of(pos) - 1] + 1

    path: list[tuple[str, str, str]] = []  # (kind, enum, text) of enclosing list items
    para_lead = ""
    previous_lower: str | None = None
    block: _Block | None = None
    article = ""
    count = offset

    def section() -> str:
        labels = [_short(headings[level]) for level in sorted(headings)]
        picked = [lab for lab in labels if _SHORT_LABEL.match(lab)][-2:]
        base = "".join(picked) if all(p.startswith("(") for p in picked[1:]) else " ".join(picked)
        if not picked and labels and not article:
            words = labels[-1].split()
            base = labels[-1] if len(labels[-1]) <= 50 else " ".join(words[:6]) + "…"
            base += " " if path else ""
        if article:
            base = f"{base} {article}".strip() if base else article
        return base + "".join(f"({e})" for _, e, _ in path)

    def flush(current: _Block | None) -> Iterator[Provision]:
        nonlocal count, para_lead
        if current is None:
            return
        body = text[current.start : current.end]
        if not body.strip():
            return
        lead = " ".join(t for _, _, t in path[:-1] if t) if current.enum else ""
        if current.enum and para_lead:
            lead = f"{para_lead} {lead}".strip()
        label = section()
        for s_start, s_end in split_sentences(body):
            for a, b in _cut_long(body, s_start, s_end):
                raw = body[a:b]
                stripped = raw.strip()
                if len(re.sub(r"[\W\d_]+", "", stripped)) < 3:
                    continue
                lead_space = len(raw) - len(raw.lstrip())
                start = current.start + a + lead_space
                end = start + len(stripped)
                count += 1
                yield Provision(
                    index=count,
                    text=re.sub(r"\s+", " ", stripped),
                    location=Location(
                        file=file,
                        page=page,
                        section=label,
                        line_start=line_of(start),
                        line_end=line_of(max(start, end - 1)),
                        char_start=start,
                        char_end=end,
                        column_start=column_of(start),
                        column_end=column_of(max(start, end - 1)) + 1,
                    ),
                    lead_in=lead[-1500:],
                )
        if current.enum:
            # this item can lead in the items nested under it
            kind, enum, _ = path[-1]
            path[-1] = (kind, enum, re.sub(r"\s+", " ", body.strip())[:500])
        else:
            para_lead = re.sub(r"\s+", " ", body.strip())[-800:]

    for number, line_start in enumerate(line_starts):
        line_end = line_starts[number + 1] - 1 if number + 1 < len(line_starts) else len(text)
        line = text[line_start:line_end]
        if not line.strip():
            yield from flush(block)
            block = None
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            yield from flush(block)
            block = None
            level = len(heading.group(1))
            for deeper in [lvl for lvl in headings if lvl >= level]:
                del headings[deeper]
            headings[level] = heading.group(2)
            path.clear()
            para_lead = ""
            article = ""
            continue
        label = _LABEL.match(line.strip())
        if label and (block is None or len(line.strip()) < 200):
            rest = label.group("rest")
            yield from flush(block)
            block = None
            path.clear()
            para_lead = ""
            article = re.sub(r"\s+", " ", label.group("label")).rstrip(".")
            if len(rest) < 80 and not re.search(r"[.;:]$", rest):
                continue  # a heading line: "Article 3 - Recruitment fees"
            start = line_start + line.find(rest) if rest else line_end
            block = _Block(start, line_end, None, None)
            continue
        enum = _ENUM.match(line)
        if enum:
            yield from flush(block)
            value = enum.group("paren") or enum.group("num") or enum.group("letter") or "-"
            kind = "bullet" if enum.group("bullet") else _enum_kind(value, previous_lower)
            if kind == "lower":
                previous_lower = value
            kinds = [k for k, _, _ in path]
            if kind in kinds:
                del path[kinds.index(kind) :]
            path.append((kind, value if kind != "bullet" else "", ""))
            block = _Block(line_start + enum.start("rest"), line_end, value, kind)
            continue
        if block is None:
            if path:
                path.clear()
            block = _Block(line_start, line_end, None, None)
        else:
            block.end = line_end
    yield from flush(block)
