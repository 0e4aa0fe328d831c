"""The docs cannot drift from the code.

``docs/cli.md`` embeds the real ``--help`` of every command and ``docs/configuration.md`` lists
every setting. Regenerate both after a change with::

    TIPAUDIT_UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from tipaudit.cli import app
from tipaudit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
CONFIG_DOC = ROOT / "docs" / "configuration.md"
UPDATE = os.environ.get("TIPAUDIT_UPDATE_DOCS") == "1"


def _walk(command: object, path: list[str]) -> list[list[str]]:
    paths = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths.extend(_walk(sub, [*path, name]))
    return paths


def render_cli_reference() -> str:
    runner = CliRunner()
    parts = [
        "# Command-line reference\n",
        "Generated from the real `--help` output by `tests/test_docs.py`; do not edit by hand.\n",
    ]
    for path in _walk(get_command(app), []):
        result = runner.invoke(
            app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100
        )
        title = " ".join(["tipaudit", *path])
        parts.append(f"\n## `{title}`\n\n```text\n{result.output.rstrip()}\n```\n")
    return "".join(parts)


def render_configuration() -> str:
    lines = [
        "# Configuration\n",
        "\n",
        "tipaudit reads its settings from `TIPAUDIT_*` environment variables when a command or the "
        "server starts; nothing is read at import time. This table is generated from "
        "`tipaudit.settings.Settings` by `tests/test_docs.py`.\n",
        "\n",
        "| variable | default | meaning |\n",
        "|---|---|---|\n",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = (
            "per-user data folder"
            if name == "data_dir"
            else ("(none)" if default is None else f"`{default}`")
        )
        lines.append(f"| `TIPAUDIT_{name.upper()}` | {shown} | {field.description} |\n")
    return "".join(lines)


def _check(path: Path, expected: str) -> None:
    if UPDATE:
        path.write_text(expected, encoding="utf-8")
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    assert expected == actual, f"{path.name} is stale: run TIPAUDIT_UPDATE_DOCS=1 pytest {__file__}"


def test_cli_reference_is_current() -> None:
    """docs/cli.md shows the current --help of every command."""
    _check(CLI_DOC, render_cli_reference())


def test_configuration_reference_is_current() -> None:
    """docs/configuration.md lists every setting with its default and meaning."""
    _check(CONFIG_DOC, render_configuration())


def test_every_setting_has_a_description() -> None:
    """A setting without help text would be an undocumented knob."""
    assert [] == [n for n, f in Settings.model_fields.items() if not f.description]


def test_every_risk_factor_is_documented() -> None:
    """docs/procurement.md has a row for every risk factor with its weight."""
    from tipaudit.procurement.rules import FACTORS

    text = (ROOT / "docs" / "procurement.md").read_text(encoding="utf-8")
    missing = [c for c, f in FACTORS.items() if f"| `{c}` | {f.weight} |" not in text]
    assert [] == missing
