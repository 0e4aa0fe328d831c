"""Policy review in pages and print: the findings chart, the assessment report and its PDF.

The HTML report page and the PDF are built from the same context (:func:`report_context`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from markupsafe import Markup, escape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tipaudit import __version__
from tipaudit.services.policy import (
    ANSWER_LABELS,
    SEVERITIES,
    AssessmentView,
    PolicyReview,
    VersionInfo,
    compare_assessments,
)
from tipaudit.web.pdf import _register_fonts, _styles


def severity_history_svg(versions: Sequence[VersionInfo], *, chart_id: str) -> Markup:
    """Grouped bars: the number of automatic findings of each severity, version by version."""
    if not versions:
        return Markup("")
    counts = [v.counts for v in versions]
    largest = max((c.get(s, 0) for c in counts for s in SEVERITIES), default=0) or 1
    left, top, bottom, group, bar = 48, 16, 56, 90, 22
    width = max(360, left + group * len(versions) + 20)
    plot_h = 180
    height = top + plot_h + bottom
    described = "; ".join(
        f"version {v.label}: " + ", ".join(f"{c.get(s, 0)} {s}" for s in SEVERITIES)
        for v, c in zip(versions, counts, strict=True)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">Automatic findings by severity, version by version</title>',
        f'<desc id="{chart_id}-d">{escape(described)}</desc>',
    ]
    for tick in range(0, largest + 1, max(1, -(-largest // 4))):
        y = top + plot_h - plot_h * tick / largest
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="axis">{tick}</text>'
        )
    for index, (version, count) in enumerate(zip(versions, counts, strict=True)):
        x0 = left + 10 + group * index
        for offset, severity in enumerate(SEVERITIES):
            value = count.get(severity, 0)
            h = plot_h * value / largest
            x = x0 + offset * bar
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar - 3}" height="{h:.1f}" '
                f'class="sev-{severity}"/>'
            )
            if value:
                parts.append(
                    f'<text x="{x + (bar - 3) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                    f'class="value">{value}</text>'
                )
        label = version.label if len(version.label) <= 12 else version.label[:11] + "…"
        parts.append(
            f'<text x="{x0 + 1.5 * bar:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    legend_y = top + plot_h + 42
    for offset, severity in enumerate(SEVERITIES):
        x = left + offset * 90
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" class="sev-{severity}"/>'
            f'<text x="{x + 16}" y="{legend_y}" class="axis">{severity}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in the SVG went through escape()


def report_context(review: PolicyReview, view: AssessmentView) -> dict[str, Any]:
    """Everything the assessment report shows, for the page and the PDF alike."""
    diff = review.diff(view.policy.slug, view.version.id)
    previous = review.previous_assessment(view)
    changes = compare_assessments(view, previous) if previous is not None else []
    return {
        "view": view,
        "policy": view.policy,
        "pversion": view.version,
        "rubric": view.rubric,
        "result": view.result,
        "diff": diff,
        "previous": previous,
        "changes": changes,
        "answer_labels": ANSWER_LABELS,
        "tool_version": __version__,
    }


def _para(text: str, style: Any) -> Flowable:
    return Paragraph(xml_escape(text), style)


def _comparison(context: dict[str, Any], s: dict[str, Any]) -> list[Any]:
    """The PDF's comparison with the previous version."""
    diff = context["diff"]
    labels = context["answer_labels"]
    story: list[Any] = []
    story.append(_para("Compared with the previous version", s["h2"]))
    if diff.previous is None:
        story.append(_para("This is the first version in the register.", s["body"]))
    else:
        story.append(
            _para(
                f"Against version {diff.previous.label}: {len(diff.new)} new, "
                f"{len(diff.resolved)} resolved and {len(diff.unchanged)} unchanged findings.",
                s["body"],
            )
        )
        for name, items in (("New", diff.new), ("Resolved", diff.resolved)):
            for finding in items:
                story.append(
                    _para(
                        f"{name}: [{finding['severity']}] "
                        f"{finding.get('title') or finding['rule_id']} — {finding['location']}",
                        s["body"],
                    )
                )
    previous = context["previous"]
    if previous is not None:
        story.append(
            _para(
                f"Assessment {previous.id} of version {previous.version.label}: "
                f"{len(context['changes'])} item(s) changed.",
                s["body"],
            )
        )
        for change in context["changes"]:
            before = labels.get(change.before, "unanswered") if change.before else "unanswered"
            after = labels.get(change.after, "unanswered") if change.after else "unanswered"
            story.append(_para(f"{change.item.id}: {before} → {after}", s["body"]))

    return story


def assessment_pdf(context: dict[str, Any], *, url: str) -> bytes:
    """The assessment report as an A4 PDF (the same content as the report page)."""
    _register_fonts()
    s = _styles()
    view: AssessmentView = context["view"]
    result = context["result"]
    labels = context["answer_labels"]
    policy, version, rubric = view.policy, view.version, view.rubric
    title = f"Assessment report: {policy.name}, version {version.label}"
    story: list[Any] = [_para(title, s["title"])]
    status = "Final" if view.final else "Open — not yet signed off by every required reviewer"
    score = f"{result.score:.0f} / 100" if result.score is not None else "not scored"
    facts = [
        ("Policy", f"{policy.name} ({policy.type_label})"),
        ("Jurisdiction / owner", f"{policy.jurisdiction or '—'} / {policy.owner or '—'}"),
        ("Version", f"{version.label} — {version.file_name}, SHA-256 {version.sha256}"),
        ("Rubric", f"{rubric.title} ({rubric.id} {rubric.version})"),
        ("Status", status),
        ("Score", f"{score}; {result.answered} of {result.applicable} items answered"),
        (
            "Reviewers",
            "; ".join(
                f"{r.username} ({r.expertise_label}, "
                f"{'required' if r.required else 'additional'}, "
                f"{'signed off' if r.signed_off_at else 'not signed off'})"
                for r in view.reviewers
            ),
        ),
    ]
    table = Table(
        [[_para(k, s["small"]), _para(v, s["body"])] for k, v in facts],
        colWidths=[38 * mm, 136 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d1d9")),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm)]

    story.append(_para("Assessment findings and recommendations", s["h2"]))
    if not result.findings:
        story.append(_para("No item was answered no or partly.", s["body"]))
    for finding in result.findings:
        block = [
            _para(f"[{finding.severity.upper()}] {finding.item_id}: {finding.question}", s["h3"]),
            _para(f"Answer: {labels.get(finding.answer.value, finding.answer.value)}", s["body"]),
        ]
        if finding.comment:
            block.append(_para(f"Reviewers: {finding.comment}", s["body"]))
        block += [
            _para(f"Recommended: {finding.alternative}", s["body"]),
            _para(
                "Indicators: "
                + ", ".join(finding.indicators)
                + ". Sources: "
                + "; ".join(src.cite() for src in finding.sources),
                s["small"],
            ),
        ]
        story.append(KeepTogether(block))

    if view.disagreements:
        story.append(_para("Where reviewers disagree", s["h2"]))
        for item in view.disagreements:
            answers = "; ".join(
                f"{who}: {labels.get(a, a)}" + (f" ({c})" if c else "")
                for who, (a, c) in item.answers.items()
            )
            story.append(_para(f"{item.item.id}: {answers}", s["body"]))

    story.append(_para("Automatic check of the text", s["h2"]))
    if not version.findings:
        story.append(_para("The automatic check found nothing in this version.", s["body"]))
    for finding in version.findings:
        story.append(
            KeepTogether(
                [
                    _para(
                        f"[{finding['severity'].upper()}] "
                        f"{finding.get('title') or finding['rule_id']} — {finding['location']}",
                        s["h3"],
                    ),
                    *(
                        [_para(f"“{finding['evidence']}”", s["body"])]
                        if finding.get("evidence")
                        else []
                    ),
                    _para(finding.get("explanation", ""), s["body"]),
                    _para(f"Recommended: {finding.get('alternative', '')}", s["body"]),
                ]
            )
        )

    story += _comparison(context, s)
    story += [
        Spacer(1, 6 * mm),
        _para(f"tipaudit {context['tool_version']} — {url}", s["small"]),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="tipaudit",
        lang="en",
    )
    document.build(story)
    return buffer.getvalue()
