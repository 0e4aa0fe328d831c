"""Render a :class:`~tipaudit.policy.check.CheckResult` as text, JSON or SARIF 2.1.0.

SARIF results carry the rule (with its rubric item, help text and recommended alternative),
the level (high = error, medium = warning, low = note), the location in the policy text (lines
and columns for text and Markdown files; the section and page as a logical location for every
format), the quoted evidence as the region snippet, and the finding's fingerprint under
``partialFingerprints`` so that code-scanning tools track a finding across revisions.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from tipaudit.policy.check import FINGERPRINT_KEY, CheckResult, Finding
from tipaudit.policy.rubrics import policy_type_label

__all__ = ["SARIF_SCHEMA_URI", "to_json", "to_sarif", "to_text"]

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_LINE_FORMATS = {"text", "markdown"}


def to_json(result: CheckResult) -> str:
    """The JSON document (also usable as a ``--baseline``)."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def _cite(finding: Finding) -> str:
    return "; ".join(
        ", ".join(v for v in (s.get("title"), s.get("section"), s.get("url")) if v)
        for s in finding.sources
    )


def to_sarif(result: CheckResult, *, tool_version: str = "0") -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run."""
    formats = {d.path: d.format for d in result.documents}
    artifacts = [
        {
            "location": {"uri": _uri(d.path)},
            "hashes": {"sha-256": d.sha256},
            "properties": {"format": d.format, "pages": d.pages, "provisions": d.provisions},
        }
        for d in result.documents
    ]
    artifact_index = {d.path: i for i, d in enumerate(result.documents)}
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for finding in result.findings:
        if finding.rule_id not in rule_index:
            rule_index[finding.rule_id] = len(rules)
            rules.append(
                {
                    "id": finding.rule_id,
                    "name": "".join(w.capitalize() for w in finding.rule_id.split("-")),
                    "shortDescription": {"text": finding.title},
                    "fullDescription": {"text": finding.explanation},
                    "help": {
                        "text": f"{finding.question}\nRecommended: {finding.alternative}\n"
                        f"Sources: {_cite(finding)}",
                        "markdown": f"**{finding.question}**\n\nRecommended: {finding.alternative}"
                        f"\n\nSources: {_cite(finding)}",
                    },
                    "defaultConfiguration": {"level": _LEVEL[finding.severity]},
                    "properties": {
                        "tags": ["policy", finding.kind, *finding.indicators],
                        "rubric": finding.rubric_id,
                        "rubricItem": finding.item_id,
                        "severity": finding.severity,
                    },
                }
            )
        results.append(_result(finding, rule_index[finding.rule_id], artifact_index, formats))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tipaudit policy check",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": rules,
                "properties": {"rulesVersion": result.rules_version},
            }
        },
        "artifacts": artifacts,
        "results": results,
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True}],
        "properties": {
            "policyType": result.policy_type,
            "provisions": result.provisions,
            "baseline": result.baseline,
            "suppressedByBaseline": result.suppressed,
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _result(
    finding: Finding, index: int, artifacts: dict[str, int], formats: dict[str, str]
) -> dict[str, Any]:
    message = f"{finding.title}. {finding.decision} Recommended: {finding.alternative}"
    properties: dict[str, Any] = {
        "kind": finding.kind,
        "severity": finding.severity,
        "rubricItem": finding.item_id,
        "indicators": list(finding.indicators),
        "status": finding.status,
    }
    if finding.location is not None and finding.evidence is not None:
        loc = finding.location
        properties.update(section=loc.section, page=loc.page, evidence=finding.evidence.text)
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": _uri(loc.file), "index": artifacts[loc.file]}
        }
        if formats.get(loc.file) in _LINE_FORMATS:
            # lines and columns are those of the file; for PDF, DOCX and HTML they would be
            # lines of the extracted text, so only the section and page are given
            physical["region"] = {
                "startLine": loc.line_start,
                "startColumn": loc.column_start,
                "endLine": loc.line_end,
                "endColumn": loc.column_end,
                "snippet": {"text": finding.evidence.text},
            }
        location: dict[str, Any] = {"physicalLocation": physical}
        if loc.section:
            location["logicalLocations"] = [{"name": loc.section, "kind": "section"}]
        locations = [location]
    else:
        first = finding.files[0] if finding.files else ""
        locations = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(first), "index": artifacts.get(first, 0)},
                    "region": {"startLine": 1},
                },
                "message": {"text": "The whole policy: the protection is missing."},
            }
        ]
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": message},
        "locations": locations,
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def to_text(result: CheckResult) -> str:
    """A readable report for the terminal."""
    lines: list[str] = []
    kind = policy_type_label(result.policy_type) if result.policy_type else "no type given"
    docs = ", ".join(d.path for d in result.documents)
    lines.append(
        f"Policy check ({kind}): {len(result.documents)} document(s), "
        f"{result.provisions} provisions"
    )
    lines.append(f"  {docs}")
    if result.baseline:
        lines.append(
            f"  baseline {result.baseline}: {result.suppressed} accepted finding(s) not shown"
        )
    counts = result.counts()
    lines.append(
        f"Findings: {len(result.findings)} (high {counts['high']}, medium {counts['medium']}, "
        f"low {counts['low']})"
    )
    for number, f in enumerate(result.findings, 1):
        lines.append("")
        status = f" [{f.status}]" if result.baseline else ""
        lines.append(f"{number}. [{f.severity.upper()}] {f.title}{status}")
        lines.append(
            f"   rule {f.rule_id} · rubric {f.rubric_id}/{f.item_id} · "
            f"indicators {', '.join(f.indicators)}"
        )
        if f.location is not None and f.evidence is not None:
            lines.append(f"   at {f.location.describe()}")
            ev = f.evidence
            quoted = (
                ev.text[: ev.match_start]
                + "«"
                + ev.text[ev.match_start : ev.match_end]
                + "»"
                + ev.text[ev.match_end :]
            )
            lines.append(f"   “{quoted}”")
        else:
            shown = ", ".join(f.files[:3])
            more = f" and {len(f.files) - 3} more" if len(f.files) > 3 else ""
            lines.append(f"   in the whole policy: {shown}{more}")
        lines.append(f"   why: {f.explanation}")
        lines.append(f"   decision: {f.decision}")
        lines.append(f"   recommended: {f.alternative}")
        lines.append(f"   source: {_cite(f)}")
    if result.protections:
        lines.append("")
        lines.append("Protections expected for this type:")
        for p in result.protections:
            where = "; ".join(loc.describe() for loc in p.evidence) if p.present else "not found"
            lines.append(f"  [{'x' if p.present else ' '}] {p.rule_id} ({p.item_id}): {where}")
    return "\n".join(lines) + "\n"
