"""Docs: every command has help with an example and a row in the README's command reference."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from dlcompute.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    return sorted(cli.commands.items())


@pytest.mark.parametrize("name,command", _commands(), ids=[n for n, _ in _commands()])
def test_command_has_help_with_example(name, command):
    assert command.help and command.help.strip(), f"{name} has no help"
    assert "Example" in command.help, f"{name}'s help has no Example: block"
    assert f"dlcompute {name}" in command.help, f"{name}'s example does not show the command"
    summary = command.get_short_help_str(limit=80)
    assert not summary.endswith("..."), f"{name}'s first line is too long for --help"


@pytest.mark.parametrize("name", [n for n, _ in _commands()])
def test_command_in_readme_reference(name):
    assert re.search(rf"^\| `dlcompute {re.escape(name)}[ `]", README, re.M), (
        f"README.md's command reference has no row for `dlcompute {name}`")


def test_readme_quick_start_is_two_commands():
    block = README.split("## Quick start", 1)[1].split("## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", block, re.S)
    assert len(commands) == 2
    assert commands[0].endswith(".venv/bin/dlcompute demo")
    assert "pytest" in commands[1] and "[dev]" in commands[1]


def test_ci_runs_the_readme_test_command():
    block = README.split("## Quick start", 1)[1].split("## ", 1)[0]
    test_command = re.findall(r"```bash\n(.*?)\n```", block, re.S)[1]
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_ruff_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0 and "No module named ruff" in r.stderr:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    assert r.returncode == 0, r.stdout + r.stderr
