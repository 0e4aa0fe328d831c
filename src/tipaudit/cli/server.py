"""``tipaudit serve``, ``tipaudit demo`` and ``tipaudit db``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer

from tipaudit.cli import _context, entities, policy_register
from tipaudit.cli.users import CLI_ACTOR, generate_password
from tipaudit.core.roles import Role
from tipaudit.storage.migrate import current_revision, downgrade, head_revision

db_app = typer.Typer(help="The database schema: upgrade, downgrade, show the revision.")


def _run(context: _context.CliContext, host: str, port: int, *, intake_only: bool = False) -> None:
    import uvicorn
    from fastapi import FastAPI

    from tipaudit.logs import configure_logging
    from tipaudit.web.app import create_app
    from tipaudit.web.intake import MOUNT_PATH, create_intake_server

    configure_logging(context.settings.log_level)
    application: FastAPI
    if intake_only:
        application = create_intake_server(context.settings, context.services())
        typer.echo(f"tipaudit public report intake only at http://{host}:{port}{MOUNT_PATH}/")
    else:
        application = create_app(context.settings, services=context.services())
        typer.echo(f"tipaudit console at http://{host}:{port}/  (Ctrl+C stops it)")
        typer.echo(f"public report form at http://{host}:{port}{MOUNT_PATH}/")
    # access_log=False: request lines would carry client addresses, which tipaudit never logs.
    uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    intake_only: bool = typer.Option(
        False,
        "--intake-only",
        help="Serve only the public report form at /report (no console, no API, no staff "
        "log-in); it does not need the reviewers' private key.",
    ),
) -> None:
    """Serve the web console, the public pages (with the report form at /report) and the API."""
    _run(_context.get(ctx), host, port, intake_only=intake_only)


def demo(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the demo, do not serve."),
) -> None:
    """Prepare the embedded demo (database, first administrator) and serve the console."""
    context = _context.get(ctx)
    services = context.services()
    typer.echo(f"data folder: {context.settings.data_dir}")
    if services.accounts.count_users() == 0:
        password = generate_password()
        services.accounts.create_user(
            "admin",
            password,
            roles=set(Role),
            display_name="First administrator",
            actor=CLI_ACTOR,
        )
        typer.echo("created the first administrator account (every role):")
        typer.echo("  username: admin")
        typer.echo(f"  password: {password}   <- shown once; store it safely")
    else:
        typer.echo("accounts already exist; use `tipaudit user passwd admin` to reset a password")
    _screen_demo_data(context)
    _import_sample_lists(context)
    entities.prepare_demo(context)
    policy_register.prepare_demo(context)
    typer.echo(f"public reports key: {context.services().reports.ensure_key()[:16]}…")
    if not no_serve:
        _run(context, host, port)


def _screen_demo_data(context: _context.CliContext) -> None:
    """Screen the bundled OCDS samples once, so the console opens on a register."""
    from tipaudit.procurement.classify import Classifier
    from tipaudit.procurement.ingest import IngestOptions
    from tipaudit.procurement.screening import screen
    from tipaudit.services.procurement import ProcurementRuns

    runs = ProcurementRuns(context.settings)
    if runs.list():
        typer.echo("a procurement screening run already exists; the console shows the newest")
        return
    samples = Path(str(resources.files("tipaudit") / "demo" / "ocds"))
    services = context.services()
    run = screen(
        [samples],
        folder=runs.new_folder(),
        refdata=services.refdata,
        classifier=Classifier.load(),
        options=IngestOptions(on_error="skip"),
    )
    levels = run.summary["levels"]
    typer.echo(
        f"screened the bundled OCDS samples: {run.summary['rows']['processes']} processes, "
        f"{levels['high']} high, {levels['medium']} medium, {levels['low']} low risk"
    )


def _import_sample_lists(context: _context.CliContext) -> None:
    """Import the sample watchlists once: real UN Security Council names and a fictional list."""
    watchlists = context.services().watchlists
    if watchlists.lists():
        return
    data = Path(str(resources.files("tipaudit") / "screening" / "data"))
    samples = (
        (
            "un-sc-sample",
            "un-sc-sample.csv",
            "UN Security Council consolidated list (sample)",
            "opensanctions/yente test fixtures (MIT)",
            "sample",
        ),
        (
            "fictional-demo",
            "fictional-demo-list.csv",
            "Fictional demonstration list",
            "written for tipaudit; every entry is fictional",
            "sample",
        ),
    )
    for slug, file, title, source, kind in samples:
        result = watchlists.import_list(
            CLI_ACTOR, slug, data / file, "csv", title=title, source=source, kind=kind
        )
        typer.echo(f"imported the sample list {slug}: {result.entries} entries")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date."""
    database = _context.get(ctx).database()  # building services upgrades the schema
    typer.echo(f"database at revision {current_revision(database.engine)}")


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision, e.g. base or 0001."),
    yes: bool = typer.Option(False, "--yes", help="Confirm that data in dropped tables is lost."),
) -> None:
    """Downgrade the schema (drops the tables of later revisions)."""
    if not yes:
        typer.echo("downgrading drops data; run again with --yes to confirm", err=True)
        raise typer.Exit(2)
    database = _context.get(ctx).database()
    downgrade(database.engine, revision)
    typer.echo(f"database at revision {current_revision(database.engine)}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and of this version of tipaudit."""
    from tipaudit.storage.db import Database

    database = Database.from_settings(_context.get(ctx).settings)
    typer.echo(f"database: {current_revision(database.engine)}  code: {head_revision()}")
