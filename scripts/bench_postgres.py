"""Time the embedded server's life cycle and database creation; print a table.

    .venv/bin/python scripts/bench_postgres.py [--setup]

--setup also times a fresh setup: clone this checkout and run `make .venv/.installed` there.
Targets on a 2-core machine: cold start <= 3 s, warm start <= 1.5 s, attach <= 0.2 s,
create database <= 0.3 s.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from timing import print_table, timed

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.embedded import ROOT_BASE, EmbeddedServer, is_root
from workshop_app.workshop.settings import ROOT

TARGETS = {
    "cold start": 3.0,
    "warm start": 1.5,
    "attach": 0.2,
    "create + drop db (first)": 0.3,
    "create + drop db (warm)": 0.3,
}


def run(repeat: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {k: [] for k in TARGETS}
    for _ in range(repeat):
        base = ROOT_BASE if is_root() else Path(tempfile.gettempdir())
        home = base / f"bench-{uuid.uuid4().hex[:8]}"
        server = EmbeddedServer(home)
        try:
            results["cold start"].append(timed(server.start))
            server.stop()
            results["warm start"].append(timed(server.start))
            results["attach"].append(timed(EmbeddedServer(home).start))
            backend = Backend("embedded", "bench", server.admin_url(), "bench", server)
            for key in ("create + drop db (first)", "create + drop db (warm)"):
                results[key].append(
                    timed(lambda b=backend: (b.create_database("x"), b.drop_database("x")))
                )
        finally:
            server.stop()
            shutil.rmtree(home, ignore_errors=True)
    return results


def fresh_setup() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "course"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        return timed(
            lambda: subprocess.run(["make", "-s", ".venv/.installed"], cwd=clone, check=True)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--setup", action="store_true", help="also time a fresh setup")
    args = parser.parse_args()
    print(f"embedded PostgreSQL, {args.repeat} runs each", file=sys.stderr, flush=True)
    rows = [
        (name, statistics.median(t), max(t), TARGETS[name]) for name, t in run(args.repeat).items()
    ]
    if args.setup:
        print("timing a fresh setup (clone + make .venv/.installed) ...", file=sys.stderr)
        seconds = fresh_setup()
        rows.append(("fresh setup (venv + install)", seconds, seconds, None))
    print_table(
        ("step", "median s", "max s", "target s"),
        [(name, median, worst, target or "-") for name, median, worst, target in rows],
    )


if __name__ == "__main__":
    main()
