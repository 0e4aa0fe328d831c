"""``tipaudit user``: manage staff accounts from the server's shell.

Whoever runs these commands has the server's files, so they act as the ``system`` actor and
are not bound by the two-person rule that applies in the console; every change is still
written to the audit log.
"""

from __future__ import annotations

import json
import secrets
import sys

import typer
from rich.console import Console
from rich.table import Table

from tipaudit.cli import _context
from tipaudit.core.roles import Role, parse_roles
from tipaudit.errors import ValidationError

app = typer.Typer(help="Staff accounts: add, list, disable, enable, roles, passwords, tokens.")

_ROLES_HELP = "Comma-separated roles: " + ", ".join(r.value for r in Role)
CLI_ACTOR = "system:cli"


def generate_password() -> str:
    """A random password of about 120 bits that a person can still type."""
    words = secrets.token_urlsafe(15)
    return "-".join(words[i : i + 5] for i in range(0, len(words), 5))


def _read_password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    if password_stdin and generate:
        raise ValidationError("use either --password-stdin or --generate-password, not both")
    if generate:
        return generate_password(), True
    if password_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise ValidationError("no password on standard input")
        return value, False
    if not sys.stdin.isatty():
        raise ValidationError(
            "no terminal to ask for a password",
            hint="pass --password-stdin or --generate-password",
        )
    value = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(value), False


@app.command("add")
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ -"),
    roles: str = typer.Option(..., "--roles", "-r", help=_ROLES_HELP),
    display_name: str = typer.Option("", "--name", help="Full name shown in the console."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    generate: bool = typer.Option(
        False, "--generate-password", help="Make a strong password and print it once."
    ),
) -> None:
    """Create a staff account with the given roles."""
    parsed = parse_roles(roles.split(","))
    if not parsed:
        raise ValidationError("give at least one role", hint=_ROLES_HELP)
    password, generated = _read_password(password_stdin, generate)
    services = _context.get(ctx).services()
    user = services.accounts.create_user(
        username, password, roles=parsed, display_name=display_name, actor=CLI_ACTOR
    )
    typer.echo(f"created {user.username} with roles {', '.join(sorted(user.roles))}")
    if generated:
        typer.echo(f"password (shown once, store it safely): {password}")


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List staff accounts with their roles and state."""
    users = _context.get(ctx).services().accounts.list_users()
    if as_json:
        rows = [
            {
                "username": u.username,
                "name": u.display_name,
                "roles": sorted(u.roles),
                "active": u.is_active,
                "second_factor": u.has_second_factor,
            }
            for u in users
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("username", "name", "roles", "active", "2FA")
    for u in users:
        table.add_row(
            u.username,
            u.display_name,
            ", ".join(sorted(u.roles)),
            "yes" if u.is_active else "no",
            "yes" if u.has_second_factor else "no",
        )
    Console().print(table)


@app.command("disable")
def disable(
    ctx: typer.Context,
    username: str,
    reason: str = typer.Option("", "--reason", help="Why, for the audit log."),
) -> None:
    """Disable an account and end its sessions; its history is kept."""
    _context.get(ctx).services().accounts.set_active(
        username, False, actor=CLI_ACTOR, reason=reason
    )
    typer.echo(f"disabled {username}")


@app.command("enable")
def enable(
    ctx: typer.Context,
    username: str,
    reason: str = typer.Option("", "--reason", help="Why, for the audit log."),
) -> None:
    """Enable a disabled account again."""
    _context.get(ctx).services().accounts.set_active(username, True, actor=CLI_ACTOR, reason=reason)
    typer.echo(f"enabled {username}")


@app.command("roles")
def set_roles(
    ctx: typer.Context,
    username: str,
    roles: str = typer.Argument(..., help=_ROLES_HELP),
    reason: str = typer.Option("", "--reason", help="Why, for the audit log."),
) -> None:
    """Replace an account's roles."""
    parsed = parse_roles(roles.split(","))
    services = _context.get(ctx).services()
    with services.db.write() as session:
        services.accounts.set_roles(session, username, parsed, actor=CLI_ACTOR, reason=reason)
    typer.echo(f"{username} now has roles {', '.join(sorted(parsed)) or '(none)'}")


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    generate: bool = typer.Option(False, "--generate-password"),
) -> None:
    """Set a new password for an account (and unlock it)."""
    password, generated = _read_password(password_stdin, generate)
    _context.get(ctx).services().accounts.change_password(username, password, actor=CLI_ACTOR)
    typer.echo(f"password changed for {username}")
    if generated:
        typer.echo(f"password (shown once, store it safely): {password}")


@app.command("reset-2fa")
def reset_second_factor(ctx: typer.Context, username: str) -> None:
    """Remove an account's second factor, e.g. after a lost phone."""
    _context.get(ctx).services().accounts.disable_second_factor(username, actor=CLI_ACTOR)
    typer.echo(f"second factor removed for {username}")


@app.command("token")
def create_token(
    ctx: typer.Context,
    username: str,
    name: str = typer.Option(..., "--name", help="What the token is for."),
    roles: str = typer.Option("", "--roles", help="Narrow the token to these roles."),
    days: int = typer.Option(90, "--days", help="Days until the token expires (1-366)."),
) -> None:
    """Create a personal API token for an account and print it once."""
    services = _context.get(ctx).services()
    user = services.accounts.get_user(username)
    scope = parse_roles(roles.split(",")) if roles else None
    info, value = services.accounts.create_token(user, name, roles=scope, expires_in_days=days)
    typer.echo(f"token {info.public_id} for {username} ({', '.join(sorted(info.roles))})")
    typer.echo(value)
