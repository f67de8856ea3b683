"""A room of N learners at once on one PostgreSQL: each resets chapters and runs a migration.

    .venv/bin/python scripts/bench_room.py [-n 40] [--chapters 03 04]
    WORKSHOP_DATABASE_URL=postgresql+psycopg://ADMIN@HOST:PORT/postgres python scripts/bench_room.py

Without WORKSHOP_DATABASE_URL it starts a throw-away embedded server on 127.0.0.1 with passwords
(as a room uses it). It makes a room of N learners (`workshop room add`), starts one process per
learner (a kernel's worth: Python with the course imported), lets them all go at once, and each
resets the chapters (`reset.reset`: sandbox, role, databases from templates or built) and runs
`alembic upgrade head` in the last chapter's sandbox, as the learner's terminal would. It prints
whether all succeeded, the total time, per-learner median and worst, and the peak of client
connections and of the server's memory (PSS of its processes, sampled). The room is dropped
afterwards, and the throw-away server removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

WORKER_ENV_DROP = ("WORKSHOP_DATABASE_URL", "DATABASE_URL", "WORKSHOP_LEARNER", "JUPYTERHUB_USER")


def worker(chapters: list[str]) -> int:
    """One learner: imports first, says so, waits for "go", then does the work and reports."""
    from workshop_app.workshop.exercises.scratch import run_alembic
    from workshop_app.workshop.reset import reset

    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    steps, ok, error = {}, True, ""
    try:
        for number in chapters:
            t = time.perf_counter()
            ch, _, _ = reset(number)
            steps[f"reset {number}"] = time.perf_counter() - t
        t = time.perf_counter()
        result = run_alembic(ch.sandbox, "upgrade", "head")
        steps["alembic upgrade head"] = time.perf_counter() - t
        if result.returncode != 0:
            ok, error = False, (result.stderr or result.stdout).strip().splitlines()[-1]
    except Exception as err:
        ok, error = False, f"{type(err).__name__}: {err}"
    total = time.perf_counter() - started
    import resource

    rss = max(
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    report = {"ok": ok, "seconds": total, "steps": steps, "error": error, "rss_kib": rss}
    print(json.dumps(report), flush=True)
    return 0 if ok else 1


class Sampler(threading.Thread):
    """Peak client connections and server memory, sampled while the room works."""

    def __init__(self, conninfo: str) -> None:
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.stop = threading.Event()
        self.peak_connections = 0
        self.peak_pss = 0

    def run(self) -> None:
        import psutil
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            tick = 0
            while not self.stop.is_set():
                rows = conn.execute("SELECT pid, backend_type FROM pg_stat_activity").fetchall()
                clients = sum(1 for _, kind in rows if kind == "client backend") - 1  # not us
                self.peak_connections = max(self.peak_connections, clients)
                if tick % 5 == 0:  # memory every ~0.25 s: reading smaps is not free
                    pss = 0
                    for pid, _ in rows:
                        try:
                            pss += psutil.Process(pid).memory_full_info().pss
                        except (psutil.Error, AttributeError):
                            continue
                    self.peak_pss = max(self.peak_pss, pss)
                tick += 1
                self.stop.wait(0.05)


def server_cpu_seconds(conninfo: str) -> float | None:
    """CPU time the server's processes used so far (the postmaster's reaped children and its
    own), when it runs on this machine and we may read its pid file; else None."""
    import psutil
    import psycopg

    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            data = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
        pid = int((Path(data) / "postmaster.pid").read_text().split()[0])
        proc = psutil.Process(pid)
        times = proc.cpu_times()
        live = sum(sum(c.cpu_times()[:2]) for c in proc.children())
        return times.user + times.system + times.children_user + times.children_system + live
    except (OSError, ValueError, IndexError, psutil.Error, psycopg.Error):
        return None


def throwaway_server(home: Path):
    import secrets
    import socket

    from workshop_app.workshop.embedded import EmbeddedServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = EmbeddedServer(home, port=port, password=secrets.token_urlsafe(12))
    server.start()
    return server


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", "--learners", type=int, default=40)
    p.add_argument("--chapters", nargs="+", default=["03", "04"])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.chapters)

    from workshop_app.workshop import room
    from workshop_app.workshop.backend import Backend, choose_backend
    from workshop_app.workshop.embedded import ROOT_BASE, is_root
    from workshop_app.workshop.settings import ROOT
    from workshop_app.workshop.urls import libpq_conninfo, show

    scratch = Path(tempfile.mkdtemp(prefix="bench-room-"))
    server = None
    if os.environ.get("WORKSHOP_DATABASE_URL"):
        backend = choose_backend()
    else:
        home = ROOT_BASE / f"bench-{uuid.uuid4().hex[:8]}" if is_root() else scratch / "pg"
        server = throwaway_server(home)
        backend = Backend("url", "throw-away embedded server", server.admin_url(), "bench")
    tag = uuid.uuid4().hex[:4]
    names = [f"bench{tag}n{i:02d}" for i in range(args.learners)]
    folder = scratch / "room"
    procs: list[subprocess.Popen[str]] = []
    try:
        with backend.connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            settings = dict(
                conn.execute(
                    "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                    "('max_connections', 'shared_buffers', 'work_mem')"
                ).fetchall()
            )
        print(f"PostgreSQL {version} ({show(backend.admin_url)}); {settings}")
        print(
            f"{args.learners} learners; each: reset {' '.join(args.chapters)}, "
            "alembic upgrade head",
            flush=True,
        )
        room.add(backend, names, folder, None)
        base = {k: v for k, v in os.environ.items() if k not in WORKER_ENV_DROP}
        for name in names:
            sandbox = scratch / "sandboxes" / name
            sandbox.mkdir(parents=True)
            env = base | {
                "WORKSHOP_DATABASE_URL": room.read_seats(folder)[name]
                .url(room.learners_url(backend, None))
                .render_as_string(hide_password=False),
                "WORKSHOP_SANDBOX_DIR": str(sandbox),
            }
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", "--chapters", *args.chapters],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                    cwd=ROOT,
                )
            )
        imports = time.perf_counter()
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        print(
            f"{len(procs)} learner processes imported the course in "
            f"{time.perf_counter() - imports:.1f} s; go.",
            flush=True,
        )
        sampler = Sampler(libpq_conninfo(backend.admin_url))
        cpu_before = server_cpu_seconds(libpq_conninfo(backend.admin_url))
        sampler.start()
        started = time.perf_counter()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=900)
            lines = out.strip().splitlines()
            try:
                results.append(json.loads(lines[-1]))
            except (IndexError, json.JSONDecodeError):
                results.append({"ok": False, "seconds": 0, "steps": {}, "error": err[-300:]})
        total = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        cpu_after = server_cpu_seconds(libpq_conninfo(backend.admin_url))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        if folder.exists():
            dropped, failed = room.drop(backend, names, folder)  # names are slugs
            if failed:
                print("Could not drop:", *failed, sep="\n  ")
        if server is not None:
            server.stop()
            shutil.rmtree(server.home, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    ok = [r for r in results if r["ok"]]
    seconds = sorted(r["seconds"] for r in results)
    print()
    print(f"{'learners':28} {len(results)}")
    verdict = "yes" if len(ok) == len(results) else f"NO: {len(ok)} of {len(results)}"
    print(f"{'all succeeded':28} {verdict}")
    print(f"{'total (all at once)':28} {total:.1f} s")
    print(f"{'per learner, median':28} {statistics.median(seconds):.1f} s")
    print(f"{'per learner, worst':28} {seconds[-1]:.1f} s")
    for step in results[0]["steps"] if results and results[0]["steps"] else []:
        values = [r["steps"][step] for r in ok if step in r["steps"]]
        if values:
            print(
                f"{'  ' + step + ', median/worst':28} {statistics.median(values):.1f} / "
                f"{max(values):.1f} s"
            )
    print(f"{'peak client connections':28} {sampler.peak_connections}")
    print(f"{'peak server memory (PSS)':28} {sampler.peak_pss / 2**20:.0f} MiB")
    if cpu_before is not None and cpu_after is not None:
        print(f"{'server CPU time used':28} {cpu_after - cpu_before:.1f} s")
    rss = sorted(r.get("rss_kib", 0) for r in results)
    print(
        f"{'learner process peak RSS':28} median {statistics.median(rss) / 1024:.0f} MiB, "
        f"worst {rss[-1] / 1024:.0f} MiB"
    )
    print(f"{'machine':28} {os.cpu_count()} CPUs (learners' processes run here too)")
    for r in results:
        if not r["ok"]:
            print(f"  failed: {r['error']}")
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
