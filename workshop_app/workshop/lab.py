"""`workshop lab`: JupyterLab on the first chapter, its start-up ending in one line to act on.

Left alone, JupyterLab prints a screenful at start and routine warnings as you work (no browser
found on a headless machine, a kernel over TCP without encryption, a notebook not trusted yet)
that bury the URL. Here it runs as a child process at log level WARN; its routine warnings are
dropped, everything else passes through, and once it answers, one line says which URL to open
(with its token) and which PostgreSQL the course uses. Ctrl+C reaches JupyterLab as usual.
"""

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import IO
from urllib.parse import quote

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.urls import show

READY_TIMEOUT_S = 120
# Quieter than JupyterLab's INFO; a user's own --ServerApp.log_level=... comes later and wins.
QUIET = ["--ServerApp.log_level=WARN", "--LabApp.log_level=WARN"]

# Lines that are routine, not a problem to act on. Each names the message it drops.
ROUTINE = re.compile(
    r"No web browser found"  # headless machines, containers, Codespaces
    r"|Notebook .* is not trusted"  # every notebook opened before it is saved once
    r"|running over TCP without encryption"  # ipykernel 7's note on its local ports
    r"|websocket_ping_timeout"  # jupyter-server's own defaults disagree, at every connection
    r"|^\[C [^\]]*\]\s*$"  # the header of the start-up banner below
    r"|^\s*$"
    r"|^\s+(To access the server|Or copy and paste one of these URLs)"
    r"|^\s+file://\S*jpserver-\S*\.html$"
    r"|^\s+https?://\S+$"  # the banner's URLs: the ready line gives the one to open
)


def is_routine(line: str) -> bool:
    return bool(ROUTINE.search(line.rstrip("\n")))


def relay(stream: IO[str], out: IO[str]) -> None:
    """Copy JupyterLab's log to `out`, less the routine lines."""
    for line in stream:
        if not is_routine(line):
            out.write(line)
            out.flush()


def server_line(backend: Backend) -> str:
    """Which PostgreSQL the course uses, password masked."""
    where = backend.source if backend.server is not None else show(backend.admin_url)
    return f"PostgreSQL {backend.server_version()}, {where}"


def open_url(info: dict, notebook: Path | None) -> str:
    """The URL to open: the first chapter when JupyterLab serves it, with the token."""
    path = "lab"
    root = Path(info["root_dir"]).resolve()
    if notebook is not None and notebook.resolve().is_relative_to(root):
        path = "lab/tree/" + quote(notebook.resolve().relative_to(root).as_posix())
    token = f"?token={info['token']}" if info.get("token") else ""
    return f"{info['url']}{path}{token}"


def wait_until_ready(pid: int, runtime_dir: Path, child: subprocess.Popen) -> dict | None:
    """The server's own record (jpserver-PID.json) once it answers; None if it stopped."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    record = runtime_dir / f"jpserver-{pid}.json"
    while child.poll() is None and time.monotonic() < deadline:
        try:
            info = json.loads(record.read_text())
            auth = {"Authorization": f"token {info['token']}"}
            req = urllib.request.Request(f"{info['url']}api/status", headers=auth)
            urllib.request.urlopen(req, timeout=5).close()
            return info
        except (OSError, ValueError, KeyError):
            time.sleep(0.3)
    return None


def run(args: Iterable[str], backend: Backend, notebook: Path | None) -> int:
    """Run JupyterLab with `args` from this Python, relay its log, print the ready line."""
    from jupyter_core.paths import jupyter_runtime_dir

    cmd = [sys.executable, "-m", "jupyterlab", *QUIET, *args]
    child = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, bufsize=1)
    assert child.stderr is not None
    relay_thread = threading.Thread(target=relay, args=(child.stderr, sys.stderr), daemon=True)
    relay_thread.start()
    # Ctrl+C goes to JupyterLab (the whole foreground group gets it): it asks, then stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    info = wait_until_ready(child.pid, Path(jupyter_runtime_dir()), child)
    if info is not None:
        print(
            f"JupyterLab is ready: open {open_url(info, notebook)}  "
            f"(course server: {server_line(backend)})",
            flush=True,
        )
    code = child.wait()
    relay_thread.join(5)
    return code
