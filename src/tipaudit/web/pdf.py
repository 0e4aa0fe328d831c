"""Printable PDFs of public pages (ReportLab, with the Bitstream Vera fonts it ships).

Vera covers the Latin scripts of the bundled languages (English, Spanish). A language in
another script needs a TrueType font that covers it; register it here when one is added.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

_FONTS = Path(reportlab.__file__).parent / "fonts"
_REGISTERED = False


def _register_fonts() -> None:
    global _REGISTERED  # noqa: PLW0603 - ReportLab's font registry is process-wide by design
    if _REGISTERED:
        return
    pdfmetrics.registerFont(TTFont("Vera", str(_FONTS / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("Vera-Bold", str(_FONTS / "VeraBd.ttf")))
    _REGISTERED = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="Vera", fontSize=10.5, leading=14.5, alignment=TA_LEFT)
    return {
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName="Vera-Bold",
            fontSize=17,
            leading=21,
            spaceAfter=8,
            textColor=colors.HexColor("#0b4f6c"),
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName="Vera-Bold",
            fontSize=13,
            leading=17,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName="Vera-Bold", fontSize=11, leading=15, spaceBefore=4
        ),
        "body": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#505a66")
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _bullets(items: list[str], style: ParagraphStyle) -> ListFlowable:
    entries: list[Any] = [ListItem(_p(item, style), leftIndent=12) for item in items]
    return ListFlowable(
        entries,
        bulletType="bullet",
        start="•",
        leftIndent=12,
    )


def predeparture_pdf(page: dict[str, Any], *, url: str) -> bytes:
    """The pre-departure page as an A4 PDF, from the same context as the HTML page."""
    _register_fonts()
    s = _styles()
    content = page["content"]
    story: list[Any] = [_p(page["title"], s["title"]), _p(page["intro"], s["body"])]

    story.append(_p(content["rights_heading"], s["h2"]))
    for right in content["rights"]:
        story += [_p(right["heading"], s["h3"]), _p(right["text"], s["body"])]

    story += [_p(content["signs_heading"], s["h2"]), _p(content["signs_intro"], s["body"])]
    story.append(_bullets([sign["text"] for sign in content["signs"]], s["body"]))

    story += [_p(page["risks_heading"], s["h2"]), _p(content["risks_intro"], s["body"])]
    story.append(_bullets(page["facts"], s["body"]))
    story.append(_p(content["data_caution"], s["small"]))

    story += [_p(content["prepare_heading"], s["h2"]), _bullets(content["prepare"], s["body"])]

    story += [_p(content["help_heading"], s["h2"]), _p(content["help_intro"], s["body"])]
    if page["contacts"]:
        kinds = content["contact_kinds"]
        for contact in page["contacts"]:
            lines = [f"{kinds.get(contact.kind, contact.kind)}: {contact.name}"]
            for label, value in (
                (content["contact_phone"], contact.phone),
                (content["contact_email"], contact.email),
                (content["contact_web"], contact.website),
                (content["contact_hours"], contact.hours),
            ):
                if value:
                    lines.append(f"{label}: {value}")
            story.append(_p(" — ".join(lines), s["body"]))
    else:
        story.append(_p(page["help_none"], s["body"]))

    story += [Spacer(1, 6 * mm), _p(content["sources_heading"], s["h3"])]
    for source in page["sources"]:
        story.append(_p(source, s["small"]))
    story.append(_p(url, s["small"]))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=page["title"],
        author="tipaudit",
        lang=page["language"],
    )
    document.build(story)
    return buffer.getvalue()
