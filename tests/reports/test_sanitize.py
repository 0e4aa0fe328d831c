"""Attachment sanitising: planted metadata comes out, content stays, hostile files are refused."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.comments import Comment
from PIL import Image, ImageOps, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from tests.conftest import shared_path
from tipaudit.errors import ValidationError
from tipaudit.reports.sanitize import (
    AttachmentKind,
    AttachmentLimits,
    sanitize_attachment,
)

SECRET_NAME = "Jane Reporter"
GPS_LATITUDE = ((51, 1), (30, 1), (1234, 100))


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 12"  # Model
    exif[0x013B] = SECRET_NAME  # Artist
    exif[0x0132] = "2026:11:01 10:00:00"  # DateTime
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.34), 3: "W", 4: (0.0, 7.0, 39.0)}
    return exif


def _jpeg_with_gps(size: tuple[int, int] = (64, 32)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(
        out,
        format="JPEG",
        exif=_exif(),
        comment=b"taken by " + SECRET_NAME.encode(),
        icc_profile=b"fake icc profile " + SECRET_NAME.encode(),
        xmp=b"<x:xmpmeta><dc:creator>" + SECRET_NAME.encode() + b"</dc:creator></x:xmpmeta>",
    )
    return out.getvalue()


def test_a_photo_with_damaged_exif_is_cleaned_not_refused() -> None:
    """Pillow only warns on truncated EXIF (found by the fuzz test below): the photo is kept,
    re-encoded without any of it, and no warning escapes."""
    raw = _exif().tobytes()
    image = Image.new("RGB", (16, 8), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=raw[:-12])  # cut inside the tag values
    with (
        pytest.warns(UserWarning, match="Truncated"),
        Image.open(io.BytesIO(out.getvalue())) as damaged,
    ):
        ImageOps.exif_transpose(damaged)  # the input really is damaged: Pillow warns on it

    result = sanitize_attachment("photo.jpg", out.getvalue())

    assert AttachmentKind.JPEG == result.kind
    assert b"Exif" not in result.data
    assert b"PhoneMaker" not in result.data
    with Image.open(io.BytesIO(result.data)) as clean:
        assert 0 == len(clean.getexif())
        assert {8, 16} == set(clean.size)  # turned upright if the orientation tag survived


def _png_with_text() -> bytes:
    image = Image.new("RGBA", (40, 20), (0, 120, 0, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_NAME)
    info.add_itxt("Description", "where: " + SECRET_NAME, zip=True)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=_exif())
    return out.getvalue()


def _pdf_with_author(*, with_photo: bool = False) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setAuthor(SECRET_NAME)
    pdf.setTitle("Payslips")
    pdf.setSubject("evidence")
    pdf.drawString(72, 720, "Wages withheld for three months")
    if with_photo:
        from reportlab.lib.utils import ImageReader

        pdf.drawImage(ImageReader(io.BytesIO(_jpeg_with_gps())), 72, 500, 64, 32)
    pdf.showPage()
    pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_metadata({"/Author": SECRET_NAME, "/Creator": "SecretPhone scanner"})
    _add_javascript(writer)
    writer.add_attachment("contacts.txt", SECRET_NAME.encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _add_javascript(writer: PdfWriter) -> None:
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        TextStringObject,
    )

    action = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello');"),
        }
    )
    reference = writer._add_object(action)
    names = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("js0"), reference])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(names)}
    )
    writer._root_object[NameObject("/OpenAction")] = reference


def _docx_with_creator() -> bytes:
    document = docx.Document()
    paragraph = document.add_paragraph("The recruiter kept our passports.")
    document.add_comment(paragraph.runs, text="check this", author=SECRET_NAME, initials="JR")
    document.core_properties.author = SECRET_NAME
    document.core_properties.last_modified_by = SECRET_NAME
    document.core_properties.title = "Statement"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx_with_creator() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "Hours worked: 84 a week"
    sheet["A1"].comment = Comment("from the logbook", SECRET_NAME)
    workbook.properties.creator = SECRET_NAME
    workbook.properties.lastModifiedBy = SECRET_NAME
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _odt_with_creator(extra: dict[str, bytes] | None = None) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content xmlns:office="{ODF_OFFICE}" '
        f'xmlns:text="{ODF_TEXT}" xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2">'
        "<office:body><office:text><text:p>Forty workers share one room."
        f"<office:annotation><dc:creator>{SECRET_NAME}</dc:creator><dc:date>2026-11-01</dc:date>"
        "<text:p>note</text:p></office:annotation></text:p></office:text></office:body>"
        "</office:document-content>"
    ).encode()
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="{ODF_OFFICE}" '
        'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2"><office:meta>'
        f"<meta:initial-creator>{SECRET_NAME}</meta:initial-creator>"
        f"<dc:creator>{SECRET_NAME}</dc:creator></office:meta></office:document-meta>"
    ).encode()
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        b'<manifest:file-entry manifest:full-path="/" '
        b'manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content)
        archive.writestr("meta.xml", meta)
        archive.writestr("META-INF/manifest.xml", manifest)
        for name, value in (extra or {}).items():
            archive.writestr(name, value)
    return out.getvalue()


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- metadata is gone, content survives ----------------------------------------------------


def test_jpeg_loses_gps_and_every_other_metadata_but_keeps_the_picture() -> None:
    """A phone photo keeps its pixels (turned upright) and loses EXIF, GPS, XMP, ICC, comment."""
    original = _jpeg_with_gps()
    assert SECRET_NAME.encode() in original

    result = sanitize_attachment("IMG_2026.JPG", original)

    assert AttachmentKind.JPEG == result.kind
    assert "image/jpeg" == result.content_type
    assert "IMG_2026.jpg" == result.safe_name
    assert SECRET_NAME.encode() not in result.data
    assert b"Exif" not in result.data
    assert b"SecretPhone" not in result.data
    with Image.open(io.BytesIO(result.data)) as clean:
        assert 0 == len(clean.getexif())
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(clean.info)
        # Orientation 6 was applied before the tag was dropped: 64 x 32 became 32 x 64.
        assert (32, 64) == clean.size
        red, green, _ = clean.convert("RGB").getpixel((16, 32))  # type: ignore[misc]
        assert red > 150
        assert green < 80
    joined = " ".join(result.removed)
    assert "GPS position" in joined
    assert "camera make and model" in joined
    assert "XMP metadata" in joined
    assert "colour profile (ICC)" in joined


def test_png_loses_text_chunks_and_exif_but_keeps_transparency() -> None:
    """PNG text chunks (Author) and EXIF go; the alpha channel stays."""
    result = sanitize_attachment("map.png", _png_with_text())

    assert AttachmentKind.PNG == result.kind
    assert SECRET_NAME.encode() not in result.data
    assert b"tEXt" not in result.data
    assert b"iTXt" not in result.data
    assert b"eXIf" not in result.data
    with Image.open(io.BytesIO(result.data)) as clean:
        assert "RGBA" == clean.mode
        assert (0, 120, 0, 200) == clean.getpixel((5, 5))
        assert {} == getattr(clean, "text", {})
    assert any("Author" in item for item in result.removed)


def test_pdf_loses_author_xmp_javascript_and_attachments_but_keeps_its_text() -> None:
    """The information dictionary, JavaScript and embedded files go; the page text stays."""
    original = _pdf_with_author()
    assert SECRET_NAME.encode() in original

    result = sanitize_attachment("evidence.pdf", original)

    assert "application/pdf" == result.content_type
    assert SECRET_NAME.encode() not in result.data
    assert b"/JavaScript" not in result.data
    assert b"/EmbeddedFiles" not in result.data
    assert b"app.alert" not in result.data
    reader = PdfReader(io.BytesIO(result.data))
    assert reader.metadata is None or not any(reader.metadata.values())
    assert "/Metadata" not in reader.trailer["/Root"]
    assert "Wages withheld for three months" in reader.pages[0].extract_text()
    joined = " ".join(result.removed)
    assert "Author" in joined
    assert "JavaScript" in joined
    assert "embedded files" in joined


def test_photo_inside_pdf_loses_its_exif_without_being_recompressed() -> None:
    """A JPEG embedded in a PDF keeps its image data but not its metadata segments."""
    original = _pdf_with_author(with_photo=True)
    reader = PdfReader(io.BytesIO(original))
    # reportlab keeps the photo's comment segment (which names the photographer).
    assert SECRET_NAME.encode() in reader.pages[0].images[0].data

    result = sanitize_attachment("scan.pdf", original)

    reader = PdfReader(io.BytesIO(result.data))
    images = reader.pages[0].images
    assert 1 == len(images)
    assert SECRET_NAME.encode() not in images[0].data
    assert images[0].image is not None
    assert (64, 32) == images[0].image.size
    assert any("photo metadata inside the PDF" in item for item in result.removed)


def test_docx_loses_creator_and_comment_authors_but_keeps_text() -> None:
    """Core properties are emptied and comment authors blanked; paragraphs and comments stay."""
    original = _docx_with_creator()
    assert SECRET_NAME.encode() in b"".join(_zip_members(original).values())

    result = sanitize_attachment("statement.docx", original)

    assert AttachmentKind.DOCX == result.kind
    members = _zip_members(result.data)
    for name, content in members.items():
        assert SECRET_NAME.encode() not in content, name
        assert b"JR" not in content or name.endswith((".png", ".jpeg")), name
    reopened = docx.Document(io.BytesIO(result.data))
    assert "The recruiter kept our passports." == reopened.paragraphs[0].text
    assert "" == reopened.core_properties.author
    assert "" == reopened.core_properties.last_modified_by
    assert ["check this"] == [comment.text for comment in reopened.comments]
    joined = " ".join(result.removed)
    assert "document properties" in joined
    assert "comment and change authors" in joined


def test_xlsx_loses_creator_and_comment_author_but_keeps_cells() -> None:
    """Workbook properties and the comment author list are scrubbed; values survive."""
    result = sanitize_attachment("hours.xlsx", _xlsx_with_creator())

    assert AttachmentKind.XLSX == result.kind
    for name, content in _zip_members(result.data).items():
        assert SECRET_NAME.encode() not in content, name
    workbook = openpyxl.load_workbook(io.BytesIO(result.data))
    sheet = workbook.active
    assert sheet is not None
    assert "Hours worked: 84 a week" == sheet["A1"].value
    assert SECRET_NAME != workbook.properties.creator


def test_odt_loses_meta_and_annotation_creator_but_keeps_text() -> None:
    """meta.xml is emptied, annotation creators blanked; mimetype stays first and stored."""
    result = sanitize_attachment("housing.odt", _odt_with_creator())

    assert AttachmentKind.ODT == result.kind
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        first = archive.infolist()[0]
        assert "mimetype" == first.filename
        assert zipfile.ZIP_STORED == first.compress_type
        for name in archive.namelist():
            assert SECRET_NAME.encode() not in archive.read(name), name
        assert b"Forty workers share one room." in archive.read("content.xml")


def test_plain_text_is_accepted_and_a_bom_dropped() -> None:
    """UTF-8 text in any script passes unchanged (but for a byte-order mark)."""
    text = "Le recruteur a gardé nos passeports. 护照被没收。\n".encode()

    result = sanitize_attachment("notes", b"\xef\xbb\xbf" + text)

    assert text == result.data
    assert "notes.txt" == result.safe_name
    assert "text/plain; charset=utf-8" == result.content_type


def test_type_comes_from_content_not_extension() -> None:
    """A PDF named like a photo is handled, and renamed, as a PDF."""
    result = sanitize_attachment("holiday.jpg", _pdf_with_author())

    assert AttachmentKind.PDF == result.kind
    assert "holiday.pdf" == result.safe_name


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd", "passwd.txt"),
        ("C:\\Users\\jane\\evidence.txt", "evidence.txt"),
        ("\x00\x1b[31mred\u202e.txt", "31mred.txt"),
        ("", "attachment.txt"),
        ("...", "attachment.txt"),
        ("a" * 300 + ".txt", "a" * 80 + ".txt"),
        ("informe de José.exe", "informe de José.txt"),
        ("<script>alert(1)</script>.txt", "script.txt"),
    ],
)
def test_safe_name_keeps_a_clean_stem_and_the_real_extension(filename: str, expected: str) -> None:
    """Folders, control and bidi characters, markup and the claimed extension are dropped."""
    assert expected == sanitize_attachment(filename, b"hello").safe_name


# --- hostile and malformed input is refused cleanly ----------------------------------------


def _refused(data: bytes, match: str, limits: AttachmentLimits | None = None) -> None:
    with pytest.raises(ValidationError, match=match):
        sanitize_attachment("upload.bin", data, limits=limits)


def _zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            archive.writestr(name, value)
    return out.getvalue()


def _docx_members() -> dict[str, bytes]:
    return _zip_members(_docx_with_creator())


def test_empty_oversize_and_unknown_types_are_refused() -> None:
    """Empty files, files over the limit, executables and binary junk."""
    _refused(b"", "empty")
    _refused(b"x" * 101, "limit", AttachmentLimits(max_bytes=100))
    _refused(b"MZ\x90\x00" + b"\x00" * 100, "not accepted")
    _refused(b"GIF89a" + b"\x00" * 20, "not accepted")
    _refused(b"plain\x00text", "not accepted")
    _refused(b"\xff\xfe" + "utf-16".encode("utf-16-le"), "not accepted")
    _refused(_zip_of({"a.txt": b"hello"}), "Zip archives are not accepted")


def test_image_with_huge_dimensions_is_refused_before_decoding() -> None:
    """A tiny PNG that claims 100,000 x 100,000 pixels is refused in well under a second."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    ihdr = b"IHDR" + header
    chunk = struct.pack(">I", len(header)) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
    idat_body = zlib.compress(b"\x00" * 1000)
    idat = b"IDAT" + idat_body
    chunk_idat = struct.pack(">I", len(idat_body)) + idat + struct.pack(">I", zlib.crc32(idat))
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    bomb = b"\x89PNG\r\n\x1a\n" + chunk + chunk_idat + iend

    started = time.perf_counter()
    _refused(bomb, "million pixels")
    assert time.perf_counter() - started < 1.0


def test_png_text_chunk_bomb_is_refused() -> None:
    """A zTXt chunk that inflates to 100 MB (over Pillow's text limit) is refused."""
    image = Image.new("L", (4, 4))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 30_000_000, zip=True)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    _refused(out.getvalue(), "could not be read")


@pytest.mark.parametrize("make", [_jpeg_with_gps, _png_with_text, _pdf_with_author])
def test_truncated_files_are_refused(make: object) -> None:
    """Half a photo or half a PDF is refused as damaged, not half-sanitised."""
    assert callable(make)
    data: bytes = make()
    _refused(data[: len(data) // 3], "could not be read|damaged")


def test_truncated_office_document_is_refused() -> None:
    """A docx cut in half has no central directory."""
    data = _docx_with_creator()
    _refused(data[: len(data) // 2], "could not be read")


def test_zip_bomb_is_refused() -> None:
    """A docx member of 200 MB of zeros (compressing 1000:1) is refused without inflating it."""
    members = _docx_members()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            archive.writestr(name, value)
        with archive.open("word/media/bomb.bin", "w", force_zip64=True) as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(200):
                member.write(block)
    started = time.perf_counter()
    _refused(out.getvalue(), "zip bomb|expands")
    assert time.perf_counter() - started < 5.0


def test_zip_whose_headers_lie_about_sizes_is_stopped_while_reading() -> None:
    """The reader counts real bytes: a member that inflates past the budget is refused."""
    members = _docx_members()
    members["word/big.xml"] = b"<a>" + b" " * 3_000_000 + b"</a>"
    _refused(_zip_of(members), "expands", AttachmentLimits(max_uncompressed_bytes=2_000_000))


@pytest.mark.parametrize(
    ("member", "content", "match"),
    [
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0", "macros"),
        ("word/activeX/activeX1.xml", b"<a/>", "macros"),
        ("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0", "embedded"),
        (
            "word/footnotes.xml",
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>',
            "entity",
        ),
        ("word/document2.xml", b"<a><b></a>", "damaged"),
    ],
)
def test_hostile_office_parts_are_refused(member: str, content: bytes, match: str) -> None:
    """Macros, ActiveX, OLE objects, remote templates, XML entities and broken XML."""
    members = _docx_members()
    members[member] = content
    _refused(_zip_of(members), match)


def test_remote_template_is_cut_off_but_hyperlinks_stay() -> None:
    """A remote template (fetched when the document opens) is pointed nowhere; links stay."""
    members = _docx_members()
    members["word/_rels/settings.xml.rels"] = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
        b'Target="http://evil.example/t.dotm" TargetMode="External"/><Relationship Id="rId2" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
        b'Target="https://ilo.org/" TargetMode="External"/></Relationships>'
    )
    result = sanitize_attachment("t.docx", _zip_of(members))

    rels = _zip_members(result.data)["word/_rels/settings.xml.rels"]
    assert b"evil.example" not in rels
    assert b'Target="removed"' in rels
    assert b"https://ilo.org/" in rels
    assert any("remote content" in item for item in result.removed)


def test_real_workbook_with_links_to_other_files_is_cleaned_and_still_opens() -> None:
    """The GSI 2023 workbook links to files on its authors' SharePoint; the paths go."""
    path = shared_path("data", "global-slavery-index", "2023-Global-Slavery-Index-Data.xlsx")
    original = path.read_bytes()
    assert b"/sites/wf/edms" in b"".join(_zip_members(original).values())

    result = sanitize_attachment(path.name, original)

    assert b"/sites/wf/edms" not in b"".join(_zip_members(result.data).values())
    workbook = openpyxl.load_workbook(io.BytesIO(result.data), read_only=True)
    assert len(workbook.sheetnames) == len(
        openpyxl.load_workbook(io.BytesIO(original), read_only=True).sheetnames
    )


def test_real_pdf_loses_its_document_information() -> None:
    """The CTDC codebook PDF: author, labels and XMP go; its text stays."""
    path = shared_path("data", "ctdc", "Codebook_CTDC_global_synthetic_data_v2024.pdf")
    original = PdfReader(path)
    assert original.metadata is not None
    assert original.metadata.get("/Author")

    result = sanitize_attachment(path.name, path.read_bytes())

    clean = PdfReader(io.BytesIO(result.data))
    assert clean.metadata is None or not clean.metadata.get("/Author")
    assert len(original.pages) == len(clean.pages)
    assert original.pages[0].extract_text()[:200] == clean.pages[0].extract_text()[:200]


def test_macro_enabled_content_type_is_refused() -> None:
    """A .docm renamed .docx declares a macro-enabled main part."""
    members = _docx_members()
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"document.main+xml", b"document.macroEnabled.main+xml"
    )
    _refused(_zip_of(members), "macros")


def test_odt_with_basic_macros_or_other_odf_types_is_refused() -> None:
    """A Basic library in an ODT, and an ODS spreadsheet."""
    _refused(_odt_with_creator({"Basic/Standard/Module1.xml": b"<a/>"}), "macros")
    spreadsheet = _zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    _refused(spreadsheet, "Only OpenDocument text")


def test_zip_with_path_traversal_or_encryption_is_refused() -> None:
    """Member names that climb out, and encrypted members."""
    members = _docx_members()
    members["../evil.xml"] = b"<a/>"
    _refused(_zip_of(members), "not valid")
    data = bytearray(_zip_of(_docx_members()))
    # Set the "encrypted" flag on every central-directory entry.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        data[position + 8] |= 0x01
        position = data.find(b"PK\x01\x02", position + 4)
    _refused(bytes(data), "encrypted")


def test_corrupt_compressed_member_or_unknown_zip_version_is_refused() -> None:
    """Found by mutation fuzzing: a broken deflate stream (zlib.error) and a zip that needs a
    later version (NotImplementedError) are refusals, not crashes."""
    data = bytearray(_docx_with_creator())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start + 2, start + 40):
        data[offset] ^= 0x5A
    _refused(bytes(data), "could not be read")
    versioned = bytearray(_docx_with_creator())
    position = versioned.find(b"PK\x01\x02")
    versioned[position + 6] = 99  # "version needed to extract" 9.9: newer than zipfile knows
    _refused(bytes(versioned), "could not be read")


def test_password_protected_pdf_is_refused() -> None:
    """A PDF that needs a password to open cannot be checked."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_with_author())))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    _refused(out.getvalue(), "password")


def test_polyglot_payloads_appended_to_an_image_or_pdf_do_not_survive() -> None:
    """A JPEG or PDF with a zip (or HTML) glued on is rewritten without the passenger."""
    payload = _zip_of({"evil.html": b"<script>alert('x')</script>"})
    image = sanitize_attachment("a.jpg", _jpeg_with_gps() + payload)
    assert b"PK\x03\x04" not in image.data
    assert b"evil.html" not in image.data
    pdf = sanitize_attachment("a.pdf", _pdf_with_author() + b"\n<html><script>x</script>")
    assert b"<script>" not in pdf.data
    with zipfile.ZipFile(io.BytesIO(_docx_with_creator())) as archive:
        assert archive.namelist()
    # A zip that starts with a PDF header is read as a PDF and its zip part discarded.
    pdf_zip = sanitize_attachment("b.pdf", _pdf_with_author() + payload)
    assert b"evil.html" not in pdf_zip.data


def test_pdf_with_too_many_pages_is_refused() -> None:
    """The page limit applies before any page is copied."""
    writer = PdfWriter()
    for _ in range(5):
        writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    _refused(out.getvalue(), "pages", AttachmentLimits(max_pdf_pages=4))


VALID_SAMPLES = {
    "jpeg": _jpeg_with_gps(),
    "png": _png_with_text(),
    "pdf": _pdf_with_author(),
    "docx": _docx_with_creator(),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(sorted(VALID_SAMPLES)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.floats(0.05, 1.0),
)
def test_damaged_files_are_either_sanitised_or_refused_never_crash(
    sample: str, flips: list[tuple[float, int]], cut: float
) -> None:
    """Random byte corruption and truncation of real files: a result or a ValidationError."""
    data = bytearray(VALID_SAMPLES[sample])
    for where, value in flips:
        data[int(where * len(data))] = value
    data = data[: max(1, int(len(data) * cut))]
    try:
        result = sanitize_attachment("x", bytes(data))
    except ValidationError:
        return
    assert result.data
    assert SECRET_NAME.encode() not in result.data or result.kind is AttachmentKind.TEXT


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    """Any bytes either pass as one of the accepted types or raise ValidationError."""
    try:
        result = sanitize_attachment("x", data)
    except ValidationError:
        return
    assert result.content_type
