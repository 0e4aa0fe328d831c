"""The ``tipaudit`` command line, grouped by capability."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError as SettingsValidationError
from typer._click.core import Context
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from tipaudit import __version__
from tipaudit.cli import (
    audit,
    country,
    data,
    entities,
    indicators,
    policy,
    procurement,
    reports,
    reports_export,
    server,
    users,
)
from tipaudit.cli._context import CliContext
from tipaudit.errors import TipAuditError
from tipaudit.settings import Settings


class UserError(ClickException):
    """A :class:`TipAuditError` shown as a message (and a hint), never a traceback.

    Typer vendors click, so the exception its runner turns into a message is its own
    ``ClickException``; the pinned Typer version keeps this import stable.
    """

    def __init__(self, error: TipAuditError) -> None:
        message = error.message if not error.hint else f"{error.message}\nhint: {error.hint}"
        super().__init__(message)
        self.error = error
        self.exit_code = 2 if error.status < 500 else 1


class _Group(TyperGroup):
    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except TipAuditError as exc:
            raise UserError(exc) from exc


app = typer.Typer(
    cls=_Group,
    name="tipaudit",
    help="Test a government's own procurement, partners and policies for trafficking risk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(users.app, name="user")
app.add_typer(audit.app, name="audit")
app.add_typer(indicators.app, name="indicators")
app.add_typer(data.app, name="data")
app.add_typer(procurement.app, name="procurement")
app.add_typer(policy.app, name="policy")
app.add_typer(entities.app, name="entities")
app.add_typer(reports.app, name="reports")
reports_export.register(reports.app)
app.command("country")(country.country)
app.command("serve")(server.serve)
app.command("demo")(server.demo)
app.add_typer(server.db_app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tipaudit {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Settings come from TIPAUDIT_* environment variables (see docs/configuration.md)."""
    try:
        settings = Settings()
    except SettingsValidationError as exc:
        problems = "; ".join(
            f"TIPAUDIT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise TipAuditError(f"the settings are not valid: {problems}") from None
    context = CliContext(settings=settings)
    ctx.obj = context
    ctx.call_on_close(context.close)


def main() -> None:
    """Entry point of the ``tipaudit`` command."""
    app()
