"""What every command receives: the settings, and services built on first use."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from tipaudit.services.audit import AuditLog
from tipaudit.services.container import Services, build_services
from tipaudit.settings import Settings
from tipaudit.storage.db import Database


@dataclass
class CliContext:
    settings: Settings
    _services: Services | None = field(default=None, repr=False)

    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings)
        return self._services

    def database(self) -> Database:
        return self.services().db

    def audit_log(self) -> AuditLog:
        return self.services().audit

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


def get(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj
