"""`workshop check`: run every chapter headless, as the course's tests do, and say which pass.

Each notebook runs in its own `pytest --nbval` process (a fresh kernel, outputs compared with
the committed ones through notebooks/nbval_sanitize.cfg), up to `jobs` at a time. A line is
printed as each one finishes; a failing notebook's report follows in full.

The chapters run in a sandbox folder of their own (a temporary one) and with databases of their
own (learner `<you>_check_<hash>`, see settings.check_slug), so a check never resets what a
learner has open in JupyterLab. One check at a time per server and learner: a second one says so
and stops.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fasteners

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.errors import WorkshopError
from workshop_app.workshop.settings import ROOT, check_slug


@dataclass(frozen=True)
class Result:
    notebook: Path
    ok: bool
    seconds: float
    report: str


def check_backend(backend: Backend) -> Backend:
    """This learner's check on this server, as its kernels see it (WORKSHOP_CHECK_OF names the
    learner; its slug is check_slug's, distinct from every learner's own)."""
    return dataclasses.replace(backend, learner=check_slug(backend.learner))


@contextmanager
def own_place(backend: Backend) -> Iterator[dict[str, str]]:
    """The environment of a check's kernels: its own learner, and fresh folders for the
    sandbox, IPython and Jupyter's runtime files, held under a lock per server and learner.
    Raises WorkshopError while another check holds it."""
    learner = check_slug(backend.learner)
    server = str(backend.server.home) if backend.server else backend.admin_url.render_as_string()
    key = hashlib.sha256(f"{server}\0{learner}".encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"workshop-check-{key}.lock"
    lock = fasteners.InterProcessLock(str(lock_path))
    if not lock.acquire(blocking=False):
        raise WorkshopError(
            f"Another `workshop check` is running on this server (learner {learner!r}, lock "
            f"{lock_path}).",
            "wait until it finishes, then run yours; two at once would reset each other's "
            "chapters.",
        )
    # Inside the checkout (.workshop/ is ignored by git), as notebooks/sandbox is: tools such as
    # ruff, run by alembic's hooks, read the course's pyproject.toml from a parent folder.
    (ROOT / ".workshop").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="check-", dir=ROOT / ".workshop"))
    try:
        yield {
            "WORKSHOP_CHECK_OF": backend.learner,
            "WORKSHOP_SANDBOX_DIR": str(home / "sandbox"),
            # The kernels' IPython history and connection files: the check's, not the learner's.
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)
        lock.release()


def run_one(notebook: Path, place: dict[str, str]) -> Result:
    # JUPYTER_PLATFORM_DIRS as `make` sets it (Jupyter's new paths)
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", **place}
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "testpaths=",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--color=no",
            str(notebook),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    return Result(notebook, proc.returncode == 0, time.perf_counter() - started, proc.stdout)


def check(notebooks: list[Path], jobs: int, backend: Backend) -> int:
    with own_place(backend) as place:
        return run_all(notebooks, jobs, place)


def run_all(notebooks: list[Path], jobs: int, place: dict[str, str]) -> int:
    started = time.perf_counter()
    width = max(len(n.name) for n in notebooks)
    print(
        f"Running {len(notebooks)} notebooks, {jobs} at a time, in a sandbox and databases "
        f"of their own (learner {check_slug(place['WORKSHOP_CHECK_OF'])!r}) ...",
        flush=True,
    )
    results = []
    # Longest first (most shell commands, then largest), so no long one starts last.
    order = sorted(
        notebooks, key=lambda n: (n.read_text().count('"!'), n.stat().st_size), reverse=True
    )
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed(pool.submit(run_one, n, place) for n in order):
            r = future.result()
            results.append(r)
            print(
                f"  {r.notebook.name:{width}}  {'pass' if r.ok else 'FAIL'}  {r.seconds:5.1f} s",
                flush=True,
            )
    failed = [r for r in results if not r.ok]
    for r in sorted(failed, key=lambda r: r.notebook.name):
        print(f"\n===== {r.notebook.name} =====\n{r.report.rstrip()}")
    print(
        f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 1 if failed else 0
