"""Read policy documents (TXT, Markdown, HTML, DOCX, PDF) into plain text, page by page.

Every reader is strict about what it accepts and says why it refuses a file: too big, not
UTF-8, encrypted, malformed, or of a kind it does not read. Nothing in a document is executed:
HTML is parsed with the standard library's tokenizer (scripts and styles are dropped), DOCX is
opened as a size-checked ZIP with python-docx (entities are not resolved), PDF text is extracted
with pypdf. Markdown in the CommonAccord "prose object" markup (``key=value`` lines with
``{Var}`` placeholders, as in the ABA Model Contract Clauses) is turned into plain clauses with
the same line numbers.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tipaudit.errors import NotFoundError, ValidationError

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "MAX_TEXT_CHARS",
    "Document",
    "Page",
    "read_bytes",
    "read_document",
]

#: Largest input file accepted, in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest amount of extracted text accepted per document, in characters.
MAX_TEXT_CHARS = 20_000_000
#: Most PDF pages read from one document.
MAX_PAGES = 5_000
#: Largest total uncompressed size of the parts of a DOCX file.
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024

#: File suffix -> format name.
FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}


@dataclass(frozen=True, slots=True)
class Page:
    """The text of one page (PDF) or of the whole document (``number`` is None)."""

    number: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """A document read into text: its name as given, its format, pages and content hash."""

    path: str
    format: str
    pages: tuple[Page, ...]
    sha256: str

    @property
    def chars(self) -> int:
        """Number of characters of text extracted."""
        return sum(len(p.text) for p in self.pages)


def read_document(path: Path, *, display: str | None = None) -> Document:
    """Read ``path`` by its suffix; ``display`` is the name shown in findings (default: path)."""
    name = display or str(path)
    if not path.exists():
        raise NotFoundError(f"{name}: no such file.")
    if not path.is_file():
        raise ValidationError(f"{name}: not a file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            f"{name}: the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}.",
            hint="Split the document, or check only the part under review.",
        )
    return read_bytes(path.read_bytes(), name, fmt=format_of(path, name))


def format_of(path: Path, name: str | None = None) -> str:
    """The format name for ``path``'s suffix; refuses suffixes no reader handles."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ValidationError(
            f"{name or path}: cannot read {path.suffix or 'files without a suffix'}; "
            f"readable: {known}."
        )
    return fmt


def read_bytes(data: bytes, name: str, *, fmt: str) -> Document:
    """Read a document held in memory; ``fmt`` is one of the values of :data:`FORMATS`."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{name}: {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}.")
    pages: tuple[Page, ...]
    if fmt == "text":
        pages = (Page(None, _decode(data, name)),)
    elif fmt == "markdown":
        pages = (Page(None, _commonaccord(_decode(data, name))),)
    elif fmt == "html":
        pages = (Page(None, _html_text(_decode(data, name))),)
    elif fmt == "docx":
        pages = (Page(None, _docx_text(data, name)),)
    elif fmt == "pdf":
        pages = tuple(_pdf_pages(data, name))
    else:
        raise ValidationError(f"{name}: unknown format {fmt!r}.")
    total = sum(len(p.text) for p in pages)
    if total > MAX_TEXT_CHARS:
        raise ValidationError(
            f"{name}: {total:,} characters of text; the limit is {MAX_TEXT_CHARS:,}."
        )
    if not any(p.text.strip() for p in pages):
        raise ValidationError(
            f"{name}: no text found.",
            hint="A scanned PDF needs OCR before it can be checked." if fmt == "pdf" else None,
        )
    return Document(name, fmt, pages, hashlib.sha256(data).hexdigest())


# --- plain text ------------------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise ValidationError(f"{name}: looks like a binary file, not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}).",
            hint="Save the file as UTF-8 and try again.",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_CA_LINE = re.compile(r"^([A-Za-z0-9_.]*)=(.*)$")
_CA_CHOICE = re.compile(r"\{([A-Za-z0-9_.]+)::([^{}]*)\}")
_CA_VAR = re.compile(r"\{([^{}]*)\}")


def _commonaccord(text: str) -> str:
    """Turn CommonAccord ``key=value`` markup into plain clauses, keeping line numbers."""
    lines = text.split("\n")
    filled = [ln for ln in lines if ln.strip()]
    if not filled or sum(1 for ln in filled if _CA_LINE.match(ln)) < 0.6 * len(filled):
        return text
    out: list[str] = []
    for line in lines:
        match = _CA_LINE.match(line)
        if not match:
            out.append(line)
            continue
        key, value = match.group(1), match.group(2).strip()
        if value.startswith("[") or key.endswith("Note") or key == "Note" or not value:
            out.append("")
            continue
        value = _CA_CHOICE.sub(lambda m: m.group(2).split("//")[0], value)
        value = _CA_VAR.sub(lambda m: _ca_var(m.group(1)), value)
        out.append(f"# {value}" if key == "Ti" or key.endswith(".Ti") else value)
    return "\n".join(out)


def _ca_var(inner: str) -> str:
    if "//" in inner:
        return inner.split("//", maxsplit=1)[0]
    last = inner.rsplit(".", 1)[-1]
    return last.strip("_").replace("_", " ") or inner


# --- HTML ------------------------------------------------------------------------------------

_BLOCK = {
    "p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "header",
    "footer", "blockquote", "pre", "dd", "dt", "dl", "td", "th", "main", "nav", "aside",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "form", "figure", "figcaption", "caption",
}  # fmt: skip
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                self.parts.append("#" * int(tag[1]) + " ")
            elif tag == "li":
                self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_text(text: str) -> str:
    parser = _TextParser()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as exc:  # the tokenizer's own errors
        raise ValidationError(f"HTML could not be parsed: {exc}") from None
    raw = "".join(parser.parts)
    lines = [ln.strip() for ln in raw.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- DOCX ------------------------------------------------------------------------------------


def _docx_text(data: bytes, name: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            if total > MAX_DOCX_UNCOMPRESSED:
                raise ValidationError(
                    f"{name}: the DOCX expands to {total:,} bytes; the limit is "
                    f"{MAX_DOCX_UNCOMPRESSED:,}."
                )
            if "word/document.xml" not in archive.namelist():
                raise ValidationError(f"{name}: not a Word document (no word/document.xml).")
    except zipfile.BadZipFile:
        raise ValidationError(f"{name}: not a valid DOCX file (not a ZIP archive).") from None
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on bad input
        raise ValidationError(
            f"{name}: the DOCX could not be read ({type(exc).__name__})."
        ) from None
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            lines.extend(_docx_paragraph(child, document))
        elif child.tag == qn("w:tbl"):
            for cell_p in child.iter(qn("w:p")):
                lines.extend(_docx_paragraph(cell_p, document))
    return "\n".join(lines) + "\n"


def _docx_paragraph(element: object, document: object) -> Iterator[str]:
    from docx.text.paragraph import Paragraph

    paragraph = Paragraph(element, document)  # type: ignore[arg-type]
    text = paragraph.text.strip()
    if not text:
        return
    style = ""
    try:
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):
        style = ""
    heading = re.fullmatch(r"Heading (\d)", style)
    yield ""
    if heading:
        yield "#" * int(heading.group(1)) + " " + text
    elif style == "Title":
        yield "# " + text
    else:
        yield text


# --- PDF -------------------------------------------------------------------------------------


def _pdf_pages(data: bytes, name: str) -> Iterator[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ValidationError(f"{name}: not a PDF file (no %PDF header).")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationError(f"{name}: not a readable PDF ({exc}).") from None
    if encrypted:
        try:
            ok = bool(reader.decrypt(""))
        except (PyPdfError, NotImplementedError, ValueError):
            ok = False
        if not ok:
            raise ValidationError(
                f"{name}: the PDF is encrypted with a password.",
                hint="Save an unencrypted copy to check it.",
            )
    try:
        count = len(reader.pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationError(f"{name}: not a readable PDF ({exc}).") from None
    if count > MAX_PAGES:
        raise ValidationError(f"{name}: {count:,} pages; the limit is {MAX_PAGES:,}.")
    total = 0
    for index in range(count):
        try:
            text = reader.pages[index].extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on malformed pages
            raise ValidationError(
                f"{name}: page {index + 1} could not be read ({type(exc).__name__})."
            ) from None
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise ValidationError(
                f"{name}: more than {MAX_TEXT_CHARS:,} characters of text; refusing the rest."
            )
        yield Page(index + 1, text.replace("\r\n", "\n").replace("\r", "\n"))
