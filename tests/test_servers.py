"""The app servers and the traffic a chapter starts are always stopped: by the chapter, when
the kernel exits, when it dies (the server dies with it on Linux), and by the next setup."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from workshop_app.workshop import servers
from workshop_app.workshop.reset import reset

APP = """
from fastapi import FastAPI, HTTPException

app = FastAPI()
posts = []


@app.get("/api/posts")
def list_posts():
    return posts


@app.post("/api/posts", status_code=201)
def create_post(body: dict):
    if "title" not in body:
        raise HTTPException(500, "no title")
    posts.append(body)
    return body
"""

KERNEL = """
import sys, time
from pathlib import Path
from workshop_app.workshop import servers

server = servers.start("app", "app:app", sandbox=Path(sys.argv[1]),
                       die_with_parent=sys.argv[2] == "yes")
print(server.process.pid, flush=True)
if sys.argv[3] == "exit":
    sys.exit(0)
time.sleep(600)
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    folder = tmp_path / "ch00"  # reset("00", root=tmp_path) uses this folder
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    return folder


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def kernel(sandbox: Path, *, die_with_parent: bool, then: str) -> tuple[subprocess.Popen, int]:
    """A stand-in for a Jupyter kernel that starts a server; returns it and the server's pid."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KERNEL),
            str(sandbox),
            "yes" if die_with_parent else "no",
            then,
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout
    line = proc.stdout.readline()
    assert line.strip().isdigit(), "the stand-in kernel did not start its server"
    return proc, int(line)


def test_start_serves_logs_and_stop_stops(sandbox: Path) -> None:
    server = servers.start("app", "app:app", sandbox=sandbox)
    try:
        assert server.get("/api/posts") == []
        assert (sandbox / servers.PID_FILE).exists()
        assert "Uvicorn running on http://127.0.0.1:<port>" in server.log()
        assert servers.running() == ["app"]
    finally:
        servers.stop(server)
    assert not alive(server.process.pid)
    assert not (sandbox / servers.PID_FILE).exists()
    assert servers.running() == []


def test_traffic_counts_failures_and_ends_by_itself(sandbox: Path) -> None:
    good = servers.start("good", "app:app", sandbox=sandbox)
    bad = servers.start("bad", "app:app", sandbox=sandbox, field="headline")  # a 500 per write
    try:
        with servers.traffic(good, bad) as t:
            t.wait_for(10)
        assert t.tallies["good"].failed == 0 and t.tallies["good"].requests >= 10
        assert t.tallies["bad"].failed > 0
        assert set(t.tallies["bad"].errors) == {"500 Internal Server Error"}
        assert not any(thread.is_alive() for thread in t._threads)
        bounded = servers.Traffic([good], max_requests=3)
        bounded.start()
        for thread in bounded._threads:
            thread.join(30)
        assert bounded.tallies["good"].requests == 6  # 3 reads and 3 writes, then it stopped
    finally:
        servers.stop_all(sandbox)


def test_a_kernel_that_exits_stops_its_servers(sandbox: Path) -> None:
    proc, pid = kernel(sandbox, die_with_parent=False, then="exit")
    proc.wait(30)
    assert gone_within(pid, 15), "atexit did not stop the server"


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
def test_a_killed_kernel_takes_its_servers_along(sandbox: Path) -> None:
    proc, pid = kernel(sandbox, die_with_parent=True, then="sleep")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert gone_within(pid, 15), "the server outlived its killed kernel"


def test_the_next_setup_stops_what_a_killed_kernel_left(sandbox: Path) -> None:
    proc, pid = kernel(sandbox, die_with_parent=False, then="sleep")
    os.killpg(proc.pid, signal.SIGKILL)  # the kernel dies; atexit never runs
    proc.wait(10)
    try:
        time.sleep(0.5)
        assert alive(pid), "the leftover should still be running before setup"
        reset("00", root=sandbox.parent)  # what setup("00") does first
        assert gone_within(pid, 15), "setup did not stop the leftover server"
        assert not (sandbox.parent / "ch00" / servers.PID_FILE).exists()
    finally:
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_a_recycled_pid_is_not_killed(tmp_path: Path) -> None:
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        (tmp_path / servers.PID_FILE).write_text(
            f'[{{"name": "old", "pid": {bystander.pid}, "started": 1.0}}]'
        )
        assert servers.stop_leftovers(tmp_path) == []
        assert alive(bystander.pid)
    finally:
        bystander.kill()
        bystander.wait()
