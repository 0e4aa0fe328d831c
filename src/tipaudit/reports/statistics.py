"""Publishable statistics of the public reporting channel, safe against re-identification.

The transparency page and its CSV show, for each closed period (a calendar quarter by
default): reports received (by triage category and by channel), findings and actions decided,
and how quickly reports were acknowledged, decided and answered. The input is one
:class:`CaseFacts`-shaped record per report (categories and timestamps, never content).

How no reporter or case can be singled out (see ``docs/transparency.md``):

1. **Threshold.** No published count lies between 1 and ``k - 1`` (``k`` defaults to 11, the
   CTDC practice). Zeros are shown: a zero describes no one, and hiding zeros would make the
   suppression pattern itself reveal which cells are small.
2. **Complementary suppression.** Every table is one partition of one population (reports
   received in the period, decisions made in it, ...) with its total. When any cell is small,
   every non-zero cell of the table is hidden, so the hidden cells add up to the total (at
   least ``k``) and the counts could sit in any of them: neither a hidden cell nor any sum of
   some hidden cells can be worked out, even by someone who knows this rule. When the
   population itself is below ``k`` the whole table, total and zeros included, is hidden.
3. **Successive releases.** Only closed periods are published (after a short lag), each
   counting *events in that period* (a receipt, an acknowledgement, a decision, a reply), and
   there are no running totals: a new release adds a period and changes nothing already
   published, so a difference between releases is never a count of anyone. A
   :class:`ReleaseLedger` freezes every period at its first publication: later triage,
   corrections or retention purges never change a published period.
4. **No free text, no small medians.** Medians of waiting times are shown only for at least
   ``k`` measured cases; shares within a deadline come from the suppressed within/late counts.

Two tables that split the same population by different variables (findings and actions)
give no more than each on its own: a cross cell can only be bounded (Fréchet bounds), and the
bounds are exact only when a shown marginal equals the total, in which case the cross cell is
that shown marginal. ``tests/reports/test_statistics.py`` checks the guarantees with an
attacker that knows the algorithm and every published number.
"""

from __future__ import annotations

import csv
import io
import json
import statistics as stats
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from tipaudit.errors import ValidationError
from tipaudit.reports.workflow import Category, Decision, Finding, add_months

__all__ = [
    "DEFAULT_MIN_CELL",
    "CaseFacts",
    "Cell",
    "CountTable",
    "Period",
    "PeriodRelease",
    "Release",
    "ReleaseLedger",
    "Timeliness",
    "build_period",
    "periods_between",
    "publish",
    "suppress_partition",
    "to_csv",
]

#: Smallest count published (the CTDC threshold).
DEFAULT_MIN_CELL = 11
#: Below 3 the threshold protects nothing: "fewer than 2, not 0" means exactly 1.
MIN_ALLOWED_CELL = 3
LEDGER_VERSION = 1

UNTRIAGED = "untriaged"
ACKNOWLEDGE_DAYS = 7
FEEDBACK_MONTHS = 3

PeriodKind = Literal["quarter", "year"]


class CaseFacts(Protocol):
    """What statistics need of a case (``services.reports.CaseSummary`` has these)."""

    @property
    def category(self) -> str | None: ...
    @property
    def finding(self) -> str | None: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def triaged_at(self) -> datetime | None: ...
    @property
    def decided_at(self) -> datetime | None: ...
    @property
    def feedback_at(self) -> datetime | None: ...


# --- the suppression rule -------------------------------------------------------------------


def suppress_partition(
    counts: Sequence[int], k: int = DEFAULT_MIN_CELL
) -> tuple[list[int | None], int | None]:
    """Hide cells of a one-way table (a partition of one population) and possibly its total.

    Returns the cells and the total as published, ``None`` meaning hidden:

    * a population of 1 to ``k - 1`` hides everything, zeros included;
    * a table with any count of 1 to ``k - 1`` hides every non-zero cell and shows the zeros
      and the total (or hides everything when every non-zero cell is 1, since the total would
      then give each of them);
    * otherwise everything is shown.

    Hiding every non-zero cell is deliberately coarse: any cleverer choice of complementary
    cells can be undone by someone who knows the rule (a smallest-first complement, for
    instance, tells that the hidden complement is no larger than the shown cells). With all
    non-zero cells hidden, the mass can sit in any of them, so no hidden cell, and no sum of
    some of them, is ever pinned down; only their sum, the total (at least ``k``), is known.
    """
    _check_k(k)
    if any(c < 0 for c in counts):
        raise ValidationError("counts cannot be negative")
    total = sum(counts)
    if total == 0:
        return [0 for _ in counts], 0
    nonzero = [c for c in counts if c > 0]
    if total < k or (total == len(nonzero) and any(c < k for c in nonzero)):
        return [None for _ in counts], None
    if any(c < k for c in nonzero):
        return [None if c > 0 else 0 for c in counts], total
    return list(counts), total


def _check_k(k: int) -> None:
    if k < MIN_ALLOWED_CELL:
        raise ValidationError(
            f"the smallest published count must be at least {MIN_ALLOWED_CELL}; got {k}"
        )


# --- published structures -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """One row of a published table; ``value`` is ``None`` when suppressed."""

    key: str
    label: str
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True, slots=True)
class CountTable:
    """A one-way table: a partition of one population of events in the period, with total."""

    id: str
    title: str
    population: str
    cells: tuple[Cell, ...]
    total: int | None

    @property
    def any_suppressed(self) -> bool:
        return self.total is None or any(cell.suppressed for cell in self.cells)


@dataclass(frozen=True, slots=True)
class Timeliness:
    """How quickly one step was taken for the events of the period."""

    id: str
    title: str
    deadline: str | None
    #: Within / late counts (suppressed like any table); absent when there is no deadline.
    counts: CountTable | None
    measured: int | None
    median_days: float | None

    @property
    def share_within(self) -> float | None:
        """Share of measured cases within the deadline, when both counts are shown."""
        if self.counts is None or self.counts.total in {None, 0}:
            return None
        within = self.counts.cells[0].value
        if within is None or self.counts.cells[1].value is None:
            return None
        assert self.counts.total is not None
        return within / self.counts.total


@dataclass(frozen=True, slots=True)
class Period:
    """A fixed publication period ``[start, end)`` in UTC."""

    key: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= _utc(moment) < self.end


@dataclass(frozen=True, slots=True)
class PeriodRelease:
    """Everything published for one period, as first published (frozen by the ledger)."""

    period: str
    start: datetime
    end: datetime
    min_cell: int
    published_at: datetime
    tables: tuple[CountTable, ...]
    timeliness: tuple[Timeliness, ...]

    @property
    def last_day(self) -> datetime:
        """The last day inside the period (``end`` is exclusive)."""
        return self.end - timedelta(days=1)

    def table(self, table_id: str) -> CountTable:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)


@dataclass(frozen=True, slots=True)
class Release:
    """A publication: the periods shown, newest first, and the rules they follow."""

    min_cell: int
    generated_at: datetime
    periods: tuple[PeriodRelease, ...]
    lag_days: int
    period_kind: PeriodKind


@dataclass
class ReleaseLedger:
    """Every period ever published, exactly as published.

    :func:`publish` copies a period from the ledger instead of recomputing it, so a published
    figure never changes. Persist it with :meth:`to_json` / :meth:`from_json`.
    """

    periods: dict[str, PeriodRelease] = field(default_factory=dict)

    def to_json(self) -> str:
        payload = {
            "version": LEDGER_VERSION,
            "periods": [_period_to_dict(p) for p in sorted(self.periods.values(), key=_start)],
        }
        return json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ReleaseLedger:
        try:
            payload = json.loads(text)
            version = payload.get("version")
            periods = [_period_from_dict(item) for item in payload["periods"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValidationError(f"the transparency ledger is not readable: {exc}") from None
        if version != LEDGER_VERSION:
            raise ValidationError(f"unknown transparency ledger version {version!r}")
        return cls({p.period: p for p in periods})


def _start(period: PeriodRelease) -> datetime:
    return period.start


# --- periods --------------------------------------------------------------------------------


def period_of(moment: datetime, kind: PeriodKind = "quarter") -> Period:
    """The fixed period containing ``moment``."""
    moment = _utc(moment)
    if kind == "year":
        start = datetime(moment.year, 1, 1, tzinfo=UTC)
        return Period(str(moment.year), start, datetime(moment.year + 1, 1, 1, tzinfo=UTC))
    quarter = (moment.month - 1) // 3
    start = datetime(moment.year, 3 * quarter + 1, 1, tzinfo=UTC)
    return Period(f"{moment.year}-Q{quarter + 1}", start, add_months(start, 3))


def periods_between(
    first: datetime, now: datetime, *, kind: PeriodKind = "quarter", lag_days: int = 14
) -> list[Period]:
    """Closed periods from the one holding ``first`` to the last that ended ``lag_days`` ago."""
    result = []
    period = period_of(first, kind)
    cutoff = _utc(now) - timedelta(days=lag_days)
    while period.end <= cutoff:
        result.append(period)
        period = period_of(period.end, kind)
    return result


# --- building a period ----------------------------------------------------------------------

_CHANNEL_LABELS = {
    "public": "Public form",
    "on_behalf": "Recorded by an official on a person's behalf",
}


def _label(value: str) -> str:
    for enum in (Category, Finding, Decision):
        try:
            member = enum(value)
        except ValueError:
            continue
        label: str = member.label
        return label
    if value == UNTRIAGED:
        return "Not yet triaged"
    return _CHANNEL_LABELS.get(value, value.replace("_", " ").capitalize())


def _table(
    table_id: str,
    title: str,
    population: str,
    values: Iterable[str],
    order: Sequence[str],
    k: int,
) -> CountTable:
    counted: dict[str, int] = dict.fromkeys(order, 0)
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    keys = list(counted)
    published, total = suppress_partition([counted[key] for key in keys], k)
    cells = tuple(Cell(key, _label(key), value) for key, value in zip(keys, published, strict=True))
    return CountTable(table_id, title, population, cells, total)


def _days(start: datetime, end: datetime) -> float:
    return (_utc(end) - _utc(start)).total_seconds() / 86_400


def _timeliness(
    table_id: str,
    title: str,
    deadline: str | None,
    measured: list[tuple[float, bool]],
    k: int,
) -> Timeliness:
    counts: CountTable | None = None
    if deadline is not None:
        within = sum(1 for _, ok in measured if ok)
        published, total = suppress_partition([within, len(measured) - within], k)
        counts = CountTable(
            f"{table_id}-deadline",
            title,
            deadline,
            (
                Cell("within", "Within the deadline", published[0]),
                Cell("late", "After the deadline", published[1]),
            ),
            total,
        )
        shown_total = total
    else:
        shown_total = suppress_partition([len(measured)], k)[1]
    median = None
    if shown_total is not None and shown_total >= k:
        median = round(stats.median(days for days, _ in measured), 1)
    return Timeliness(table_id, title, deadline, counts, shown_total, median)


def build_period(
    cases: Iterable[CaseFacts], period: Period, *, k: int = DEFAULT_MIN_CELL, now: datetime
) -> PeriodRelease:
    """The tables of one period, suppressed with threshold ``k``.

    Each table counts events that happened in the period: reports received (categorised as at
    the end of the period), decisions made, acknowledgements and replies sent.
    """
    _check_k(k)
    all_cases = list(cases)
    received = [c for c in all_cases if period.contains(c.received_at)]
    decided = [c for c in all_cases if period.contains(c.decided_at)]
    acknowledged = [c for c in all_cases if period.contains(c.acknowledged_at)]
    answered = [c for c in all_cases if period.contains(c.feedback_at)]

    def category_at_end(case: CaseFacts) -> str:
        if case.category and (case.triaged_at is None or _utc(case.triaged_at) < period.end):
            return case.category
        return UNTRIAGED

    tables = (
        _table(
            "received-by-category",
            "Reports received, by triage category",
            "reports received in the period (category as at the end of the period)",
            (category_at_end(c) for c in received),
            [*(c.value for c in Category), UNTRIAGED],
            k,
        ),
        _table(
            "received-by-channel",
            "Reports received, by channel",
            "reports received in the period",
            (c.channel for c in received),
            list(_CHANNEL_LABELS),
            k,
        ),
        _table(
            "findings",
            "Findings of the decisions made",
            "decisions made in the period",
            (c.finding or "inconclusive" for c in decided),
            [f.value for f in Finding],
            k,
        ),
        _table(
            "actions",
            "Actions decided",
            "decisions made in the period",
            (c.decision or "no_action" for c in decided),
            [d.value for d in Decision],
            k,
        ),
    )
    ack_times = [_days(c.received_at, c.acknowledged_at) for c in acknowledged if c.acknowledged_at]
    feedback_times = []
    for case in answered:
        assert case.feedback_at is not None
        start = case.acknowledged_at or (_utc(case.received_at) + timedelta(days=ACKNOWLEDGE_DAYS))
        due = add_months(_utc(start), FEEDBACK_MONTHS)
        feedback_times.append((_days(start, case.feedback_at), _utc(case.feedback_at) <= due))
    decide_times = [_days(c.received_at, c.decided_at) for c in decided if c.decided_at]
    timeliness = (
        _timeliness(
            "acknowledge",
            "Time to acknowledge a report",
            f"{ACKNOWLEDGE_DAYS} days from receipt (EU Directive 2019/1937, Art. 9(1)(b))",
            [(days, days <= ACKNOWLEDGE_DAYS) for days in ack_times],
            k,
        ),
        _timeliness(
            "decide",
            "Time from receipt to decision",
            None,
            [(days, True) for days in decide_times],
            k,
        ),
        _timeliness(
            "feedback",
            "Time to give feedback to the reporter",
            f"{FEEDBACK_MONTHS} months from acknowledgement (EU Directive 2019/1937, Art. 9(1)(f))",
            feedback_times,
            k,
        ),
    )
    return PeriodRelease(
        period=period.key,
        start=period.start,
        end=period.end,
        min_cell=k,
        published_at=_utc(now),
        tables=tables,
        timeliness=timeliness,
    )


def publish(
    cases: Iterable[CaseFacts],
    *,
    now: datetime,
    k: int = DEFAULT_MIN_CELL,
    ledger: ReleaseLedger | None = None,
    kind: PeriodKind = "quarter",
    lag_days: int = 14,
    since: datetime | None = None,
) -> Release:
    """Publish every closed period; periods already in ``ledger`` are copied, not recomputed.

    New periods are added to ``ledger`` (when given) so the caller can persist it. ``since``
    sets the first period when there are no cases yet (the channel's opening date).
    """
    _check_k(k)
    if lag_days < 0:
        raise ValidationError("the publication lag cannot be negative")
    all_cases = list(cases)
    starts = [_utc(c.received_at) for c in all_cases]
    if since is not None:
        starts.append(_utc(since))
    if ledger is not None:
        starts.extend(p.start for p in ledger.periods.values())
    periods: list[PeriodRelease] = []
    if starts:
        for period in periods_between(min(starts), now, kind=kind, lag_days=lag_days):
            frozen = ledger.periods.get(period.key) if ledger is not None else None
            if frozen is None:
                frozen = build_period(all_cases, period, k=k, now=now)
                if ledger is not None:
                    ledger.periods[period.key] = frozen
            periods.append(frozen)
    periods.sort(key=_start, reverse=True)
    return Release(k, _utc(now), tuple(periods), lag_days, kind)


# --- CSV --------------------------------------------------------------------------------------

CSV_COLUMNS = ("period", "table", "population", "row", "label", "value", "status", "min_cell")


def to_csv(release: Release) -> str:
    """The release as CSV: one row per published figure; hidden figures have an empty value
    and the status ``suppressed``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for period in release.periods:
        for table in _all_tables(period):
            for cell in (*table.cells, Cell("total", "Total", table.total)):
                writer.writerow(
                    (
                        period.period,
                        table.id,
                        table.population,
                        cell.key,
                        cell.label,
                        "" if cell.value is None else cell.value,
                        "suppressed" if cell.value is None else "published",
                        period.min_cell,
                    )
                )
        for item in period.timeliness:
            median = item.median_days
            writer.writerow(
                (
                    period.period,
                    item.id,
                    item.title,
                    "median_days",
                    "Median (days)",
                    "" if median is None else median,
                    "suppressed" if median is None else "published",
                    period.min_cell,
                )
            )
    return out.getvalue()


def _all_tables(period: PeriodRelease) -> Iterable[CountTable]:
    yield from period.tables
    for item in period.timeliness:
        if item.counts is not None:
            yield item.counts


# --- ledger (de)serialisation -----------------------------------------------------------------


def _period_to_dict(period: PeriodRelease) -> dict[str, Any]:
    data = asdict(period)
    for key in ("start", "end", "published_at"):
        data[key] = getattr(period, key).isoformat()
    return data


def _period_from_dict(data: Mapping[str, Any]) -> PeriodRelease:
    def table(item: Mapping[str, Any]) -> CountTable:
        return CountTable(
            id=str(item["id"]),
            title=str(item["title"]),
            population=str(item["population"]),
            cells=tuple(
                Cell(str(c["key"]), str(c["label"]), _optional_int(c["value"]))
                for c in item["cells"]
            ),
            total=_optional_int(item["total"]),
        )

    return PeriodRelease(
        period=str(data["period"]),
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        min_cell=int(data["min_cell"]),
        published_at=datetime.fromisoformat(data["published_at"]),
        tables=tuple(table(t) for t in data["tables"]),
        timeliness=tuple(
            Timeliness(
                id=str(t["id"]),
                title=str(t["title"]),
                deadline=t["deadline"],
                counts=None if t["counts"] is None else table(t["counts"]),
                measured=_optional_int(t["measured"]),
                median_days=None if t["median_days"] is None else float(t["median_days"]),
            )
            for t in data["timeliness"]
        ),
    )


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
