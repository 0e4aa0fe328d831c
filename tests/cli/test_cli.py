"""The ``tipaudit`` command line: help everywhere, user management, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tipaudit.cli import app
from tipaudit.services.container import build_services
from tipaudit.settings import Settings

PASSWORD = "a long enough passphrase"


def _all_command_paths() -> Iterator[list[str]]:
    root = get_command(app)

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(root, [])


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "TIPAUDIT_DATA_DIR": str(tmp_path / "data"),
        "TIPAUDIT_DATABASE_URL": database_url,
    }

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env, input=stdin)

    invoke.settings = Settings(  # type: ignore[attr-defined]
        data_dir=tmp_path / "data", database_url=database_url
    )
    return invoke


@pytest.mark.parametrize("path", list(_all_command_paths()), ids=" ".join)
def test_every_command_has_help(path: list[str]) -> None:
    """Every command and group answers --help with a description."""
    result = CliRunner().invoke(app, [*path, "--help"])
    assert 0 == result.exit_code, result.output
    assert "Usage" in result.output
    command = get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"


def test_user_lifecycle(run) -> None:  # type: ignore[no-untyped-def]
    """Add, list, disable and re-enable an account, all in the audit log."""
    added = run(
        "user",
        "add",
        "Nadia",
        "--roles",
        "vetting officer,auditor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert 0 == added.exit_code, added.output
    listed = json.loads(run("user", "list", "--json").output)
    assert [("nadia", ["auditor", "vetting_officer"], True)] == [
        (u["username"], u["roles"], u["active"]) for u in listed
    ]
    assert 0 == run("user", "disable", "nadia", "--reason", "left").exit_code
    assert [False] == [u["active"] for u in json.loads(run("user", "list", "--json").output)]
    assert 0 == run("user", "enable", "nadia").exit_code
    log = json.loads(run("audit", "log", "--json").output)
    actions = [e["action"] for e in (log["events"] if isinstance(log, dict) else log)]
    assert {"user.created", "user.disabled", "user.enabled"} <= set(actions)


def test_generated_password_is_printed_once_and_works(run) -> None:  # type: ignore[no-untyped-def]
    """--generate-password prints a password that logs in."""
    result = run("user", "add", "omar", "--roles", "auditor", "--generate-password")
    assert 0 == result.exit_code, result.output
    password = result.output.split("store it safely): ")[1].strip()
    services = build_services(run.settings)
    try:
        assert "omar" == services.accounts.authenticate("omar", password).username
    finally:
        services.close()


def test_token_command_prints_a_token(run) -> None:  # type: ignore[no-untyped-def]
    """An administrator can mint a scoped API token from the shell."""
    run(
        "user",
        "add",
        "pia",
        "--roles",
        "auditor,policy_analyst",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    result = run("user", "token", "pia", "--name", "ci", "--roles", "auditor")
    assert 0 == result.exit_code, result.output
    assert result.output.strip().splitlines()[-1].startswith("tpa_")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "x1", "--roles", "boss", "--password-stdin"], PASSWORD, "unknown role"),
        (["user", "add", "x1", "--roles", "auditor", "--password-stdin"], "short", "12"),
        (
            ["user", "add", "bad name", "--roles", "auditor", "--password-stdin"],
            PASSWORD,
            "username",
        ),
        (["user", "disable", "ghost"], None, "no user named"),
        (["indicators", "show", "NOPE-1"], None, "NOPE-1"),
    ],
)
def test_user_mistakes_are_messages_not_tracebacks(run, args, stdin, message) -> None:  # type: ignore[no-untyped-def]
    """A user mistake exits 2 with a message naming the problem, and no traceback."""
    result = run(*args, stdin=None if stdin is None else stdin + "\n")
    assert 2 == result.exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_setting_is_explained(tmp_path: Path) -> None:
    """A malformed TIPAUDIT_* variable is named in the error."""
    result = CliRunner().invoke(
        app,
        ["user", "list"],
        env={"TIPAUDIT_DATA_DIR": str(tmp_path), "TIPAUDIT_SESSION_IDLE_MINUTES": "soon"},
    )
    assert 2 == result.exit_code
    assert "TIPAUDIT_SESSION_IDLE_MINUTES" in result.output


def test_demo_creates_first_admin_once(run) -> None:  # type: ignore[no-untyped-def]
    """The demo prints the first administrator's password once, and not on later runs."""
    first = run("demo", "--no-serve")
    assert 0 == first.exit_code, first.output
    assert "password:" in first.output
    second = run("demo", "--no-serve")
    assert "password:" not in second.output
    assert "audit log is intact" in run("audit", "verify").output


def test_country_profile_and_pdf(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`tipaudit country` resolves names in any form and writes the pre-departure PDF."""
    shown = run("country", "Turkey (Türkiye)")
    assert 0 == shown.exit_code, shown.output
    assert "Hazelnuts" in shown.output
    data = json.loads(run("country", "Côte d'Ivoire", "--json").output)
    assert "CIV" == data["country"]["alpha3"]
    pdf = tmp_path / "my-es.pdf"
    written = run("country", "MY", "--pdf", str(pdf), "--lang", "es")
    assert 0 == written.exit_code, written.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    unknown = run("country", "Congo")
    assert 2 == unknown.exit_code
    assert "ambiguous" in unknown.output
