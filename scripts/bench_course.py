"""Time what instructors and learners wait for; print a table.

    .venv/bin/python scripts/bench_course.py

Chapter setup without and with its template databases, each notebook's execution (nbclient,
one at a time), the whole notebook suite one at a time and `workshop check -j 3`, and the export.
Targets on a 2-core machine: setup <= 0.5 s with templates, <= 3 s without; each notebook
< 15 s; all notebooks < 60 s, and <= 30 s in parallel.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from execute_notebooks import execute_copy  # noqa: E402

from workshop_app.workshop.backend import current  # noqa: E402
from workshop_app.workshop.settings import chapter_notebooks  # noqa: E402
from workshop_app.workshop.state import drop_databases, reset  # noqa: E402


def timed(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def command(*args: str) -> float:
    """Seconds a `workshop` command takes; it must succeed."""
    argv = [sys.executable, "-m", "workshop_app", *args]
    return timed(lambda: subprocess.run(argv, cwd=ROOT, capture_output=True, check=True))


def main() -> None:
    rows: list[tuple[str, float, str]] = []
    backend = current()
    backend.ensure_running()
    for number in ("03", "04", "05", "06", "07"):
        drop_databases(backend, f"tpl_ch{number}_")
        rows.append((f"setup ch{number}, building its template", timed(lambda n=number: reset(n)),
                     "<= 3"))  # fmt: skip
        rows.append((f"setup ch{number}, from its template", timed(lambda n=number: reset(n)),
                     "<= 0.5"))  # fmt: skip
    notebooks = chapter_notebooks()
    serial = 0.0
    for path in notebooks:
        seconds = execute_copy(path)
        serial += seconds
        rows.append((f"execute {path.name}", seconds, "< 15"))
    rows.append(("all notebooks, one at a time", serial, "< 60"))
    rows.append(("workshop check -j 3 (nbval, parallel)", command("check", "-j", "3"), "<= 30"))
    with tempfile.TemporaryDirectory() as out:
        rows.append(("workshop export", command("export", "--out", out), "-"))
    print(f"| {'step':48} | seconds | target |")
    print(f"|{'-' * 50}|---------|--------|")
    for name, seconds, target in rows:
        print(f"| {name:48} | {seconds:7.2f} | {target:6} |")


if __name__ == "__main__":
    main()
