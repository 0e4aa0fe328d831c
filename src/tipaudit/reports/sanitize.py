"""Attachment sanitising: accept a small set of file types and strip what identifies the author.

A reporter's photo can carry the GPS position of their phone, a PDF the name of the person who
wrote it, a Word document the names of everyone who commented on it. Before an attachment is
encrypted and stored, :func:`sanitize_attachment` decides what the file really is from its
bytes (never from its name), refuses anything outside the accepted types, and rewrites it
without its metadata:

=====================  =======================================================================
type                   what is done
=====================  =======================================================================
JPEG, PNG              decoded and re-encoded from the pixels alone (orientation applied first),
                       which drops EXIF (GPS, camera, time), XMP, ICC profiles, comments, text
                       chunks and anything appended to the file
PDF                    pages copied into a new document without the document information
                       dictionary, XMP metadata, JavaScript, embedded files, forms, launch and
                       submit actions; metadata segments of embedded JPEG photos are cut out
DOCX, XLSX, ODT        the zip is rewritten: document properties emptied, comment and
                       tracked-change author names removed, embedded photos stripped;
                       macros, ActiveX, embedded objects and remote templates are refused
plain text             accepted as UTF-8 without NUL bytes (text has no hidden metadata)
=====================  =======================================================================

Hostile input is refused with a :class:`~tipaudit.errors.ValidationError` that tells the
reporter what to do instead: files over the size limit, images of more than
:attr:`AttachmentLimits.max_pixels` pixels (decompression bombs), zips with too many members,
too much uncompressed data or a suspicious compression ratio, encrypted or truncated files.
Nothing here writes to disk or the network.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from defusedxml import ElementTree as SafeET
from PIL import Image, ImageOps, UnidentifiedImageError

from tipaudit.errors import ValidationError

__all__ = [
    "ACCEPTED_TYPES",
    "AttachmentKind",
    "AttachmentLimits",
    "SanitizedAttachment",
    "sanitize_attachment",
]


class AttachmentKind(StrEnum):
    """A file type the public channel accepts."""

    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    ODT = "odt"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class AcceptedType:
    kind: AttachmentKind
    content_type: str
    extension: str
    label: str


#: The accepted types, as shown to reporters (label) and stored (content type, extension).
ACCEPTED_TYPES: dict[AttachmentKind, AcceptedType] = {
    t.kind: t
    for t in (
        AcceptedType(AttachmentKind.JPEG, "image/jpeg", ".jpg", "JPEG photo"),
        AcceptedType(AttachmentKind.PNG, "image/png", ".png", "PNG image"),
        AcceptedType(AttachmentKind.PDF, "application/pdf", ".pdf", "PDF document"),
        AcceptedType(
            AttachmentKind.DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
            "Word document (.docx)",
        ),
        AcceptedType(
            AttachmentKind.XLSX,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".xlsx",
            "Excel workbook (.xlsx)",
        ),
        AcceptedType(
            AttachmentKind.ODT,
            "application/vnd.oasis.opendocument.text",
            ".odt",
            "OpenDocument text (.odt)",
        ),
        AcceptedType(AttachmentKind.TEXT, "text/plain; charset=utf-8", ".txt", "plain text"),
    )
}


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """Bounds on what one attachment may cost to check and store."""

    #: Largest file accepted, in bytes.
    max_bytes: int = 10 * 1024 * 1024
    #: Largest image, in pixels (width x height); larger images are refused as possible bombs.
    max_pixels: int = 40_000_000
    #: Most members in a DOCX/XLSX/ODT zip.
    max_zip_members: int = 2_000
    #: Most bytes all members of a zip may expand to.
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    #: Highest compression ratio of a zip member larger than one megabyte.
    max_compression_ratio: int = 100
    #: Most pages in a PDF.
    max_pdf_pages: int = 2_000


@dataclass(frozen=True, slots=True)
class SanitizedAttachment:
    """A file that passed the checks, rewritten without its identifying metadata."""

    #: A file name safe to show and store: the original stem, cleaned, with the real extension.
    safe_name: str
    #: The MIME type of ``data`` (from the content, not the name).
    content_type: str
    #: The rewritten file.
    data: bytes
    #: What was removed, in words a reporter can read ("EXIF metadata (GPS position, ...)").
    removed: list[str] = field(default_factory=list)
    #: The detected kind of file.
    kind: AttachmentKind = AttachmentKind.TEXT


def sanitize_attachment(
    filename: str, data: bytes, *, limits: AttachmentLimits | None = None
) -> SanitizedAttachment:
    """Check one uploaded file and return it rewritten without identifying metadata.

    The type is decided from the content; the extension of ``filename`` is ignored (a PDF
    called ``photo.jpg`` is handled, and named, as a PDF). Raises
    :class:`~tipaudit.errors.ValidationError` with a message for the reporter when the file is
    empty, too large, of a type not accepted, damaged, encrypted, or hostile.
    """
    bounds = limits or AttachmentLimits()
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > bounds.max_bytes:
        raise ValidationError(
            f"The file is {_megabytes(len(data))}; the limit is {_megabytes(bounds.max_bytes)} "
            "per file.",
            hint="Send a smaller photo, or split the document.",
        )
    kind = _sniff(data)
    handler = _HANDLERS[kind]
    clean, removed = handler(data, bounds)
    accepted = ACCEPTED_TYPES[kind]
    return SanitizedAttachment(
        safe_name=_safe_name(filename, accepted.extension),
        content_type=accepted.content_type,
        data=clean,
        removed=removed,
        kind=kind,
    )


# --- type detection -----------------------------------------------------------------------

_NOT_ACCEPTED = (
    "This type of file is not accepted. Send photos as JPEG or PNG, documents as PDF, DOCX, "
    "XLSX or ODT, or plain text."
)


def _sniff(data: bytes) -> AttachmentKind:
    if data.startswith(b"\xff\xd8\xff"):
        return AttachmentKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return AttachmentKind.PNG
    if data.startswith(b"%PDF-"):
        return AttachmentKind.PDF
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if _looks_like_text(data):
        return AttachmentKind.TEXT
    raise ValidationError(_NOT_ACCEPTED)


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # Control characters other than tab, newline, carriage return and form feed mean binary.
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)


_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        AttachmentKind.DOCX
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        AttachmentKind.XLSX
    ),
}
_MACRO_MARKERS = ("macroenabled", "vbaproject", "vbadata", "activex")


def _sniff_zip(data: bytes) -> AttachmentKind:
    archive = _open_zip(data)
    names = set(archive.namelist())
    if "mimetype" in names:
        mimetype = _read_member(archive, "mimetype", 1_000).strip()
        if mimetype == b"application/vnd.oasis.opendocument.text":
            return AttachmentKind.ODT
        raise ValidationError(
            "Only OpenDocument text (.odt) is accepted among OpenDocument files.",
            hint="Save spreadsheets as XLSX or PDF.",
        )
    if "[Content_Types].xml" in names:
        types = _read_member(archive, "[Content_Types].xml", 1_000_000).decode("utf-8", "replace")
        if any(marker in types.lower() for marker in _MACRO_MARKERS):
            raise _macros()
        for content_type, kind in _OOXML_MAIN.items():
            if content_type in types:
                return kind
        raise ValidationError(
            "Only Word (.docx) and Excel (.xlsx) files are accepted among Office files; "
            "macro-enabled files (.docm, .xlsm) and presentations are not.",
            hint="Save the file as PDF and send that.",
        )
    raise ValidationError(_NOT_ACCEPTED + " (Zip archives are not accepted.)")


def _macros() -> ValidationError:
    return ValidationError(
        "The document contains macros or ActiveX controls, which are not accepted.",
        hint="Save it as a plain .docx/.xlsx or as PDF, then send it again.",
    )


# --- images -------------------------------------------------------------------------------

# Pillow raises all of these on damaged or hostile images.
_IMAGE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    Image.DecompressionBombError,
)


def _sanitize_image(data: bytes, bounds: AttachmentLimits, fmt: str) -> tuple[bytes, list[str]]:
    # Refuse oversized images from their header, before Pillow warns or allocates anything.
    declared = _declared_size(data, fmt)
    if declared is not None:
        _check_pixels(*declared, bounds)
    try:
        with warnings.catch_warnings(), Image.open(io.BytesIO(data), formats=[fmt]) as image:
            # Pillow warns (rather than fails) on damaged EXIF; the metadata is dropped anyway,
            # since only the pixels are written out again.
            warnings.simplefilter("ignore", UserWarning)
            _check_pixels(*image.size, bounds)
            removed = _image_metadata(image)
            frames = getattr(image, "n_frames", 1)
            image.load()
            upright = ImageOps.exif_transpose(image)
            pixels = _plain_pixels(upright, fmt)
    except ValidationError:
        raise
    except _IMAGE_ERRORS:
        raise ValidationError(
            f"The {fmt} image could not be read; it may be damaged or incomplete.",
            hint="Open it on your device to check it, then send it again.",
        ) from None
    if frames > 1:
        removed.append(f"animation (only the first of {frames} frames is kept)")
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(out, format="JPEG", quality=92, optimize=True)
    else:
        pixels.save(out, format="PNG", optimize=False)
    return out.getvalue(), removed


def _check_pixels(width: int, height: int, bounds: AttachmentLimits) -> None:
    if width < 1 or height < 1 or width * height > bounds.max_pixels:
        raise ValidationError(
            f"The image is {width:,} x {height:,} pixels; the limit is "
            f"{bounds.max_pixels // 1_000_000} million pixels.",
            hint="Send a smaller version of the photo.",
        )


# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic ...).
_SOF_MARKERS = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)


def _declared_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """Width and height as the file's header declares them, or None if not found."""
    if fmt == "PNG":
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return None
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in _SOF_MARKERS:
            height = int.from_bytes(data[position + 5 : position + 7], "big")
            width = int.from_bytes(data[position + 7 : position + 9], "big")
            return width, height
        if marker == 0xDA:
            return None
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None


def _image_metadata(image: Image.Image) -> list[str]:
    removed: list[str] = []
    exif = image.getexif()
    if len(exif) or "exif" in image.info:
        details = []
        if exif.get_ifd(0x8825):  # the GPS IFD
            details.append("GPS position")
        if any(tag in exif for tag in (0x010F, 0x0110)):  # Make, Model
            details.append("camera make and model")
        if any(tag in exif for tag in (0x013B, 0x8298)):  # Artist, Copyright
            details.append("author")
        if 0x0132 in exif or exif.get_ifd(0x8769).get(0x9003):  # DateTime, DateTimeOriginal
            details.append("date and time")
        suffix = f" ({', '.join(details)})" if details else ""
        removed.append(f"EXIF metadata{suffix}")
    if "xmp" in image.info or "XML:com.adobe.xmp" in image.info:
        removed.append("XMP metadata")
    if "icc_profile" in image.info:
        removed.append("colour profile (ICC)")
    if "comment" in image.info:
        removed.append("comment")
    text_keys = sorted(
        str(key)
        for key in getattr(image, "text", {})
        if key not in {"XML:com.adobe.xmp", "exif", "icc_profile"}
    )
    if text_keys:
        removed.append(f"text fields ({', '.join(text_keys[:10])})")
    return removed


def _plain_pixels(image: Image.Image, fmt: str) -> Image.Image:
    """A new image made of the pixels only: no ``info``, so nothing else can be written out."""
    if fmt == "JPEG":
        mode = "L" if image.mode in {"1", "L"} else "RGB"
    elif image.mode in {"1", "L", "RGB", "RGBA", "LA"}:
        mode = image.mode if image.mode != "1" else "L"
    elif image.mode == "P" and "transparency" in image.info:
        mode = "RGBA"
    elif image.mode in {"I", "I;16", "I;16B", "I;16L", "F"}:
        mode = "L"
    else:
        mode = "RGBA" if "A" in image.mode else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


# --- PDF ----------------------------------------------------------------------------------

_UNSAFE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/GoToR",
        "/RichMediaExecute",
    }
)
_UNSAFE_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia", "/3D"}
)
# Page-level keys that hold metadata, application data or actions.
_PAGE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/AA", "/Thumb")


def _sanitize_pdf(data: bytes, bounds: AttachmentLimits) -> tuple[bytes, list[str]]:
    try:
        return _rewrite_pdf(data, bounds)
    except ValidationError:
        raise
    except RecursionError:
        raise ValidationError("The PDF is too deeply nested to be checked.") from None
    except Exception:  # noqa: BLE001 - pypdf raises many types on hostile input; all mean "refuse"
        raise ValidationError(
            "The PDF could not be read; it may be damaged or incomplete.",
            hint="Open it to check it, or print it to a new PDF, then send it again.",
        ) from None


def _rewrite_pdf(data: bytes, bounds: AttachmentLimits) -> tuple[bytes, list[str]]:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValidationError(
            "The PDF is protected by a password and cannot be checked.",
            hint="Save or print it as a PDF without a password, then send it again.",
        )
    pages = len(reader.pages)
    if pages == 0:
        raise ValidationError("The PDF has no pages.")
    if pages > bounds.max_pdf_pages:
        raise ValidationError(
            f"The PDF has {pages:,} pages; the limit is {bounds.max_pdf_pages:,}."
        )
    removed = _pdf_catalog_findings(reader)
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    page_findings: set[str] = set()
    for page in writer.pages:
        _clean_pdf_page(page, page_findings)
    removed.extend(sorted(page_findings))
    # PdfWriter fills in its own /Producer; publish no document information at all.
    writer.metadata = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), removed


def _pdf_catalog_findings(reader: Any) -> list[str]:
    removed: list[str] = []
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else None
    if info:
        keys = sorted(str(key).lstrip("/") for key in info)
        removed.append(f"document information ({', '.join(keys[:10])})")
    root = reader.trailer["/Root"].get_object()
    if "/Metadata" in root:
        removed.append("XMP metadata")
    names = root.get("/Names")
    names = names.get_object() if names is not None else {}
    if "/JavaScript" in names or _has_js_action(root.get("/OpenAction")):
        removed.append("JavaScript")
    if "/EmbeddedFiles" in names:
        removed.append("embedded files")
    if "/AcroForm" in root:
        removed.append("interactive form definitions (filled-in values stay visible)")
    if "/OpenAction" in root or "/AA" in root:
        removed.append("actions run when the document opens")
    return removed


def _has_js_action(action: Any) -> bool:
    try:
        action = action.get_object() if action is not None else None
    except AttributeError:
        return False
    return isinstance(action, dict) and action.get("/S") == "/JavaScript"


def _clean_pdf_page(page: Any, findings: set[str]) -> None:
    from pypdf.generic import ArrayObject, NameObject

    for key in _PAGE_KEYS:
        if key in page:
            del page[NameObject(key)]
            findings.add(
                {
                    "/Metadata": "page metadata",
                    "/PieceInfo": "application data",
                    "/LastModified": "page modification dates",
                    "/AA": "actions run when a page opens",
                    "/Thumb": "page thumbnails",
                }[key]
            )
    annotations = page.get("/Annots")
    if annotations is not None:
        kept = ArrayObject()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            subtype = annotation.get("/Subtype")
            if subtype in _UNSAFE_ANNOTATIONS:
                findings.add("embedded files and media")
                continue
            for key in ("/A", "/AA"):
                action = annotation.get(key)
                action = action.get_object() if action is not None else None
                if action is not None and _unsafe_action(action):
                    del annotation[NameObject(key)]
                    findings.add("JavaScript and launch actions")
            for key in ("/T", "/M", "/Popup", "/RC", "/NM"):
                # /T is the author of a comment, /M its date.
                if subtype != "/Widget" and key in annotation:
                    if key == "/T":
                        findings.add("comment author names")
                    del annotation[NameObject(key)]
            kept.append(reference)
        page[NameObject("/Annots")] = kept
    _strip_pdf_images(page, findings)


def _unsafe_action(action: Any) -> bool:
    if not hasattr(action, "get"):
        return False
    if action.get("/S") in _UNSAFE_ACTIONS:
        return True
    # /AA is a dictionary of triggers, each an action.
    for value in action.values():
        target = value.get_object() if hasattr(value, "get_object") else value
        if hasattr(target, "get") and target.get("/S") in _UNSAFE_ACTIONS:
            return True
    return False


def _strip_pdf_images(page: Any, findings: set[str]) -> None:
    from pypdf.generic import NameObject

    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, dict):
        return
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, dict):
        return
    for reference in xobjects.values():
        image = reference.get_object()
        if image.get("/Subtype") != "/Image":
            continue
        filters = image.get("/Filter")
        names = [filters] if isinstance(filters, str) else [str(f) for f in filters or []]
        if not names or names[-1] != "/DCTDecode" or not set(names) <= _JPEG_WRAPPERS:
            continue
        # Outer filters (Flate, ASCII85) are undone by pypdf, which bounds what it inflates.
        jpeg = image._data if len(names) == 1 else image.get_data()
        stripped, cut = _strip_jpeg_segments(jpeg)
        if cut:
            image._data = stripped
            image[NameObject("/Filter")] = NameObject("/DCTDecode")
            if "/DecodeParms" in image:
                del image[NameObject("/DecodeParms")]
            findings.add("photo metadata inside the PDF (EXIF, XMP)")


_JPEG_WRAPPERS = frozenset({"/DCTDecode", "/FlateDecode", "/ASCII85Decode", "/ASCIIHexDecode"})


# --- JPEG segments (for photos inside PDF and Office files) --------------------------------

# APP1 (EXIF, XMP), APP2 (ICC, FlashPix), APP3-APP13 (vendor data, Photoshop IPTC) and COM.
# APP0 (JFIF) and APP14 (Adobe colour transform) are kept: decoders need them.
_DROPPED_MARKERS = frozenset({0xFE, *range(0xE1, 0xEE), 0xEF})


def _strip_jpeg_segments(data: bytes) -> tuple[bytes, bool]:
    """Cut metadata segments out of a JPEG without re-encoding it; unchanged if unparseable."""
    if not data.startswith(b"\xff\xd8"):
        return data, False
    out = bytearray(b"\xff\xd8")
    position, cut = 2, False
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return data, False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[position:]
            return bytes(out), cut
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > len(data):
            return data, False
        segment = data[position : position + 2 + length]
        if marker in _DROPPED_MARKERS:
            cut = True
        else:
            out += segment
        position += 2 + length
    return data, False


# --- Office documents ----------------------------------------------------------------------

_EMPTY_PARTS = {
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'
    ),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'
    ),
}
_ODF_EMPTY_META = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"><office:meta/></office:document-meta>'
)
# Parts that only identify people or machines; replaced by empty ones of the same kind.
_PEOPLE_PARTS = ("word/people.xml", "xl/persons/person.xml")
_ODF_SETTINGS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-settings xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"/>'
)

# Attributes (any namespace prefix) and elements that carry a person's name or account.
_AUTHOR_ATTRIBUTE = re.compile(
    rb"""(\s(?:[A-Za-z0-9_]+:)?(?:author|initials|userId|providerId|displayName))"""
    rb"""\s*=\s*("[^"]*"|'[^']*')"""
)
_AUTHOR_ELEMENT = re.compile(
    rb"<((?:[A-Za-z0-9_]+:)?(?:author|creator|initial-creator))(\s[^>]*)?>[^<]*</\1>"
)
_EXTERNAL_REL = re.compile(rb"<Relationship\b[^>]*TargetMode\s*=\s*[\"']External[\"'][^>]*>")
_HYPERLINK_TYPE = b'/relationships/hyperlink"'
_CUSTOM_XML_ITEM = re.compile(r"customXml/item\d+\.xml")
_TARGET = re.compile(rb"""\bTarget\s*=\s*("[^"]*"|'[^']*')""")


def _sanitize_zip_document(
    data: bytes, bounds: AttachmentLimits, kind: AttachmentKind
) -> tuple[bytes, list[str]]:
    archive = _open_zip(data)
    infos = archive.infolist()
    _check_zip(infos, bounds)
    removed: set[str] = set()
    out = io.BytesIO()
    budget = bounds.max_uncompressed_bytes
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            if info.is_dir():
                continue
            content = _read_member(archive, info.filename, budget)
            budget -= len(content)
            content = _clean_member(kind, info.filename, content, removed)
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            # ODF needs its `mimetype` first and stored uncompressed.
            member.compress_type = (
                zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            )
            member.external_attr = 0o600 << 16
            target.writestr(member, content)
    removed.add("file dates and comments inside the zip")
    return out.getvalue(), sorted(removed)


def _check_zip(infos: list[zipfile.ZipInfo], bounds: AttachmentLimits) -> None:
    if len(infos) > bounds.max_zip_members:
        raise ValidationError(
            f"The document has {len(infos):,} parts; the limit is {bounds.max_zip_members:,}."
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen or name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise ValidationError("The document's zip structure is not valid.")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise ValidationError(
                "The document is encrypted and cannot be checked.",
                hint="Save it without a password, then send it again.",
            )
        total += info.file_size
        large = info.file_size > 1024 * 1024
        ratio = info.file_size / max(info.compress_size, 1)
        if large and ratio > bounds.max_compression_ratio:
            raise ValidationError(
                "The document expands to far more data than it contains (a 'zip bomb') "
                "and is refused."
            )
    if total > bounds.max_uncompressed_bytes:
        raise ValidationError(
            f"The document expands to {_megabytes(total)}; the limit is "
            f"{_megabytes(bounds.max_uncompressed_bytes)}."
        )


def _clean_member(kind: AttachmentKind, name: str, content: bytes, removed: set[str]) -> bytes:
    lower = name.lower()
    if any(marker in lower for marker in _MACRO_MARKERS):
        raise _macros()
    if kind is AttachmentKind.ODT:
        return _clean_odf_member(name, lower, content, removed)
    if lower.startswith(("word/embeddings/", "xl/embeddings/")) or "oleobject" in lower:
        raise ValidationError(
            "The document contains embedded files or objects, which are not accepted.",
            hint="Send the embedded files separately, or save the document as PDF.",
        )
    if name in _EMPTY_PARTS:
        _parse_xml(content)
        if content != _EMPTY_PARTS[name]:
            removed.add(
                {
                    "docProps/core.xml": "document properties (author, last modified by, "
                    "title, dates)",
                    "docProps/app.xml": "application properties (company, manager, template)",
                    "docProps/custom.xml": "custom document properties",
                }[name]
            )
        return _EMPTY_PARTS[name]
    if name in _PEOPLE_PARTS:
        removed.add("list of people who edited or commented")
    if _CUSTOM_XML_ITEM.fullmatch(name):
        # SharePoint and document-management properties (document IDs, site addresses, owners).
        _parse_xml(content)
        removed.add("custom XML properties (SharePoint and document management)")
        return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<empty/>'
    if lower.endswith(".rels"):
        _parse_xml(content)
        return _neutralise_external_links(content, removed)
    if lower.endswith(".xml"):
        return _scrub_xml(content, removed)
    return _clean_media(lower, content, removed)


def _neutralise_external_links(content: bytes, removed: set[str]) -> bytes:
    """Point every external relationship but hyperlinks nowhere.

    Remote templates, linked objects, remote images and links to other workbooks are fetched
    (or offered for update) when the document is opened, and their paths often name the
    author's folders (``C:/Users/jane/...``, a SharePoint site). Hyperlinks are visible content
    and are kept.
    """

    def replace(match: re.Match[bytes]) -> bytes:
        relationship = match.group(0)
        if _HYPERLINK_TYPE in relationship:
            return relationship
        removed.add("links to other files and remote content (templates, linked workbooks)")
        return _TARGET.sub(b'Target="removed"', relationship)

    cleaned = _EXTERNAL_REL.sub(replace, content)
    if cleaned != content:
        _parse_xml(cleaned)
    return cleaned


def _clean_odf_member(name: str, lower: str, content: bytes, removed: set[str]) -> bytes:
    if lower.startswith(("basic/", "scripts/")) or "/basic/" in lower:
        raise _macros()
    if lower.endswith(".bin") or lower.startswith("objectreplacements/"):
        raise ValidationError(
            "The document contains embedded objects, which are not accepted.",
            hint="Save it as PDF and send that.",
        )
    if lower == "meta.xml" or lower.endswith("/meta.xml"):
        _parse_xml(content)
        removed.add("document properties (author, editing time, dates, generator)")
        return _ODF_EMPTY_META
    if lower == "settings.xml":
        _parse_xml(content)
        removed.add("application settings (printer, window layout)")
        return _ODF_SETTINGS
    if lower == "meta-inf/manifest.xml":
        _parse_xml(content)
        if b"manifest:algorithm" in content or b"encryption-data" in content:
            raise ValidationError(
                "The document is encrypted and cannot be checked.",
                hint="Save it without a password, then send it again.",
            )
        if b"script" in content.lower() and b"basic" in content.lower():
            raise _macros()
        return content
    if lower.endswith(".xml"):
        if b"<script:" in content or b"<office:script" in content:
            raise _macros()
        return _scrub_xml(content, removed)
    return _clean_media(lower, content, removed)


def _scrub_xml(content: bytes, removed: set[str]) -> bytes:
    _parse_xml(content)
    scrubbed, attributes = _AUTHOR_ATTRIBUTE.subn(rb'\1=""', content)
    scrubbed, elements = _AUTHOR_ELEMENT.subn(rb"<\1\2></\1>", scrubbed)
    if attributes or elements:
        removed.add("names of comment and change authors")
        _parse_xml(scrubbed)  # the edit must keep the part well-formed
    return scrubbed


def _clean_media(lower: str, content: bytes, removed: set[str]) -> bytes:
    if lower.endswith((".jpg", ".jpeg")) or content.startswith(b"\xff\xd8\xff"):
        stripped, cut = _strip_jpeg_segments(content)
        if cut:
            removed.add("photo metadata inside the document (EXIF, XMP)")
        return stripped
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        stripped, cut = _strip_png_chunks(content)
        if cut:
            removed.add("image metadata inside the document (PNG text, EXIF)")
        return stripped
    return content


# Ancillary PNG chunks that carry text, EXIF, colour profiles or times.
_PNG_DROPPED = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME"})


def _strip_png_chunks(data: bytes) -> tuple[bytes, bool]:
    out = bytearray(data[:8])
    position, cut = 8, False
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            return data, False
        if chunk_type in _PNG_DROPPED:
            cut = True
        else:
            out += data[position:end]
        position = end
        if chunk_type == b"IEND":
            return bytes(out), cut
    return data, False


def _parse_xml(content: bytes) -> None:
    try:
        SafeET.fromstring(content)
    except Exception:  # noqa: BLE001 - defusedxml refusals and parse errors both mean "refuse"
        raise ValidationError(
            "The document contains XML that is damaged or not allowed (entity definitions).",
            hint="Open it, save it again as a new file, and send that.",
        ) from None


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
    ):
        raise ValidationError(
            "The document could not be read; it may be damaged or incomplete.",
            hint="Open it to check it, save it again, then send it.",
        ) from None


def _read_member(archive: zipfile.ZipFile, name: str, budget: int) -> bytes:
    """Read one member, stopping as soon as it outgrows ``budget`` (headers can lie)."""
    try:
        content = _read_bounded(archive, name, budget)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ):
        raise ValidationError(
            "The document could not be read; it may be damaged, incomplete or encrypted."
        ) from None
    if content is None:
        raise ValidationError(
            "The document expands to far more data than it contains and is refused."
        )
    return content


def _read_bounded(archive: zipfile.ZipFile, name: str, budget: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    with archive.open(name) as member:
        while chunk := member.read(65_536):
            size += len(chunk)
            if size > budget:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


# --- text and names ------------------------------------------------------------------------


def _sanitize_text(data: bytes, bounds: AttachmentLimits) -> tuple[bytes, list[str]]:
    del bounds
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], []
    return data, []


_UNSAFE_NAME_CHARS = re.compile(r"[^\w\-. ]+")


def _safe_name(filename: str, extension: str) -> str:
    base = re.split(r"[/\\]", filename or "")[-1]
    base = unicodedata.normalize("NFC", base)
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = "".join(ch for ch in stem if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " ")
    stem = _UNSAFE_NAME_CHARS.sub("_", stem).strip(" ._-")
    stem = re.sub(r"[ _]{2,}", "_", stem)[:80].rstrip(" ._-")
    return f"{stem or 'attachment'}{extension}"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


Handler = Callable[[bytes, AttachmentLimits], tuple[bytes, list[str]]]

_HANDLERS: dict[AttachmentKind, Handler] = {
    AttachmentKind.JPEG: lambda data, bounds: _sanitize_image(data, bounds, "JPEG"),
    AttachmentKind.PNG: lambda data, bounds: _sanitize_image(data, bounds, "PNG"),
    AttachmentKind.PDF: _sanitize_pdf,
    AttachmentKind.DOCX: lambda data, bounds: _sanitize_zip_document(
        data, bounds, AttachmentKind.DOCX
    ),
    AttachmentKind.XLSX: lambda data, bounds: _sanitize_zip_document(
        data, bounds, AttachmentKind.XLSX
    ),
    AttachmentKind.ODT: lambda data, bounds: _sanitize_zip_document(
        data, bounds, AttachmentKind.ODT
    ),
    AttachmentKind.TEXT: _sanitize_text,
}
