"""The installed ``dispatch`` command, run as a user runs it: in a subprocess, from any folder.

Every user mistake exits with status 2 and a few lines naming what is wrong (and, for usage
errors, how to get help); none prints a traceback. ``python -m dispatch`` is the same program.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dispatch.commands.init import example_files
from dispatch.datasets import DATA_DIR, SCENARIOS_DIR

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "data" / "scenarios" / "base" / "scenario.toml"
MAX_ERROR_LINES = 5


def dispatch_command() -> list[str]:
    """The console script installed beside this interpreter (``.venv/bin/dispatch``)."""
    script = Path(sys.executable).parent / "dispatch"
    assert script.is_file(), f"the dispatch console script is not installed beside {sys.executable}"
    return [str(script)]


def run(
    *args: str, cwd: Path, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(command or dispatch_command()), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Status 2, nothing on stdout, a few lines on stderr with ``words``, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= MAX_ERROR_LINES, result.stderr
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["simulate"], ["Missing argument", "dispatch simulate --help"]),
        (["frobnicate"], ["No such command 'frobnicate'", "dispatch --help"]),
        (["simulate", str(BASE), "--out", "x", "--bogus"], ["No such option: --bogus"]),
        (["data", "check", "log.csv", "--bounds-typo", "1"], ["No such option"]),
        (
            ["simulate", str(BASE), "--out", "x", "--replications", "abc"],
            ["Invalid value for '--replications'", "dispatch simulate --help"],
        ),
        (["simulate", str(BASE), "--out", "x", "--replications", "0"], ["--replications"]),
        (
            ["sweep", str(BASE), "--out", "x", "--workers"],
            ["--workers", "requires an argument", "dispatch sweep --help"],
        ),
    ],
    ids=[
        "missing-argument",
        "unknown-command",
        "unknown-option",
        "unknown-option-of-a-subcommand",
        "wrong-type",
        "out-of-range",
        "option-without-value",
    ],
)
def test_usage_errors_exit_2_with_the_usage_and_a_help_hint(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    result = run(*args, cwd=tmp_path)
    assert_usage_error(result, *words)
    assert "--help' for help." in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "x").exists()


def test_missing_and_unreadable_files_are_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    cases = [
        (["simulate", "missing.toml", "--out", "out"], "missing.toml"),
        (["simulate", str(binary), "--out", "out"], "UTF-8"),
        (["data", "check", "missing.csv"], "missing.csv"),
        (["data", "check", str(folder)], "directory"),
        (["report", "missing-results"], "missing-results"),
        (["simulate", str(BASE), "--out", str(plain / "out")], str(plain)),
    ]
    for args, word in cases:
        result = run(*args, cwd=tmp_path)
        assert_usage_error(result, word)
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: "), (args, line)


def test_a_dispatch_error_keeps_its_one_line_and_its_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.read_text(encoding="utf-8") + "\nsurprise = 1\n", encoding="utf-8")
    (tmp_path / "calls.csv").write_text(
        (BASE.parent / "calls.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = run("simulate", str(bad), "--out", "out", cwd=tmp_path)
    assert_usage_error(result, "surprise")
    assert result.stderr.count("\n") == 1


def test_no_command_shows_the_help(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    shown = result.stdout + result.stderr
    assert "Usage: dispatch" in shown
    for verb in ("demo", "init", "simulate", "sweep", "report", "data", "network"):
        assert verb in shown


def test_help_and_version(tmp_path: Path) -> None:
    helped = run("--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "simulate" in helped.stdout and "--version" in helped.stdout
    from dispatch.cli import package_version

    shown = run("--version", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"dispatch {package_version()}\n"
    assert package_version() != "unknown"


def test_python_dash_m_dispatch_is_the_same_command(tmp_path: Path) -> None:
    module = [sys.executable, "-m", "dispatch"]
    helped = run("--help", cwd=tmp_path, command=module)
    assert helped.returncode == 0, helped.stderr
    assert "simulate" in helped.stdout
    shown = run("--version", cwd=tmp_path, command=module)
    assert shown.stdout == run("--version", cwd=tmp_path).stdout
    assert_usage_error(run("frobnicate", cwd=tmp_path, command=module), "No such command")


# --------------------------------------------------------------------------------------------
# dispatch init


def test_init_copies_the_examples_and_their_data(tmp_path: Path) -> None:
    result = run("init", "mine", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    mine = tmp_path / "mine"
    scenarios = sorted(p.name for p in SCENARIOS_DIR.glob("*.toml"))
    assert sorted(p.name for p in (mine / "scenarios").glob("*.toml")) == scenarios
    for name in scenarios:
        assert f"mine/scenarios/{name}" in result.stdout
    data_files = [p for p in DATA_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for source in data_files:
        copy = mine / "data" / source.relative_to(DATA_DIR)
        assert copy.read_bytes() == source.read_bytes()
    assert (mine / "data" / "denver" / "README.md").is_file()  # licence travels with the data
    assert f"wrote {len(scenarios) + len(data_files)} files" in result.stdout
    assert len(example_files(mine)) == len(scenarios) + len(data_files)


def test_an_initialised_scenario_reads_the_copied_data(tmp_path: Path) -> None:
    assert run("init", "mine", cwd=tmp_path).returncode == 0
    calls = tmp_path / "mine" / "data" / "stlouis" / "calls_2025.csv"
    log = pd.read_csv(calls, dtype=str, keep_default_na=False)
    log.head(50).to_csv(calls, index=False)  # the copy, not the package's file, must be read
    result = run(
        "simulate",
        "mine/scenarios/stlouis_cru.toml",
        "--out",
        "cru",
        "--replications",
        "1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "cru" / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["calls"]["mean"] == 50
    assert len(pd.read_parquet(tmp_path / "cru" / "calls.parquet")) == 50


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    assert run("init", "mine", cwd=tmp_path).returncode == 0
    edited = tmp_path / "mine" / "scenarios" / "stlouis_cru.toml"
    edited.write_text("# my edits\n", encoding="utf-8")
    refused = run("init", "mine", cwd=tmp_path)
    assert_usage_error(refused, "already exist", "--force")
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert edited.read_text(encoding="utf-8") == "# my edits\n"

    forced = run("init", "mine", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "overwrote" in forced.stdout
    assert edited.read_bytes() == (SCENARIOS_DIR / "stlouis_cru.toml").read_bytes()


def test_init_into_a_file_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    assert_usage_error(run("init", "taken", cwd=tmp_path), "not a folder")


def test_init_keeps_files_it_does_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    mine = tmp_path / "mine" / "notes.txt"
    mine.write_text("keep", encoding="utf-8")
    assert run("init", "mine", cwd=tmp_path).returncode == 0
    assert mine.read_text(encoding="utf-8") == "keep"


def test_the_command_exits_with_mains_status_and_the_objects_out_of_the_collectors_reach() -> None:
    # A fresh process: the collector's frozen set is process-wide.
    code = """
import gc, sys
from dispatch import cli
sys.argv = ["dispatch", "simulate"]  # a usage error: status 2
assert gc.get_freeze_count() == 0
try:
    cli.run()
except SystemExit as done:
    print(done.code, gc.get_freeze_count() > 0)  # shutdown's full collections skip them
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "True"], done.stderr
