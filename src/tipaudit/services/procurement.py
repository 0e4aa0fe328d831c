"""Screening runs kept in the data folder, for the CLI and the console."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tipaudit.errors import NotFoundError
from tipaudit.procurement.screening import ScreeningRun
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
