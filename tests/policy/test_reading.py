"""Reading policy documents: every format, and refusing malformed, hostile and huge input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.conftest import shared_path
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.policy import reading
from tipaudit.policy.provisions import split_document
from tipaudit.policy.reading import read_bytes, read_document


def make_pdf(path: Path, pages: list[list[str]], *, password: str | None = None) -> Path:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    if password:
        from reportlab.lib import pdfencrypt

        pdf = canvas.Canvas(
            buffer, pagesize=A4, encrypt=pdfencrypt.StandardEncryption(password, canPrint=0)
        )
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(50, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Article 5 Recruitment", level=2)
    document.add_paragraph("The employer may retain the worker's passport for safekeeping.")
    table = document.add_table(rows=1, cols=1)
    table.rows[0].cells[0].text = "Workers shall pay the recruitment fees."
    document.save(str(path))
    return path


def test_text_and_markdown(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(
        "Article 1. No employer shall retain passports.\r\nSecond line.\n", encoding="utf-8"
    )
    document = read_document(path)
    assert document.format == "text"
    assert document.pages[0].number is None
    assert "\r" not in document.pages[0].text
    md = tmp_path / "a.md"
    md.write_bytes("\ufeff# Title\n\nWorkers may change employer.\n".encode())
    assert read_document(md).pages[0].text.startswith("# Title")


def test_html_drops_scripts_and_keeps_structure(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text(
        "<html><head><title>t</title><script>alert('x')</script></head><body>"
        "<h2>Article 4</h2><p>The employer may <b>retain</b> the worker's passport.</p>"
        "<style>p{}</style><ul><li>Item one.</li></ul><iframe>bad</iframe></body></html>",
        encoding="utf-8",
    )
    text = read_document(path).pages[0].text
    assert "alert" not in text
    assert "p{}" not in text
    assert "bad" not in text
    assert "## Article 4" in text
    assert "The employer may retain the worker's passport." in text
    assert "- Item one." in text


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    document = read_document(make_docx(tmp_path / "a.docx"))
    text = document.pages[0].text
    assert "## Article 5 Recruitment" in text
    assert "retain the worker's passport" in text
    assert "Workers shall pay the recruitment fees." in text
    sections = {p.location.section for p in split_document(document)}
    assert "Article 5" in sections


def test_pdf_pages_keep_their_numbers(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "a.pdf",
        [
            ["Article 1. Nothing here."],
            ["Article 2. The employer may retain the worker's passport."],
        ],
    )
    document = read_document(path)
    assert [p.number for p in document.pages] == [1, 2]
    provisions = split_document(document)
    hit = next(p for p in provisions if "passport" in p.text)
    assert hit.location.page == 2
    assert hit.location.section == "Article 2"


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "e.pdf", [["secret text"]], password="s3cret")
    with pytest.raises(ValidationError, match="encrypted"):
        read_document(path)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.pdf", b"%PDF-1.4\n garbage garbage", "not a readable PDF|no text"),
        ("fake.pdf", b"hello, not a pdf", "no %PDF header"),
        ("bad.docx", b"PK\x03\x04 not really a zip", "not a valid DOCX"),
        ("latin1.txt", "Artículo 1".encode("latin-1"), "not UTF-8 text"),
        ("nul.md", b"abc\x00def", "binary"),
        ("empty.txt", b"   \n\n", "no text found"),
        ("page.html", "<p>caf\xe9</p>".encode("latin-1"), "not UTF-8"),
    ],
)
def test_malformed_input_is_refused_clearly(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ValidationError, match=message):
        read_document(path)


def test_docx_without_document_part_and_zip_bomb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("other.xml", "0" * 200_000)
    path = tmp_path / "z.docx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValidationError, match=r"no word/document\.xml"):
        read_document(path)
    monkeypatch.setattr(reading, "MAX_DOCX_UNCOMPRESSED", 100_000)
    with pytest.raises(ValidationError, match="expands to"):
        read_document(path)


def test_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_text("The employer may retain passports. " * 100, encoding="utf-8")
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ValidationError, match="limit"):
        read_document(path)
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 10_000_000)
    monkeypatch.setattr(reading, "MAX_TEXT_CHARS", 500)
    with pytest.raises(ValidationError, match="characters"):
        read_document(path)


def test_pdf_page_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_pdf(tmp_path / "p.pdf", [["one"], ["two"], ["three"]])
    monkeypatch.setattr(reading, "MAX_PAGES", 2)
    with pytest.raises(ValidationError, match="3 pages"):
        read_document(path)


def test_unknown_suffix_missing_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "a.odt").write_text("x", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"cannot read \.odt"):
        read_document(tmp_path / "a.odt")
    with pytest.raises(NotFoundError):
        read_document(tmp_path / "missing.txt")
    with pytest.raises(ValidationError, match="not a file"):
        read_document(tmp_path)
    with pytest.raises(ValidationError, match="unknown format"):
        read_bytes(b"x", "x", fmt="rtf")


def test_commonaccord_markup_becomes_clauses() -> None:
    folder = shared_path("data", "policy-texts", "aba-model-contract-clauses-commonaccord")
    document = read_document(folder / "Sec_ObligationToCombatAbuse_OLGM_0.md")
    text = document.pages[0].text
    assert "1.sec=" not in text
    assert "{DefT.OLGM}" not in text
    assert "Operational Level Grievance Mechanism (“OLGM”)" in text
    assert "monthly written reports" in text  # {a//b//c} keeps the first alternative
    original = (folder / "Sec_ObligationToCombatAbuse_OLGM_0.md").read_text(encoding="utf-8")
    assert text.count("\n") == original.replace("\r\n", "\n").count("\n")  # lines preserved


def test_commonaccord_conversion_without_shared() -> None:
    document = read_bytes(
        b"Ti=Grievance\n\n1.sec=Supplier shall maintain a {DefT.OLGM} with "
        b"{Freq::monthly//quarterly} reports.\n=[G/Z/para/s1]\n",
        "x.md",
        fmt="markdown",
    )
    assert document.pages[0].text.split("\n") == [
        "# Grievance",
        "",
        "Supplier shall maintain a OLGM with monthly reports.",
        "",
        "",
    ]
