"""The command line says what it does: --help shows defaults, exit statuses are the README's,
and a reader that goes away (`| head`) ends a command quietly."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args],
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command's parser by its name: "serve", "cache warm", ..."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found[f"{prefix}{name}"] = child
                    walk(child, f"{prefix}{name} ")

    walk(build_parser(), "")
    return found


def test_every_option_says_its_default_in_help() -> None:
    for name, parser in parsers().items():
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if action.help in (None, argparse.SUPPRESS) or isinstance(
                action, argparse._HelpAction | argparse._SubParsersAction
            ):
                continue
            if action.required or isinstance(action.default, bool):
                continue  # nothing to default, or a flag
            assert "default" in (action.help or "") or f"(default: {action.default})" in text, (
                f"{name} {action.dest}: --help does not say its default"
            )


def test_help_of_warm_and_demo_shows_the_defaults() -> None:
    warm = " ".join(run("cache", "warm", "--help").stdout.split())
    assert "the running server (default: http://127.0.0.1:8080)" in warm
    assert "requests at once (default: 8)" in warm
    demo = " ".join(run("demo", "--help").stdout.split())
    assert "(default: 127.0.0.1)" in demo and "(default: 8080)" in demo
    assert "processes sharing the port (default: 1)" in demo


def readme_exit_codes() -> dict[str, str]:
    """The README's exit status table: command -> the statuses cell text."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit statuses", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)` \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    for command, cell in rows.items():
        same = re.fullmatch(r"as `([^`]+)`", cell)
        if same:
            rows[command] = rows[same.group(1)]
    return rows


def test_readme_lists_the_exit_statuses_of_every_command() -> None:
    rows = readme_exit_codes()
    commands = {name for name, parser in parsers().items() if name != "cache"}
    assert commands | {"python -m proxy.healthcheck"} == set(rows)


def test_exit_statuses_are_what_the_readme_says(tmp_path: Path) -> None:
    rows = readme_exit_codes()
    bad = {"DATA_PATH": str(tmp_path / "data"), "STORAGE_TIMEOUT": "1x"}
    # Invalid settings: 2 ("nothing was done") everywhere but check, where they are problems.
    for command in ("where", "cache stats", "cache purge", "serve", "demo"):
        assert "2 " in rows[command]
        done = run(*command.split(), env=bad, cwd=tmp_path)
        assert done.returncode == 2, command
        assert done.stderr.startswith("error: STORAGE_TIMEOUT='1x' is invalid"), command
    assert run("check", env=bad, cwd=tmp_path).returncode == 1
    assert rows["check"].startswith("0 ")
    # A wrong command line is argparse's 2.
    assert run("serve", "--workers", "0", cwd=tmp_path).returncode == 2
    # migrate: nothing to copy is "nothing was done".
    empty = {"DATA_PATH": str(tmp_path / "data")}
    target = tmp_path / "target.env"
    target.write_text("STORAGE_PROVIDER=http\n")
    done = run("migrate", "--to-env-file", str(target), env=empty, cwd=tmp_path)
    assert done.returncode == 2
    assert "nothing to migrate" in done.stderr


def test_where_shows_sizes_as_settings_not_byte_counts(tmp_path: Path) -> None:
    done = run("where", env={"DATA_PATH": str(tmp_path / "data")}, cwd=tmp_path)
    assert done.returncode == 0
    assert "(size 10g, expires 7d)" in done.stdout
    assert not re.search(r"\d{6,}", done.stdout.replace(str(tmp_path), "")), done.stdout


def test_a_reader_that_went_away_ends_where_quietly(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # every write fails with EPIPE, at once, not only half the time
    try:
        done = subprocess.run(
            [sys.executable, "-m", "proxy", "where"],
            env={"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path / "data")},
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.returncode == 141
    assert done.stderr == ""


@pytest.mark.parametrize("lines", [1, 5])
def test_where_piped_into_head(lines: int, tmp_path: Path) -> None:
    for _ in range(5):
        done = subprocess.run(
            f"set -o pipefail; {sys.executable} -m proxy where | head -{lines}",
            shell=True,
            executable="/bin/bash",
            env={"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path / "data")},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stderr == ""
        assert len(done.stdout.splitlines()) == lines
        assert done.returncode in (0, 141)
