"""`workshop check`: run every chapter headless, as the course's tests do, and say which pass.

Each notebook runs in its own `pytest --nbval` process (a fresh kernel, outputs compared with
the committed ones through notebooks/nbval_sanitize.cfg), up to `jobs` at a time. A line is
printed as each one finishes; a failing notebook's report follows in full.
"""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from workshop_app.workshop.settings import ROOT


@dataclass(frozen=True)
class Result:
    notebook: Path
    ok: bool
    seconds: float
    report: str


def run_one(notebook: Path) -> Result:
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}  # as `make` sets it (Jupyter's new paths)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "testpaths=",
         "-c", str(ROOT / "pyproject.toml"), "--color=no", str(notebook)],
        cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    return Result(notebook, proc.returncode == 0, time.perf_counter() - started, proc.stdout)


def check(notebooks: list[Path], jobs: int) -> int:
    started = time.perf_counter()
    width = max(len(n.name) for n in notebooks)
    print(f"Running {len(notebooks)} notebooks, {jobs} at a time ...", flush=True)
    results = []
    # Longest first (most shell commands, then largest), so no long one starts last.
    order = sorted(notebooks, key=lambda n: (n.read_text().count('"!'), n.stat().st_size),
                   reverse=True)  # fmt: skip
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed(pool.submit(run_one, n) for n in order):
            r = future.result()
            results.append(r)
            print(f"  {r.notebook.name:{width}}  {'pass' if r.ok else 'FAIL'}  {r.seconds:5.1f} s",
                  flush=True)  # fmt: skip
    failed = [r for r in results if not r.ok]
    for r in sorted(failed, key=lambda r: r.notebook.name):
        print(f"\n===== {r.notebook.name} =====\n{r.report.rstrip()}")
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    return 1 if failed else 0
