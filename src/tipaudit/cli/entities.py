"""``tipaudit entities``: import watchlists and screen names or procurement suppliers against them.

A match is a flag for a person to review, never a finding. See ``docs/watchlists.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.cli import _context
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.screening import DEFAULT_THRESHOLD, Query, Scorer, screen_many
from tipaudit.screening.lists import FORMATS, read_queries
from tipaudit.services.accounts import StaffUser
from tipaudit.services.container import Services
from tipaudit.services.procurement import ProcurementRuns
from tipaudit.services.vetting import VETTING_OVERRIDE, MatchView
from tipaudit.services.watchlists import KINDS, Watchlists, run_suppliers

app = typer.Typer(help="Watchlists: import them, list them, screen names and suppliers.")

CLI_ACTOR = "system:cli"
OUTPUT_COLUMNS = (
    "query_id",
    "query_name",
    "entity_id",
    "list",
    "entity_name",
    "score",
    "match",
    "explanation",
)


def _watchlists(ctx: typer.Context) -> Watchlists:
    return _context.get(ctx).services().watchlists


@app.command("lists")
def lists(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the imported watchlists with their newest version."""
    infos = _watchlists(ctx).lists()
    if as_json:
        rows = [
            {
                "slug": i.slug,
                "title": i.title,
                "kind": i.kind,
                "entries": i.entries,
                "version_date": i.version_date.isoformat() if i.version_date else None,
                "versions": i.versions,
                "source": i.source,
                "licence": i.licence,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not infos:
        typer.echo("no watchlists yet; import one with: tipaudit entities import SLUG FILE")
        return
    table = Table("list", "title", "kind", "entries", "version", "versions", "licence")
    for i in infos:
        table.add_row(
            i.slug,
            i.title,
            i.kind,
            str(i.entries),
            i.version_date.isoformat() if i.version_date else "",
            str(i.versions),
            i.licence,
        )
    Console(width=160).print(table)


@app.command("import")
def import_list(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Short name of the list: lower-case, digits, dashes."),
    file: Path = typer.Argument(..., help="The list file."),
    fmt: str = typer.Option(..., "--format", "-f", help="One of: " + ", ".join(FORMATS)),
    title: str = typer.Option("", "--title", help="Title (first import: defaults to SLUG)."),
    source: str = typer.Option("", "--source", help="Where the list comes from."),
    licence: str = typer.Option("", "--licence", help="The list's licence."),
    kind: str = typer.Option("watchlist", "--kind", help="One of: " + ", ".join(KINDS)),
    version_date: str = typer.Option(
        "", "--version-date", help="Date of this version (YYYY-MM-DD); default today."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Skip and count bad rows instead of stopping at the first."
    ),
) -> None:
    """Import a version of a list; prints what was added, changed and removed."""
    parsed_date: date | None = None
    if version_date:
        try:
            parsed_date = date.fromisoformat(version_date)
        except ValueError:
            raise ValidationError(
                f"--version-date {version_date[:30]!r} is not YYYY-MM-DD"
            ) from None
    result = _watchlists(ctx).import_list(
        CLI_ACTOR,
        slug,
        file,
        fmt,
        title=title,
        source=source,
        licence=licence,
        kind=kind,
        version_date=parsed_date,
        skip_bad=skip_bad,
    )
    typer.echo(
        f"imported {result.slug} (version {result.version_id}): {result.entries} entries, "
        f"{result.added} added, {result.changed} changed, {result.removed} removed, "
        f"{result.unchanged} unchanged"
    )
    if result.alerts:
        typer.echo(
            f"{result.alerts} new alert(s) on cleared subjects: see tipaudit entities alerts"
        )
    if result.ignored:
        typer.echo(f"{result.ignored} record(s) of other schemata ignored")
    if result.skipped:
        typer.echo(f"{result.skipped} bad row(s) skipped, for example:")
        for problem in result.problems[:5]:
            typer.echo(f"  {problem}")


@app.command("screen")
def screen_names(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, help="CSV or JSON of names: id, name; optional schema, country, identifier."
    ),
    lists_option: str = typer.Option(
        ..., "--lists", "-l", help="Comma-separated lists to screen against."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write every candidate row to a .csv or .json file."
    ),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", help="Score from which a candidate is flagged."
    ),
    run_id: str | None = typer.Option(
        None, "--run", help="Screen the suppliers of this procurement screening run."
    ),
    procurement: bool = typer.Option(
        False, "--procurement", help="Screen the suppliers of the newest procurement run."
    ),
    limit: int = typer.Option(3, "--limit", help="Candidates kept per name (1-50)."),
    save: bool = typer.Option(
        False,
        "--save",
        help="Also store the flagged matches for review (refs party:<id> or supplier:<key>).",
    ),
    as_user: str = typer.Option(
        "", "--as", help="With --save: the staff member screening (default: the shell)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        help="Processes that screen (default: one per core, up to four, from 2,000 names).",
    ),
) -> None:
    """Screen names, or a procurement run's suppliers, against lists; flag likely matches."""
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError("--threshold must be between 0 and 1")
    if not 1 <= limit <= 50:
        raise ValidationError("--limit must be between 1 and 50")
    if out is not None and out.suffix.casefold() not in {".csv", ".json"}:
        raise ValidationError("--out must end in .csv or .json")
    queries = _queries(ctx, file, run_id, procurement)
    index = _watchlists(ctx).index(lists_option.split(","))
    scorer = Scorer(threshold=threshold)
    # Forked workers pay off from a few thousand names; the index is shared copy-on-write.
    chosen = workers if workers is not None else (_cores() if len(queries) >= 2_000 else 1)
    # The flagged rows are kept only to print them; with --out they are only counted, so
    # memory does not grow with a million names.
    flagged: list[dict[str, Any]] = []
    flagged_count = 0
    written = 0
    with _RowWriter(out) as writer:
        for query, matches in screen_many(index, queries, scorer, limit=limit, workers=chosen):
            for match in matches:
                entity = index.get(match.entity_id)
                row = {
                    "query_id": query.id,
                    "query_name": query.names[0],
                    "entity_id": match.entity_id,
                    "list": entity.list_id if entity else "",
                    "entity_name": entity.names[0] if entity else "",
                    "score": match.score,
                    "match": match.match,
                    "explanation": match.explanation,
                }
                writer.write(row)
                written += 1
                if match.match:
                    flagged_count += 1
                    if out is None:
                        flagged.append(row)
    if out is None:
        table = Table("query", "name", "entity", "list", "entity name", "score")
        for r in flagged:
            table.add_row(
                r["query_id"],
                r["query_name"],
                r["entity_id"],
                r["list"],
                r["entity_name"],
                f"{r['score']:.2f}",
            )
        if flagged:
            Console(width=160).print(table)
    typer.echo(
        f"screened {len(queries)} name(s) against {len(index)} entries: "
        f"{flagged_count} possible match(es) to review"
        + (f"; {written} candidate rows written to {out}" if out is not None else "")
    )
    if save:
        prefix = "party:" if file is not None else "supplier:"
        vetting = _context.get(ctx).services().vetting
        saved = vetting.screen_and_save(
            _actor(ctx, as_user) if as_user else CLI_ACTOR,
            [dataclasses.replace(q, id=prefix + q.id) for q in queries],
            lists_option.split(","),
            purpose="names" if file is not None else "procurement",
            label=f"names in {file.name}"
            if file is not None
            else f"suppliers of {run_id or 'the newest run'}",
            threshold=threshold,
            limit=limit,
        )
        typer.echo(
            f"saved screening #{saved.screening_id}: {saved.flagged} match(es) stored, "
            f"{saved.suppressed} suppressed by earlier rejections; "
            "review with: tipaudit entities matches"
        )


def _queries(
    ctx: typer.Context, file: Path | None, run_id: str | None, procurement: bool
) -> list[Query]:
    sources = sum(1 for given in (file is not None, run_id is not None, procurement) if given)
    if sources != 1:
        raise ValidationError("give exactly one of FILE, --run RUN_ID or --procurement")
    if file is not None:
        return read_queries(file)
    runs = ProcurementRuns(_context.get(ctx).settings)
    run = runs.open(run_id)
    return run_suppliers(run.folder)


def _cores() -> int:
    try:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):  # not Linux
        return 1


class _RowWriter:
    """Candidate rows to ``out`` as they come: CSV streamed, JSON as one array; or nowhere.

    The file is written under a temporary name and renamed at the end, so a failed run never
    leaves half a file where a finished one is expected.
    """

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self._partial = out.with_name(f".{out.name}.partial") if out is not None else None
        self._handle: TextIO | None = None
        self._csv: csv.DictWriter[str] | None = None
        self._first = True

    def __enter__(self) -> _RowWriter:
        if self._partial is not None:
            self._handle = self._partial.open("w", encoding="utf-8", newline="")
            if self._json:
                self._handle.write("[")
            else:
                self._csv = csv.DictWriter(self._handle, fieldnames=OUTPUT_COLUMNS)
                self._csv.writeheader()
        return self

    @property
    def _json(self) -> bool:
        return self.out is not None and self.out.suffix.casefold() == ".json"

    def write(self, row: dict[str, Any]) -> None:
        if self._handle is None:
            return
        if self._csv is not None:
            cells = {k: _cell(v) for k, v in row.items()}
            self._csv.writerow({**cells, "match": "yes" if row["match"] else "no"})
            return
        self._handle.write(
            ("\n  " if self._first else ",\n  ") + json.dumps(row, ensure_ascii=False)
        )
        self._first = False

    def __exit__(self, kind: object, *_: object) -> None:
        if self._handle is None or self._partial is None or self.out is None:
            return
        if self._json:
            self._handle.write("\n]\n")
        self._handle.close()
        if kind is None:
            self._partial.replace(self.out)
        else:
            self._partial.unlink(missing_ok=True)


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in a spreadsheet: keep it as text.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


# --- vetting: matches, allegations, support, cases, alerts ----------------------------------
#
# Commands that record a person's judgement run as a named staff member (``--as USER``), whose
# roles are checked like in the console; the two-person rule needs two real people.

allegations_app = typer.Typer(help="The allegations register: add entries, review their status.")
support_app = typer.Typer(help="The support register: contracts, licences, security assistance.")
vetting_app = typer.Typer(help="Vetting cases: open, add subjects, screen, decide, override.")
app.add_typer(allegations_app, name="allegations")
app.add_typer(support_app, name="support")
app.add_typer(vetting_app, name="vetting")

AS_USER = typer.Option(..., "--as", help="The staff member acting (their roles are checked).")
REASON = typer.Option(..., "--reason", help="Why (at least 10 characters; kept and audited).")


def _services(ctx: typer.Context) -> Services:
    return _context.get(ctx).services()


def _actor(ctx: typer.Context, username: str) -> StaffUser:
    user = _services(ctx).accounts.get_user(username)
    if not user.is_active:
        raise ValidationError(f"the account {user.username} is disabled")
    return user


def _split_values(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _date(value: str, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{option} {value[:30]!r} is not YYYY-MM-DD") from None


def _case_id(value: str) -> int:
    text = value.strip().upper().removeprefix("V-")
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(f"{value[:30]!r} is not a vetting case number such as V-3")
    return int(text)


def _support_id(value: str) -> int:
    text = value.strip().upper().removeprefix("S-")
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(f"{value[:30]!r} is not a support entry number such as S-2")
    return int(text)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _match_dict(m: MatchView) -> dict[str, Any]:
    return {
        "id": m.id,
        "query_ref": m.query_ref,
        "query_name": m.query_name,
        "list": m.list_slug,
        "entity_id": m.entity_id,
        "entity_name": m.entity_name,
        "score": m.score,
        "status": m.status,
        "allegation_status": m.allegation_status,
        "child_recruitment": m.child_recruitment,
        "counts": m.counts,
        "blocks": list(m.blocking_reasons),
        "reason": m.reason,
        "source_url": m.source_url,
        "explanation": m.explanation,
        "decision": None
        if m.decision is None
        else {
            "decision": m.decision.decision,
            "reason": m.decision.reason,
            "by": m.decision.decided_by,
            "at": m.decision.decided_at.isoformat(),
        },
    }


@app.command("matches")
def matches_command(
    ctx: typer.Context,
    status: str = typer.Option(
        "candidate",
        "--status",
        help="candidate (awaiting a decision), confirmed, rejected, suppressed, or all.",
    ),
    ref: str = typer.Option("", "--ref", help="Only this query ref, e.g. supplier:KEY."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with the explanations."),
) -> None:
    """List stored matches (the newest per query and list entry); default: awaiting decision."""
    allowed = {"candidate", "confirmed", "rejected", "suppressed", "all"}
    if status not in allowed:
        raise ValidationError(f"--status must be one of {', '.join(sorted(allowed))}")
    found = _services(ctx).vetting.matches(
        status=None if status == "all" else status, query_ref=ref or None
    )
    if as_json:
        _print_json([_match_dict(m) for m in found])
        return
    if not found:
        typer.echo("no matches" + ("" if status == "all" else f" with status {status}"))
        return
    table = Table("id", "query", "name", "list", "entity", "score", "status", "allegation")
    for m in found:
        table.add_row(
            str(m.id),
            m.query_ref,
            m.query_name,
            m.list_slug,
            f"{m.entity_name} ({m.entity_id})",
            f"{m.score:.2f}",
            m.status,
            m.allegation_status or "",
        )
    Console(width=180).print(table)


@app.command("decide")
def decide_match(
    ctx: typer.Context,
    match_id: int = typer.Argument(..., help="The match id (see: tipaudit entities matches)."),
    decision: str = typer.Argument(..., help="confirmed or rejected"),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Confirm or reject a candidate match; a rejected pair is suppressed on later runs."""
    _services(ctx).vetting.decide_match(
        _actor(ctx, as_user), match_id, decision.strip().lower(), reason=reason
    )
    typer.echo(f"match #{match_id} {decision}")


@app.command("tag-list")
def tag_list(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The list."),
    tag: str = typer.Option("child-recruitment", "--tag", help="The tag."),
    off: bool = typer.Option(False, "--off", help="Take the tag off."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Tag a list: on a child-recruitment list every entry blocks a vetting approval."""
    _services(ctx).vetting.tag_list(_actor(ctx, as_user), slug, tag, on=not off, reason=reason)
    typer.echo(f"{slug}: tag {tag} {'removed' if off else 'set'}")


@app.command("alerts")
def alerts_command(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", help="Closed alerts too."),
    close: int = typer.Option(0, "--close", help="Close this alert (needs --as and --reason)."),
    as_user: str = typer.Option("", "--as", help="With --close: the staff member."),
    reason: str = typer.Option("", "--reason", help="With --close: what was done."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """New hits on cleared subjects, raised when a list changed."""
    vetting = _services(ctx).vetting
    if close:
        if not as_user:
            raise ValidationError("closing an alert needs --as USER and --reason")
        vetting.close_alert(_actor(ctx, as_user), close, reason=reason)
        typer.echo(f"alert #{close} closed")
        return
    found = vetting.alerts(None if show_all else "open")
    if as_json:
        _print_json(
            [
                {
                    "id": a.id,
                    "created_at": a.created_at.isoformat(),
                    "cause": a.cause,
                    "subject_ref": a.subject_ref,
                    "subject": a.subject_label,
                    "vetting_case": a.vetting_case_id,
                    "support": a.support_id,
                    "status": a.status,
                    "match": _match_dict(a.match),
                }
                for a in found
            ]
        )
        return
    if not found:
        typer.echo("no open alerts" if not show_all else "no alerts")
        return
    table = Table("id", "raised", "subject", "hit", "list", "score", "cause", "status")
    for a in found:
        table.add_row(
            str(a.id),
            a.created_at.strftime("%Y-%m-%d %H:%M"),
            a.subject_label,
            f"{a.match.entity_name} ({a.match.entity_id})",
            a.match.list_slug,
            f"{a.match.score:.2f}",
            a.cause,
            a.status,
        )
    Console(width=180).print(table)


# --- allegations -----------------------------------------------------------------------------


@allegations_app.command("add")
def allegation_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The name of the accused person or body."),
    schema: str = typer.Option("Organization", "--schema", help="Person, Organization, Company."),
    country: str = typer.Option("", "--country", help="Country code or name."),
    identifiers: str = typer.Option("", "--identifiers", help="scheme:value;scheme:value"),
    aliases: str = typer.Option("", "--aliases", help="Other names, ;-separated."),
    source_ref: str = typer.Option("", "--source", help="Where it came from, e.g. R-2026-0042."),
    summary: str = typer.Option(..., "--summary", help="A short summary naming no reporter."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Add a pending allegation to the register (it counts only once found credible)."""
    allegation_id = _services(ctx).allegations.create(
        _actor(ctx, as_user),
        name=name,
        schema=schema,
        country=country or None,
        identifiers=_split_values(identifiers),
        aliases=_split_values(aliases),
        source_ref=source_ref or None,
        summary=summary,
        reason=reason,
    )
    typer.echo(f"recorded allegation {allegation_id} (pending review)")


@allegations_app.command("status")
def allegation_status(
    ctx: typer.Context,
    allegation_id: str = typer.Argument(..., help="The allegation id (AL-…)."),
    status: str = typer.Argument(..., help="pending, credible, substantiated, unsubstantiated"),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Set an allegation's review status (not by the person who recorded it)."""
    _services(ctx).allegations.set_status(
        _actor(ctx, as_user), allegation_id, status.strip().lower(), reason=reason
    )
    typer.echo(f"{allegation_id}: {status}")


@allegations_app.command("list")
def allegation_list(
    ctx: typer.Context,
    status: str = typer.Option("", "--status", help="Only this status."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the allegations register, newest first."""
    found = _services(ctx).allegations.list(status or None)
    if as_json:
        _print_json([dataclasses.asdict(a) for a in found])
        return
    if not found:
        typer.echo("the allegations register is empty")
        return
    table = Table("id", "name", "schema", "country", "source", "status", "counts")
    for a in found:
        table.add_row(
            a.id,
            a.name,
            a.schema,
            a.country or "",
            a.source_ref,
            a.status,
            "yes" if a.counts else "no",
        )
    Console(width=160).print(table)


# --- support register -----------------------------------------------------------------------


@support_app.command("add")
def support_add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="contract, recruitment_licence, security_assistance"),
    recipient: str = typer.Argument(..., help="The organisation or unit supported."),
    schema: str = typer.Option("Organization", "--schema", help="Organization, Company, …"),
    country: str = typer.Option("", "--country", help="Country code or name."),
    identifiers: str = typer.Option("", "--identifiers", help="scheme:value;scheme:value"),
    supplier_key: str = typer.Option("", "--supplier-key", help="Procurement supplier key."),
    ocid: str = typer.Option("", "--ocid", help="OCDS ocid of the contract."),
    licence: str = typer.Option("", "--licence", help="Licence number."),
    assistance: str = typer.Option("", "--assistance", help="Type of assistance."),
    amount: str = typer.Option("", "--amount", help="Amount (a number)."),
    currency: str = typer.Option("", "--currency", help="ISO 4217 currency, e.g. USD."),
    start: str = typer.Option("", "--start", help="Start of the period (YYYY-MM-DD)."),
    end: str = typer.Option("", "--end", help="End of the period (YYYY-MM-DD)."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Record support the government gives an organisation or unit."""
    support_id = _services(ctx).support.add(
        _actor(ctx, as_user),
        kind=kind,
        recipient=recipient,
        schema=schema,
        country=country or None,
        identifiers=_split_values(identifiers),
        supplier_key=supplier_key or None,
        ocid=ocid or None,
        licence_number=licence or None,
        assistance_type=assistance or None,
        amount=amount or None,
        currency=currency or None,
        start_date=_date(start, "--start"),
        end_date=_date(end, "--end"),
        reason=reason,
    )
    typer.echo(f"recorded support S-{support_id}")


def _set_support(ctx: typer.Context, support: str, status: str, as_user: str, reason: str) -> None:
    _services(ctx).support.set_status(
        _actor(ctx, as_user), _support_id(support), status, reason=reason
    )
    typer.echo(f"S-{_support_id(support)}: {status}")


@support_app.command("end")
def support_end(
    ctx: typer.Context,
    support: str = typer.Argument(..., help="The entry, e.g. S-2."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """End support (final), with the reason."""
    _set_support(ctx, support, "ended", as_user, reason)


@support_app.command("suspend")
def support_suspend(
    ctx: typer.Context,
    support: str = typer.Argument(..., help="The entry, e.g. S-2."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Suspend support, with the reason."""
    _set_support(ctx, support, "suspended", as_user, reason)


@support_app.command("resume")
def support_resume(
    ctx: typer.Context,
    support: str = typer.Argument(..., help="The entry, e.g. S-2."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Resume suspended support, with the reason."""
    _set_support(ctx, support, "active", as_user, reason)


@support_app.command("list")
def support_list(
    ctx: typer.Context,
    status: str = typer.Option("", "--status", help="active, suspended or ended."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the support register, newest first."""
    found = _services(ctx).support.list(status or None)
    if as_json:
        _print_json([dataclasses.asdict(s) for s in found])
        return
    if not found:
        typer.echo("the support register is empty")
        return
    table = Table("id", "kind", "recipient", "link", "amount", "period", "status")
    for s in found:
        link = s.supplier_key or s.ocid or s.licence_number or s.assistance_type or ""
        money = f"{s.amount} {s.currency}" if s.amount else ""
        period = f"{s.start_date or ''}..{s.end_date or ''}" if s.start_date or s.end_date else ""
        table.add_row(s.label, s.kind, s.recipient, link, money, period, s.status)
    Console(width=160).print(table)


# --- vetting cases --------------------------------------------------------------------------


@vetting_app.command("open")
def vetting_open(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The organisation or unit."),
    purpose: str = typer.Option(
        ..., "--purpose", help="contract_award, recruitment_licence or security_assistance"
    ),
    lists_option: str = typer.Option(
        ..., "--lists", "-l", help="Lists to screen against (the allegations register is added)."
    ),
    schema: str = typer.Option("Organization", "--schema", help="Organization, Company, …"),
    country: str = typer.Option("", "--country", help="Country code or name."),
    identifiers: str = typer.Option("", "--identifiers", help="scheme:value;scheme:value"),
    support: str = typer.Option("", "--support", help="The support entry, e.g. S-2."),
    as_user: str = AS_USER,
) -> None:
    """Open a vetting case for an organisation or unit."""
    case_id = _services(ctx).vetting.open_case(
        _actor(ctx, as_user),
        purpose=purpose,
        name=name,
        schema=schema,
        country=country or None,
        identifiers=_split_values(identifiers),
        lists=lists_option.split(","),
        support_id=_support_id(support) if support else None,
    )
    typer.echo(f"opened vetting case V-{case_id}")


@vetting_app.command("add-subject")
def vetting_add_subject(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="The case, e.g. V-3."),
    name: str = typer.Argument(..., help="The person's (or body's) name."),
    role: str = typer.Option(..., "--role", help="owner, director, commander, unit, other, …"),
    schema: str = typer.Option("Person", "--schema", help="Person, Organization, Company."),
    country: str = typer.Option("", "--country", help="Country code or name."),
    identifiers: str = typer.Option("", "--identifiers", help="scheme:value;scheme:value"),
    birth_date: str = typer.Option("", "--birth-date", help="YYYY, YYYY-MM or YYYY-MM-DD."),
    as_user: str = AS_USER,
) -> None:
    """Add an owner, director, commander or other related subject to a case."""
    subject_id = _services(ctx).vetting.add_subject(
        _actor(ctx, as_user),
        _case_id(case),
        role=role,
        name=name,
        schema=schema,
        country=country or None,
        identifiers=_split_values(identifiers),
        birth_date=birth_date or None,
    )
    typer.echo(f"added subject {subject_id} to V-{_case_id(case)}")


@vetting_app.command("screen")
def vetting_screen(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="The case, e.g. V-3."),
    as_user: str = AS_USER,
) -> None:
    """Screen every subject of a case against its lists and the allegations register."""
    result = _services(ctx).vetting.screen_case(_actor(ctx, as_user), _case_id(case))
    typer.echo(
        f"screened {result.queries} subject(s): {result.flagged} match(es), "
        f"{result.suppressed} suppressed by earlier rejections"
    )
    _show_case(ctx, _case_id(case))


@vetting_app.command("decide")
def vetting_decide(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="The case, e.g. V-3."),
    decision: str = typer.Argument(..., help="approve, deny or escalate"),
    valid_until: str = typer.Option("", "--valid-until", help="Approval valid until (date)."),
    revet_on: str = typer.Option("", "--revet-on", help="Re-vet on (date)."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Approve, deny or escalate a case; a blocked approval needs request-override."""
    outcome = _services(ctx).vetting.decide_case(
        _actor(ctx, as_user),
        _case_id(case),
        decision.strip().lower(),
        reason=reason,
        valid_until=_date(valid_until, "--valid-until"),
        revet_on=_date(revet_on, "--revet-on"),
    )
    typer.echo(f"V-{_case_id(case)}: {outcome.status}")


@vetting_app.command("request-override")
def vetting_request_override(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="The case, e.g. V-3."),
    valid_until: str = typer.Option("", "--valid-until", help="Approval valid until (date)."),
    revet_on: str = typer.Option("", "--revet-on", help="Re-vet on (date)."),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """Ask a second officer to approve a blocked case (the two-person rule)."""
    approval_id = _services(ctx).vetting.request_override(
        _actor(ctx, as_user),
        _case_id(case),
        reason=reason,
        valid_until=_date(valid_until, "--valid-until"),
        revet_on=_date(revet_on, "--revet-on"),
    )
    typer.echo(
        f"request #{approval_id} waits for a second officer: "
        f"tipaudit entities vetting decide-override {approval_id} approve --as OTHER --reason …"
    )


@vetting_app.command("decide-override")
def vetting_decide_override(
    ctx: typer.Context,
    approval_id: int = typer.Argument(..., help="The request number."),
    decision: str = typer.Argument(..., help="approve or reject"),
    as_user: str = AS_USER,
    reason: str = REASON,
) -> None:
    """As a second officer, approve or reject an override request."""
    services = _services(ctx)
    request = services.approvals.get(approval_id)
    if request.action != VETTING_OVERRIDE.action:
        raise ValidationError(f"request #{approval_id} is not a vetting override")
    if decision not in {"approve", "reject"}:
        raise ValidationError("the decision is approve or reject")
    services.approvals.decide(
        approval_id, _actor(ctx, as_user), approve=decision == "approve", reason=reason
    )
    typer.echo(f"request #{approval_id}: {decision}d")


@vetting_app.command("show")
def vetting_show(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="The case, e.g. V-3."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a case: subjects, matches with their explanation, blockers and decisions."""
    if as_json:
        view = _services(ctx).vetting.case(_case_id(case))
        data = dataclasses.asdict(view)
        data["matches"] = [_match_dict(m) for m in view.matches]
        data["blockers"] = [m.id for m in view.blockers]
        _print_json(data)
        return
    _show_case(ctx, _case_id(case))


@vetting_app.command("list")
def vetting_list(ctx: typer.Context) -> None:
    """List vetting cases, newest first."""
    found = _services(ctx).vetting.cases()
    if not found:
        typer.echo("no vetting cases yet")
        return
    table = Table("case", "purpose", "organisation or unit", "subjects", "status", "re-vet on")
    for c in found:
        table.add_row(
            c.reference,
            c.purpose_label,
            c.title,
            str(c.subjects),
            c.status,
            c.revet_on.isoformat() if c.revet_on else "",
        )
    Console(width=160).print(table)


def _show_case(ctx: typer.Context, case_id: int) -> None:
    view = _services(ctx).vetting.case(case_id)
    typer.echo(f"{view.reference}: {view.title} — {view.purpose_label} — {view.status}")
    typer.echo(f"lists: {', '.join(view.lists)} (+ allegations register)")
    for s in view.subjects:
        typer.echo(f"  subject {s.id}: {s.name} ({s.role}, {s.schema})")
    for m in view.matches:
        blocks = f" — BLOCKS: {', '.join(m.blocking_reasons)}" if m.blocking_reasons else ""
        allegation = f" [{m.allegation_status}]" if m.allegation_status else ""
        typer.echo(
            f"  match #{m.id} {view.subject_name(m.query_ref)} ~ {m.entity_name} "
            f"({m.list_slug}:{m.entity_id}) {m.score:.2f} {m.status}{allegation}{blocks}"
        )
    if view.needs_screening:
        typer.echo("  needs screening")
    for d in view.decisions:
        override = f", override by {d.override_by}" if d.override_by else ""
        typer.echo(f"  decision: {d.decision} by {d.decided_by}{override}: {d.reason}")


# --- the demo ---------------------------------------------------------------------------------

DEMO_UNIT = "Example Coastal Patrol Unit 9 (fictional)"


def prepare_demo(context: _context.CliContext) -> None:
    """Screen the newest procurement run's suppliers against the sample lists and save the
    matches; open one fictional vetting case and support entry so the pages show something."""
    services = context.services()
    vetting = services.vetting
    known = {info.slug for info in services.watchlists.lists()}
    lists = [s for s in ("fictional-demo", "un-sc-sample") if s in known]
    if not lists:
        return
    runs = ProcurementRuns(context.settings).list()
    if runs and not any(s.purpose == "procurement" for s in vetting.screenings(200)):
        run = ProcurementRuns(context.settings).open(runs[0].id)
        result = vetting.screen_procurement_run(CLI_ACTOR, run.folder, lists)
        typer.echo(
            f"screened the demo suppliers against {', '.join(lists)}: "
            f"{result.flagged} match(es) saved for review"
        )
    if vetting.cases():
        return
    try:
        admin = services.accounts.get_user("admin")
    except NotFoundError:
        admin = None
    if admin is not None and admin.can(Permission.ENTITIES_SCREEN):
        services.allegations.create(
            admin,
            name=DEMO_UNIT,
            schema="Organization",
            country=None,
            identifiers=[],
            source_ref="R-DEMO-0001",
            summary="FICTIONAL demo allegation: no real unit or person is named or accused.",
            reason="fictional entry for the demo (pending review)",
        )
    case_id = vetting.open_case(
        CLI_ACTOR, purpose="security_assistance", name=DEMO_UNIT, lists=lists
    )
    vetting.add_subject(
        CLI_ACTOR, case_id, role="commander", name="Example Commander Ode (fictional)"
    )
    vetting.screen_case(CLI_ACTOR, case_id)
    typer.echo(f"opened the fictional vetting case V-{case_id} ({DEMO_UNIT})")


# --- entities evaluate: matching quality on the labelled sets (cli/entities_evaluate.py) ---
from tipaudit.cli.entities_evaluate import evaluate as _evaluate  # noqa: E402

app.command("evaluate")(_evaluate)
