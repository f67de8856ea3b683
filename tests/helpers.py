"""Helpers the tests share (fixtures stay in conftest.py): servers, connections, the Jupyter API."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from tornado.websocket import WebSocketClientConnection

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.settings import WorkshopSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class AdminServer:
    """A server as a class shares it: URLs of its superuser and of a least-privileged admin
    (LOGIN CREATEDB CREATEROLE, no superuser), both with passwords."""

    superuser_url: str
    admin_url: str


LEAST_ADMIN = "CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}"


def add_least_admin(superuser_url: str, name: str, password: str) -> str:
    from psycopg import sql

    with connect(superuser_url.replace("+psycopg", "")) as conn:
        conn.execute(sql.SQL(LEAST_ADMIN).format(sql.Identifier(name), sql.Literal(password)))
    return superuser_url.replace("postgresql+psycopg://", "", 1).split("@", 1)[1]


PG15_SUPERUSER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# A test marked so runs on the configured server, then on the PostgreSQL 18 of the test session
# that asks for passwords (conftest's pg18_password), as its least-privileged admin. Its module
# overrides `backend` with one that returns each_server(backend, request).
ON_EACH_SERVER = pytest.mark.parametrize("backend", ["configured", "pg18_password"], indirect=True)


def each_server(configured: Backend, request: pytest.FixtureRequest) -> Backend:
    """The server a test marked ON_EACH_SERVER runs on (else the configured one), for the test
    and for the `workshop` commands it runs (WORKSHOP_DATABASE_URL, for this test only)."""
    if getattr(request, "param", "configured") == "configured":
        return configured
    url = request.getfixturevalue(request.param).admin_url
    request.getfixturevalue("monkeypatch").setenv("WORKSHOP_DATABASE_URL", url)
    return choose_backend(WorkshopSettings(workshop_database_url=url))


def connect(url_or_conninfo: str, **kw: object) -> psycopg.Connection:
    return psycopg.connect(url_or_conninfo, autocommit=True, connect_timeout=5, **kw)


def api(base: str, path: str, token: str, method: str = "GET") -> dict:
    """A call to the Jupyter server's REST API."""
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
        data=b"{}" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


@dataclass(frozen=True)
class Lab:
    base: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the folder it serves
    env: dict[str, str]  # its environment: settings, workspace, sandbox, learner of its own
    output: list[str]  # what `make lab` printed so far, a line an item


def wait_for_jupyter(
    base: str,
    token: str,
    process: subprocess.Popen,
    log: str | Callable[[], str] = "",
    seconds: float = 90,
) -> None:
    """Until a Jupyter server answers at `base`; fail with its log if `process` stops first.
    `log` is the text so far, or a callable that returns it."""

    deadline = time.monotonic() + seconds
    while True:
        try:
            api(base, "/api/status", token)
            return
        except OSError:
            if process.poll() is not None:
                raise AssertionError(log() if callable(log) else log) from None
            assert time.monotonic() < deadline, f"Jupyter did not answer in {seconds} s"
            time.sleep(0.5)


async def execute_cell(
    ws: WebSocketClientConnection,
    code: str,
    *,
    session: str,
    username: str = "test",
    timeout: float = 60,
) -> tuple[str, str]:
    """Run `code` over a kernel's websocket as JupyterLab does; return its output (streams and
    tracebacks) and the reply's status. Done when the kernel has replied and gone idle: the
    reply (shell channel) may overtake the last output (iopub)."""

    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "username": username,
        "session": session,
        "version": "5.3",
    }
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
    }
    message = {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": content,
    }
    await ws.write_message(json.dumps(message))
    output, status, idle = "", "", False
    while not (status and idle):
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        assert raw is not None, "the kernel's websocket closed"
        msg = json.loads(raw)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, body = msg["msg_type"], msg["content"]
        if kind == "stream":
            output += body["text"]
        elif kind == "error":
            output += "\n".join(body.get("traceback", []))
        elif kind == "execute_reply":
            status = body.get("status", "error")
        elif kind == "status":
            idle = body["execution_state"] == "idle"
    return output, status


def stop_process_group(process: subprocess.Popen, seconds: float = 15) -> None:
    """Stop a server started with start_new_session=True, with its children (kernels)."""

    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
