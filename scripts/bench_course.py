"""Time what instructors and learners wait for; print a table with each target.

    .venv/bin/python scripts/bench_course.py [--quick]

`workshop` commands (median of 5 starts), a chapter reset from its templates and without them,
`workshop reset` of every chapter with databases (median of 3), what a `!` command and an
`alembic` command cost, then the whole course through `workshop check` (nbval) one chapter at
a time and two at a time, in the same run: each chapter's seconds alone, and how close `-j 2`
comes to half the time of `-j 1` on a 2-core machine. A second table says where each chapter's
time goes: pytest's start, its `alembic` commands (each a new Python process that imports
SQLAlchemy, Alembic, psycopg and the app) and the rest; an estimate, as one `alembic current`
stands for every command and the figures of a shared VM drift by a third between runs (a rest
within that error of zero shows as 0.00). `--quick` skips the course check.

The first rows are this machine's floor: starting Python, and importing SQLAlchemy and psycopg.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from timing import print_table, timed

from workshop_app.workshop.backend import current
from workshop_app.workshop.chapters import STARTS
from workshop_app.workshop.output import wide_terminal_for_shell_commands
from workshop_app.workshop.reset import reset
from workshop_app.workshop.settings import ROOT, chapter_notebooks
from workshop_app.workshop.templates import drop_databases

CHAPTER_LINE = re.compile(r"^\s+(\d\d)-\S+\.ipynb\s+(pass|FAIL)\s+([\d.]+) s$", re.M)
ALEMBIC_COMMAND = re.compile(
    r"\balembic (?:upgrade|downgrade|current|heads|history|stamp|check|"
    r"revision|merge|show|branches)\b"
)


def workshop(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "workshop_app", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)


def command_seconds(*args: str, repeat: int = 5) -> float:
    """Median seconds of a whole `workshop` command (process start included)."""
    return statistics.median(timed(lambda: workshop(*args)) for _ in range(repeat))


def python_seconds(code: str, repeat: int = 5) -> float:
    """Median seconds of `python -c code`: this machine's floor for any command."""
    argv = [sys.executable, "-c", code]
    return statistics.median(timed(lambda: subprocess.run(argv, check=True)) for _ in range(repeat))


def alembic_seconds(repeat: int = 5) -> float:
    """Median seconds of `alembic current` in chapter 07's sandbox, as a chapter's `!alembic`
    runs it: a new process that imports Alembic, SQLAlchemy, the app and psycopg, connects."""
    ch = reset("07")[0]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run() -> None:
        subprocess.run(
            ["alembic", "current"], cwd=ch.sandbox, env=env, check=True, capture_output=True
        )

    return statistics.median(timed(run) for _ in range(repeat))


def alembic_commands(notebook: Path) -> int:
    """How many `alembic` commands a chapter's code cells run."""
    cells = json.loads(notebook.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return sum(len(ALEMBIC_COMMAND.findall(source)) for source in code)


def pytest_start_seconds(repeat: int = 3) -> float:
    """Median seconds of pytest starting and collecting a chapter with nbval: what the course
    check's process for each chapter pays before its kernel starts."""
    notebook = chapter_notebooks()[0]
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co", str(notebook)]
    return statistics.median(
        timed(lambda: subprocess.run(argv, cwd=ROOT, check=True, capture_output=True))
        for _ in range(repeat)
    )


def shell_command_seconds(repeat: int = 20) -> float:
    """Median seconds of a `!true` in a chapter: IPython's pseudo-terminal as the kit sets it
    up, the command itself taking no time."""
    from IPython.utils._process_posix import ProcessHandler

    wide_terminal_for_shell_commands()
    shell = ProcessHandler()
    return statistics.median(timed(lambda: shell.system("true")) for _ in range(repeat))


def course_check(jobs: int) -> tuple[float, dict[str, float]]:
    """`workshop check -j N`: its seconds, and each chapter's own seconds."""
    result: list[subprocess.CompletedProcess[str]] = []
    seconds = timed(lambda: result.append(workshop("check", "-j", str(jobs))))
    return seconds, {n: float(s) for n, _, s in CHAPTER_LINE.findall(result[0].stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the course check")
    args = parser.parse_args()
    backend = current()
    backend.ensure_running()
    rows: list[tuple[str, float, str, str]] = []

    def row(step: str, seconds: float, target: float) -> None:
        goal = f"<= {target:g}"
        rows.append((step, seconds, goal, "yes" if seconds <= target else "NO"))

    rows.append(("python -c pass (this machine's floor)", python_seconds("pass"), "-", "-"))
    for module in ("sqlalchemy", "psycopg"):
        rows.append((f"python -c 'import {module}'", python_seconds(f"import {module}"), "-", "-"))
    for command in (("--help",), ("db", "url"), ("db", "status")):
        row(f"workshop {' '.join(command)}", command_seconds(*command), 0.3)
    drop_databases(backend, "tpl_ch03_")
    row("reset 03 in-process, building its templates", timed(lambda: reset("03")), 3)
    row("reset 03 in-process, from its templates", timed(lambda: reset("03")), 0.5)
    for number, start in STARTS.items():
        if start.postgres:
            seconds = command_seconds("reset", number, repeat=3)
            row(f"workshop reset {number} (whole command)", seconds, 0.5)
    row("a `!` command in a chapter, beyond the command's own time", shell_command_seconds(), 0.05)
    chapters: dict[str, float] = {}
    alembic = 0.0
    start = pytest_start_seconds()
    rows.append(("pytest starts and collects a chapter (nbval)", start, "-", "-"))
    if not args.quick:
        print("running the course check with -j 1, then -j 2 ...", file=sys.stderr, flush=True)
        before = alembic_seconds()
        serial, chapters = course_check(1)
        alembic = (before + alembic_seconds()) / 2  # before and after: the machine drifts
        parallel, _ = course_check(2)
        rows.append(("an `alembic current` in a chapter (whole process)", alembic, "-", "-"))
        for number, seconds in sorted(chapters.items()):
            row(f"chapter {number} alone (nbval)", seconds, 20)
        rows.append(("workshop check -j 1 (whole course)", serial, "-", "-"))
        row("workshop check -j 2 (whole course)", parallel, 0.6 * serial)
        rows.append(
            (
                "-j 2 / -j 1 (ideal on 2 cores: 0.50)",
                parallel / serial,
                "<= 0.6",
                "yes" if parallel <= 0.6 * serial else "NO",
            )
        )
    print_table(("step", "seconds", "target", "met"), rows)
    if chapters:
        print()
        where = []
        for notebook in chapter_notebooks():
            number, count = notebook.name[:2], alembic_commands(notebook)
            if number in chapters:
                spent = count * alembic
                rest = chapters[number] - spent - start
                # One `alembic current` stands for every command: within its error of zero,
                # the chapter's time is all process starts.
                where.append((number, chapters[number], start, count, spent, max(rest, 0.0)))
        header = (
            "chapter",
            "seconds alone",
            "pytest start",
            "`alembic` commands",
            "≈ their seconds",
            "the rest",
        )
        print_table(header, where)


if __name__ == "__main__":
    main()
