"""Transparency statistics: no small count is published or derivable, in one release or across.

The attacker in these tests knows the suppression algorithm, every published figure and total,
and every earlier release; it enumerates every table the algorithm could have published
identically and checks what stays ambiguous.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipaudit.errors import ValidationError
from tipaudit.reports.statistics import (
    CountTable,
    ReleaseLedger,
    build_period,
    period_of,
    periods_between,
    publish,
    suppress_partition,
    to_csv,
)
from tipaudit.reports.workflow import Category, Decision, Finding


@dataclass(frozen=True)
class Case:
    category: str | None
    finding: str | None
    decision: str | None
    channel: str
    received_at: datetime
    acknowledged_at: datetime | None = None
    triaged_at: datetime | None = None
    decided_at: datetime | None = None
    feedback_at: datetime | None = None


# --- the attacker ------------------------------------------------------------------------------


def _compositions(total: int, parts: int) -> Iterable[tuple[int, ...]]:
    """``total`` as ``parts`` positive integers (zeros are always shown, so hidden cells > 0)."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    for cuts in itertools.combinations(range(1, total), parts - 1):
        bounds = (0, *cuts, total)
        yield tuple(b - a for a, b in itertools.pairwise(bounds))


def _weak_compositions(total: int, parts: int) -> Iterable[tuple[int, ...]]:
    """``total`` as ``parts`` non-negative integers."""
    for combo in _compositions(total + parts, parts):
        yield tuple(value - 1 for value in combo)


def candidates(published: Sequence[int | None], total: int | None, k: int) -> list[tuple[int, ...]]:
    """Every count vector the algorithm would have published exactly like this."""
    hidden = [i for i, value in enumerate(published) if value is None]
    shown = sum(value for value in published if value is not None)
    found = []
    # A hidden total may hide zeros too; a shown total means every hidden cell is non-zero.
    parts = _compositions if total is not None else _weak_compositions
    largest = max(k - 1, len(published) + 1)
    for grand in [total] if total is not None else range(1, largest + 1):
        for combo in parts(grand - shown, len(hidden)):
            vector = list(published)
            for index, value in zip(hidden, combo, strict=True):
                vector[index] = value
            counts = tuple(int(v or 0) for v in vector)
            if suppress_partition(counts, k) == (list(published), total):
                found.append(counts)
    return found


def assert_safe(published: Sequence[int | None], total: int | None, k: int) -> None:
    """No hidden cell is pinned down, and no exactly derivable count lies in 1..k-1."""
    assert all(value is None or value == 0 or value >= k for value in published)
    assert total is None or total == 0 or total >= k
    hidden = [i for i, value in enumerate(published) if value is None]
    if not hidden:
        return
    found = candidates(published, total, k)
    assert found, "the true table must be among the candidates"
    for index in hidden:
        assert len({vector[index] for vector in found}) >= 2, f"cell {index} is exact"
    for size in range(1, len(hidden) + 1):
        for subset in itertools.combinations(hidden, size):
            sums = {sum(vector[i] for i in subset) for vector in found}
            if len(sums) == 1:
                (value,) = sums
                assert value == 0 or value >= k, f"cells {subset} sum exactly to {value}"


def assert_shape(published: Sequence[int | None], total: int | None, k: int) -> None:
    """The shapes whose safety the exact attacker establishes on small tables: nothing small
    shown; a shown total with hidden cells means more hidden mass than hidden cells."""
    assert all(value is None or value == 0 or value >= k for value in published)
    hidden = [value for value in published if value is None]
    if total is None:
        assert not [value for value in published if value is not None]
        return
    assert total == 0 or total >= k
    if hidden:
        shown = sum(value for value in published if value is not None)
        assert 0 == shown
        assert total > len(hidden)


# --- the rule itself ----------------------------------------------------------------------------


def test_a_small_cell_hides_every_non_zero_cell_but_not_zeros_or_total() -> None:
    """A 3 among 11 and 30: all three non-zero cells hide; the zero and the total show."""
    assert ([None, None, None, 0], 44) == suppress_partition([3, 11, 30, 0], 11)


def test_table_without_small_cells_is_shown_whole() -> None:
    """Counts of k or more, and zeros, are all published."""
    assert ([11, 0, 40], 51) == suppress_partition([11, 0, 40], 11)


def test_small_population_hides_everything() -> None:
    """Seven reports in all: total, cells and zeros are hidden."""
    assert ([None, None, None], None) == suppress_partition([4, 0, 3], 11)


def test_all_ones_hide_the_total_too() -> None:
    """Three cells of 1 with k = 3: the total would give each cell, so it hides as well."""
    assert ([None, None, None, None], None) == suppress_partition([1, 1, 1, 0], 3)


def test_zero_population_is_published_as_zeros() -> None:
    """No reports at all is shown as 0 (it describes nobody)."""
    assert ([0, 0], 0) == suppress_partition([0, 0], 11)


def test_threshold_below_three_is_refused() -> None:
    """With k = 2, "hidden but not zero" would mean exactly 1."""
    with pytest.raises(ValidationError, match="at least 3"):
        suppress_partition([1, 5], 2)


@settings(max_examples=120, deadline=None)
@given(
    counts=st.lists(st.integers(0, 11), min_size=1, max_size=5),
    k=st.integers(3, 8),
)
def test_no_published_table_reveals_a_small_count(counts: list[int], k: int) -> None:
    """Property: for any table, no hidden cell and no derivable count below k is exact."""
    published, total = suppress_partition(counts, k)
    if 0 < sum(counts) < k:
        assert total is None
    assert_safe(published, total, k)
    assert tuple(counts) in candidates(published, total, k) or None not in published


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(0, 16), min_size=2, max_size=4))
def test_default_threshold_is_safe_too(counts: list[int]) -> None:
    """The same property with the default k = 11."""
    published, total = suppress_partition(counts, 11)
    assert_safe(published, total, 11)


# --- cases into periods -------------------------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)

cases_strategy = st.lists(
    st.builds(
        lambda day, category, finding, decision, channel, ack, triage, decide, feedback: Case(
            category=category,
            finding=finding if decide is not None else None,
            decision=decision if decide is not None else None,
            channel=channel,
            received_at=START + timedelta(days=day),
            acknowledged_at=START + timedelta(days=day + ack) if ack is not None else None,
            triaged_at=START + timedelta(days=day + triage) if category else None,
            decided_at=START + timedelta(days=day + decide) if decide is not None else None,
            feedback_at=START + timedelta(days=day + feedback) if feedback is not None else None,
        ),
        day=st.integers(0, 500),
        category=st.sampled_from([None, *(c.value for c in Category)]),
        finding=st.sampled_from([f.value for f in Finding]),
        decision=st.sampled_from([d.value for d in Decision]),
        channel=st.sampled_from(["public", "on_behalf"]),
        ack=st.none() | st.integers(0, 20),
        triage=st.integers(0, 30),
        decide=st.none() | st.integers(5, 200),
        feedback=st.none() | st.integers(10, 150),
    ),
    max_size=120,
)


def _every_table(release_periods: Iterable[object]) -> Iterable[CountTable]:
    for period in release_periods:
        yield from period.tables  # type: ignore[attr-defined]
        for item in period.timeliness:  # type: ignore[attr-defined]
            if item.counts is not None:
                yield item.counts


@settings(max_examples=60, deadline=None)
@given(cases=cases_strategy, k=st.integers(3, 6))
def test_every_published_table_of_every_period_is_safe(cases: list[Case], k: int) -> None:
    """Property over whole releases: each table passes the attacker; medians need k cases."""
    release = publish(cases, now=START + timedelta(days=800), k=k)
    for table in _every_table(release.periods):
        assert_shape([cell.value for cell in table.cells], table.total, k)
    for period in release.periods:
        for item in period.timeliness:
            if item.median_days is not None:
                assert item.measured is not None
                assert item.measured >= k


@settings(max_examples=60, deadline=None)
@given(
    cases=cases_strategy,
    later=cases_strategy,
    purge=st.sets(st.integers(0, 119)),
    retriage=st.sampled_from([c.value for c in Category]),
    gap=st.integers(1, 400),
)
def test_successive_releases_never_change_a_published_period(
    cases: list[Case], later: list[Case], purge: set[int], retriage: str, gap: int
) -> None:
    """Property: with the ledger, a later release (after purges, re-triage and new reports)
    repeats every earlier period figure for figure, so differences are all zero."""
    ledger = ReleaseLedger()
    first_now = START + timedelta(days=400)
    first = publish(cases, now=first_now, k=5, ledger=ledger)
    changed = [
        replace(c, category=retriage, triaged_at=first_now)
        for i, c in enumerate(cases)
        if i not in purge
    ]
    shifted = [
        replace(c, received_at=first_now + timedelta(days=(c.received_at - START).days))
        for c in later
    ]
    stored = ReleaseLedger.from_json(ledger.to_json())
    second = publish(changed + shifted, now=first_now + timedelta(days=gap), k=5, ledger=stored)
    earlier = {p.period: p for p in first.periods}
    for period in second.periods:
        if period.period in earlier:
            assert earlier[period.period] == period
    assert set(earlier) <= {p.period for p in second.periods}


@settings(max_examples=60, deadline=None)
@given(cases=cases_strategy)
def test_without_changes_recomputing_gives_the_same_periods(cases: list[Case]) -> None:
    """Deterministic: periods are closed and count events inside them, so a later release
    computed afresh from unchanged data repeats earlier periods exactly."""
    first = publish(cases, now=START + timedelta(days=400), k=5)
    second = publish(cases, now=START + timedelta(days=700), k=5)
    later = {p.period: p.tables for p in second.periods}
    for period in first.periods:
        assert later[period.period] == period.tables


@settings(max_examples=80, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from([f.value for f in Finding]),
            st.sampled_from([d.value for d in Decision]),
        ),
        max_size=60,
    ),
    k=st.integers(3, 8),
)
def test_findings_and_actions_together_do_not_pin_a_small_cross_count(
    pairs: list[tuple[str, str]], k: int
) -> None:
    """Two splits of the same decisions: any small cross count keeps Fréchet bounds apart."""
    decided_at = START + timedelta(days=10)
    cases = [
        Case("tip", finding, decision, "public", START, decided_at=decided_at)
        for finding, decision in pairs
    ]
    period = build_period(cases, period_of(START), k=k, now=START + timedelta(days=200))
    findings, actions = period.table("findings"), period.table("actions")
    if findings.total is None:
        return
    n = findings.total

    def ranges(table: CountTable) -> dict[str, tuple[int, int]]:
        # What the exact attacker derives under the rule (checked on small tables above): a
        # hidden cell is non-zero and leaves at least 1 for each other hidden cell.
        hidden = sum(1 for cell in table.cells if cell.value is None)
        if table.total is None:  # the whole table is hidden, zeros included
            return {cell.key: (0, n) for cell in table.cells}
        return {
            cell.key: (cell.value, cell.value)
            if cell.value is not None
            else (1, table.total - (hidden - 1))
            for cell in table.cells
        }

    finding_ranges, action_ranges = ranges(findings), ranges(actions)
    for (finding, decision), true in _cross(pairs).items():
        if not 0 < true < k:
            continue
        (a_lo, a_hi), (b_lo, b_hi) = finding_ranges[finding], action_ranges[decision]
        lower, upper = max(0, a_lo + b_lo - n), min(a_hi, b_hi)
        assert lower < upper, (finding, decision, true)


def _cross(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    return counts


# --- concrete periods, CSV and the ledger -----------------------------------------------------


def _quarter_of_reports(n: int) -> list[Case]:
    cases = []
    for i in range(n):
        received = START + timedelta(days=i % 80, hours=i)
        cases.append(
            Case(
                category="tip" if i % 4 else "crisis",
                finding="substantiated" if i % 3 else "unsubstantiated",
                decision="contract_termination" if i % 5 == 0 else "remediation_plan",
                channel="public" if i % 7 else "on_behalf",
                received_at=received,
                acknowledged_at=received + timedelta(days=2 if i % 9 else 9),
                triaged_at=received + timedelta(days=3),
                decided_at=received + timedelta(days=1) if i < 30 else None,
                feedback_at=received + timedelta(days=5) if i < 30 else None,
            )
        )
    return cases


def test_a_busy_quarter_publishes_counts_medians_and_shares() -> None:
    """60 reports in 2025-Q1: counts, the acknowledgement median and share are shown."""
    release = publish(_quarter_of_reports(60), now=datetime(2025, 5, 1, tzinfo=UTC))

    assert ["2025-Q1"] == [p.period for p in release.periods]
    period = release.periods[0]
    received = period.table("received-by-category")
    assert 60 == received.total
    assert {"crisis": 15, "tip": 45, "out_of_scope": 0, "duplicate": 0, "untriaged": 0} == {
        cell.key: cell.value for cell in received.cells
    }
    acknowledge = period.timeliness[0]
    assert 60 == acknowledge.measured
    assert 2.0 == acknowledge.median_days
    assert acknowledge.counts is not None
    # 7 of 60 were acknowledged on day 9: fewer than 11, so within/late and the share hide.
    assert [None, None] == [cell.value for cell in acknowledge.counts.cells]
    assert acknowledge.share_within is None


def test_open_and_recent_periods_are_not_published() -> None:
    """The current quarter, and one that ended less than the lag ago, stay out."""
    cases = _quarter_of_reports(60)
    assert [] == list(publish(cases, now=datetime(2025, 3, 31, tzinfo=UTC)).periods)
    assert [] == list(publish(cases, now=datetime(2025, 4, 10, tzinfo=UTC)).periods)
    assert 1 == len(publish(cases, now=datetime(2025, 4, 16, tzinfo=UTC)).periods)


def test_periods_are_quarters_or_years() -> None:
    """Quarter keys and boundaries; a year of closed quarters."""
    quarters = periods_between(START, datetime(2026, 1, 20, tzinfo=UTC), lag_days=14)
    assert ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"] == [q.key for q in quarters]
    assert datetime(2025, 4, 1, tzinfo=UTC) == quarters[0].end
    years = periods_between(START, datetime(2026, 1, 20, tzinfo=UTC), kind="year")
    assert ["2025"] == [y.key for y in years]


def test_csv_has_every_figure_and_never_a_small_count() -> None:
    """The CSV lists each figure with its status; hidden ones are empty, none is 1..k-1."""
    release = publish(_quarter_of_reports(60), now=datetime(2025, 5, 1, tzinfo=UTC))
    rows = list(csv.DictReader(io.StringIO(to_csv(release))))

    assert rows
    assert {"published", "suppressed"} == {row["status"] for row in rows}
    for row in rows:
        if row["status"] == "suppressed":
            assert "" == row["value"]
        elif row["row"] != "median_days":
            assert int(row["value"]) == 0 or int(row["value"]) >= 11
    totals = {r["table"]: r["value"] for r in rows if r["row"] == "total"}
    assert "60" == totals["received-by-category"]


def test_ledger_round_trips_and_refuses_damage() -> None:
    """The ledger survives JSON; damaged or foreign ledgers are refused with a message."""
    ledger = ReleaseLedger()
    publish(_quarter_of_reports(60), now=datetime(2025, 5, 1, tzinfo=UTC), ledger=ledger)
    assert ledger.periods == ReleaseLedger.from_json(ledger.to_json()).periods
    for damaged in ("{", '{"version": 99, "periods": []}', '{"version": 1, "periods": [{}]}'):
        with pytest.raises(ValidationError, match="ledger"):
            ReleaseLedger.from_json(damaged)
    negative = ledger.to_json().replace('"total": 60', '"total": -60', 1)
    with pytest.raises(ValidationError, match="ledger"):
        ReleaseLedger.from_json(negative)


def test_ledger_keeps_its_threshold_when_k_changes() -> None:
    """A period published with k = 11 keeps its figures after k is raised to 20."""
    ledger = ReleaseLedger()
    cases = _quarter_of_reports(60)
    first = publish(cases, now=datetime(2025, 5, 1, tzinfo=UTC), ledger=ledger)
    second = publish(cases, now=datetime(2025, 8, 1, tzinfo=UTC), k=20, ledger=ledger)
    assert first.periods[0] == second.periods[-1]
    assert 20 == second.periods[0].min_cell
