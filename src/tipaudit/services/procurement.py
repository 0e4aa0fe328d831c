"""Screening runs kept in the data folder, for the CLI and the console."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tipaudit.errors import NotFoundError
from tipaudit.procurement.rules import EntityFlag
from tipaudit.procurement.screening import ScreeningRun, rescore
from tipaudit.refdata import ReferenceData
from tipaudit.settings import Settings

_RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")


@dataclass(frozen=True)
class RunInfo:
    id: str
    created: str
    processes: int
    levels: dict[str, int]
    engine: str
    inputs: list[str]


class ProcurementRuns:
    """Where screening runs live: ``<data folder>/procurement/runs/<run id>/``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def folder(self) -> Path:
        return self.settings.data_dir / "procurement" / "runs"

    def new_folder(self) -> Path:
        self.settings.ensure_data_dir()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return self.folder / f"{stamp}-{secrets.token_hex(3)}"

    def list(self) -> list[RunInfo]:
        """Finished runs, newest first."""
        if not self.folder.exists():
            return []
        runs = []
        for summary_file in sorted(self.folder.glob("*/run.json"), reverse=True):
            summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
            runs.append(
                RunInfo(
                    id=summary_file.parent.name,
                    created=summary["created"],
                    processes=summary["rows"]["processes"],
                    levels=summary["levels"],
                    engine=summary["engine"],
                    inputs=summary["inputs"],
                )
            )
        return runs

    def open(self, run_id: str | None = None) -> ScreeningRun:
        """A run by id, or the newest when ``run_id`` is None."""
        runs = self.list()
        if not runs:
            raise NotFoundError(
                "there is no screening run yet", hint="run: tipaudit procurement screen FILES..."
            )
        if run_id is None:
            return ScreeningRun.open(self.folder / runs[0].id)
        if not _RUN_ID.match(run_id) or not (self.folder / run_id / "run.json").exists():
            raise NotFoundError(f"no screening run {run_id[:40]!r}")
        return ScreeningRun.open(self.folder / run_id)

    def rescore(
        self, refdata: ReferenceData, flags: Sequence[EntityFlag], run_id: str | None = None
    ) -> ScreeningRun:
        """Recompute a run's register (the newest by default) with the current entity flags."""
        return rescore(self.open(run_id), refdata=refdata, entity_flags=flags)


class SupplierMatchLike(Protocol):
    """What entity screening says about one supplier (see ``services.vetting``)."""

    @property
    def supplier_key(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def entity_name(self) -> str: ...
    @property
    def list_title(self) -> str: ...
    @property
    def list_kind(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def decision(self) -> str: ...
    @property
    def allegation_status(self) -> str | None: ...
    @property
    def reason(self) -> str: ...


COUNTING_ALLEGATIONS = frozenset({"credible", "substantiated"})


def entity_flags(matches: Iterable[SupplierMatchLike]) -> list[EntityFlag]:
    """Turn entity-screening matches into register flags; what does not count is left out.

    A rejected match never reaches here. Only a match a reviewer has confirmed raises risk: a
    confirmed match with a credible or substantiated allegation, or with a list entry. Any other
    match — including one with a credible allegation that nobody has yet confirmed is about
    this supplier — is shown as to review, never scored as a hit. Allegations that are pending
    or unsubstantiated are left out.
    """
    flags: list[EntityFlag] = []
    for match in matches:
        entity = f"{match.entity_name} ({match.entity_id})"
        confirmed = match.decision == "confirmed"
        if match.list_kind == "allegations":
            if match.allegation_status not in COUNTING_ALLEGATIONS:
                continue
            if confirmed:
                flags.append(
                    EntityFlag(
                        supplier_key=match.supplier_key,
                        factor="supplier_allegation",
                        entity=entity,
                        status=f"{match.allegation_status}, match confirmed by a reviewer",
                        reason=match.reason,
                        score=match.score,
                    )
                )
                continue
            where = f"a {match.allegation_status} allegation, {entity}, in the allegations register"
        elif confirmed:
            flags.append(
                EntityFlag(
                    supplier_key=match.supplier_key,
                    factor="supplier_listed",
                    entity=f"{entity} on {match.list_title}",
                    status="confirmed by a reviewer",
                    reason=match.reason,
                    score=match.score,
                )
            )
            continue
        else:
            where = f"{entity} on {match.list_title}"
        flags.append(
            EntityFlag(
                supplier_key=match.supplier_key,
                factor="supplier_possible_match",
                entity=where,
                status=f"name match score {match.score:.2f}",
                reason=match.reason,
                score=match.score,
            )
        )
    return flags
