"""Servers a chapter starts (the blog under uvicorn) and the traffic it sends them.

They are always stopped, however the notebook ends:

- `stop()` / `stop_all()`, from the chapter's own cells;
- when this Python process exits (a kernel shut down or restarted runs `atexit`);
- when it dies without exiting (a killed kernel): on Linux the kernel's death sends the server
  SIGTERM (PR_SET_PDEATHSIG); everywhere, the chapter's next setup reads the pid file that
  `start()` keeps in the sandbox and stops what is still running (`stop_leftovers`).

A server runs in its own process group, so stopping it also stops what it started. Traffic
runs in threads of this process and is bounded in requests and in time: it stops by itself.
"""

import atexit
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PID_FILE = ".servers.json"


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    sandbox: Path
    log_path: Path
    field: str = "title"  # what the app calls a post's title in its JSON (traffic uses it)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What the server printed so far, with its port and process id made stable."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        text = text.replace(f"127.0.0.1:{self.port}", "127.0.0.1:<port>")
        return re.sub(r"process \[\d+\]", "process [<pid>]", text)

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.load(response)

    def running(self) -> bool:
        return self.process.poll() is None


_servers: list[Server] = []
_lock = threading.Lock()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child, before exec (Linux only)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(
    name: str,
    app: str = "blog.main:app",
    *,
    sandbox: Path | None = None,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    field: str = "title",
    timeout: float = 60,
    die_with_parent: bool = True,
) -> Server:
    """Start `uvicorn app` (or `command`, which gets the port as $PORT) in the sandbox (default:
    the working directory); return once it answers HTTP. Its output goes to `<name>.log`."""
    sandbox = Path(sandbox or Path.cwd()).resolve()
    port = free_port()
    if command is None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
    log_path = sandbox / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=sandbox,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # UVICORN_HOST: a chapter's entrypoint.sh listens where a container would
            # (0.0.0.0) unless told; here, on this machine only.
            env={**os.environ, "UVICORN_HOST": "127.0.0.1", **(env or {}), "PORT": str(port)},
            start_new_session=True,  # its own process group: stopped as a whole
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,
        )
    server = Server(name, process, port, sandbox, log_path, field)
    with _lock:
        _servers.append(server)
        _write_pid_file(sandbox)
    try:
        _wait_until_answering(server, timeout)
    except BaseException:
        stop(server)
        raise
    return server


def _wait_until_answering(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not server.running():
            raise RuntimeError(
                f"{server.name} exited (status {server.process.returncode}):\n"
                + server.log()[-2000:]
            )
        try:
            with urllib.request.urlopen(server.url + "/openapi.json", timeout=5):
                return
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server.name} did not answer in {timeout:.0f} s") from None
            time.sleep(0.1)


def _kill_group(pid: int, timeout: float = 10) -> None:
    """SIGTERM to the process group led by `pid`, SIGKILL if it is still there after timeout."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop(server: Server) -> None:
    """Stop one server (and everything in its process group)."""
    _kill_group(server.process.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(5)
    with _lock:
        if server in _servers:
            _servers.remove(server)
        _write_pid_file(server.sandbox)


def running() -> list[str]:
    """The names of the servers this process started and has not stopped."""
    return [s.name for s in _servers if s.running()]


def stop_all(sandbox: Path | None = None) -> None:
    """Stop every server this process started (in one sandbox, if given)."""
    for server in list(_servers):
        if sandbox is None or server.sandbox == Path(sandbox).resolve():
            stop(server)


def _write_pid_file(sandbox: Path) -> None:
    mine = [s for s in _servers if s.sandbox == sandbox and s.running()]
    path = sandbox / PID_FILE
    if not mine:
        path.unlink(missing_ok=True)
        return
    entries = [
        {"name": s.name, "pid": s.process.pid, "started": _started(s.process.pid)} for s in mine
    ]
    with contextlib.suppress(FileNotFoundError):  # the sandbox may be gone already
        path.write_text(json.dumps(entries))


def _started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def stop_leftovers(sandbox: Path) -> list[str]:
    """Stop the servers an earlier process started in `sandbox` and left running (a kernel
    that died). Only processes that are still the ones recorded (same start time) are
    stopped. Returns their names."""
    stop_all(sandbox)
    path = Path(sandbox) / PID_FILE
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    stopped = []
    for entry in entries:
        started = _started(entry["pid"])
        if started is not None and started == entry.get("started"):
            _kill_group(entry["pid"])
            stopped.append(entry["name"])
    path.unlink(missing_ok=True)
    return stopped


atexit.register(stop_all)


# ----- traffic


@dataclass
class Tally:
    ok: int = 0
    failed: int = 0
    errors: Counter = field(default_factory=Counter)  # what the failures were

    @property
    def requests(self) -> int:
        return self.ok + self.failed


@dataclass
class Traffic:
    """Readers and writers against each server, counted per server."""

    servers: Sequence[Server]
    pause: float = 0.02
    max_requests: int = 3000  # per thread: traffic always ends by itself
    max_seconds: float = 120
    tallies: dict[str, Tally] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.tallies = {s.name: Tally() for s in self.servers}
        for server in self.servers:
            for kind in ("read", "write"):
                t = threading.Thread(target=self._run, args=(server, kind), daemon=True)
                self._threads.append(t)
                t.start()

    def _run(self, server: Server, kind: str) -> None:
        deadline = time.monotonic() + self.max_seconds
        for i in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            error = _request(server, kind, i)
            with self._count_lock:
                tally = self.tallies[server.name]
                if error is None:
                    tally.ok += 1
                else:
                    tally.failed += 1
                    tally.errors[error] += 1
            time.sleep(self.pause)

    def wait_for(self, requests: int, timeout: float = 30) -> None:
        """Wait until every server has answered `requests` requests (bounded in time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            t.requests < requests for t in self.tallies.values()
        ):
            time.sleep(0.02)

    def stop(self, *, at_least: int = 10, timeout: float = 30) -> None:
        """Stop after each server has answered `at_least` more requests (bounded in time)."""
        with self._count_lock:
            marks = {name: t.requests + at_least for name, t in self.tallies.items()}
        deadline = time.monotonic() + timeout
        while (
            time.monotonic() < deadline
            and any(self.tallies[n].requests < m for n, m in marks.items())
            and any(t.is_alive() for t in self._threads)
        ):
            time.sleep(0.02)
        self._stop.set()
        for t in self._threads:
            t.join(timeout=35)


def _request(server: Server, kind: str, i: int) -> str | None:
    """One read (GET /api/posts) or write (POST /api/posts); None if it succeeded."""
    if kind == "read":
        request = urllib.request.Request(server.url + "/api/posts")
    else:
        body = {server.field: f"{server.name} post {i}", "content": "Traffic.", "user_id": 1}
        request = urllib.request.Request(
            server.url + "/api/posts",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return None
    except urllib.error.HTTPError as err:
        return f"{err.code} {err.reason}"
    except OSError as err:
        return type(err).__name__


_traffic: list[Traffic] = []


@contextlib.contextmanager
def traffic(*servers: Server, at_least: int = 10) -> Iterator[Traffic]:
    """Send reads and writes to the servers while the block runs, and `at_least` more requests
    to each after it ends (whatever happened inside), then stop."""
    t = Traffic(servers)
    _traffic.append(t)
    t.start()
    try:
        yield t
    finally:
        t.stop(at_least=at_least)
        _traffic.remove(t)


def _stop_traffic() -> None:
    for t in list(_traffic):
        t.stop(at_least=0, timeout=0)


atexit.register(_stop_traffic)
