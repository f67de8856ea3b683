"""The README's main command starts JupyterLab, and its kernel reaches PostgreSQL."""

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

from tornado.websocket import websocket_connect

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.settings import ROOT

CELL = """
from workshop_app.workshop.backend import current
with current().connect() as conn:
    print("answer", conn.execute("SELECT 6 * 7").fetchone()[0])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, token: str, method: str = "GET") -> dict:
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
        data=b"{}" if method == "POST" else None,
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


async def run_cell(ws_url: str, code: str) -> tuple[str, str]:
    """Execute `code` over the kernel's websocket; return its stdout and reply status."""
    ws = await websocket_connect(ws_url)
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False},
    }))  # fmt: skip
    stdout, status = "", ""
    while not status:
        msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            stdout += msg["content"]["text"]
        elif msg["msg_type"] in ("error", "execute_reply"):
            status = msg["content"].get("status", "error")
            stdout += "".join(msg["content"].get("traceback", []))
    ws.close()
    return stdout, status


def test_make_lab_serves_jupyterlab_whose_kernel_queries_postgresql(backend: Backend) -> None:
    port, token = free_port(), secrets.token_hex(16)
    args = f"--no-browser --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    lab = subprocess.Popen(
        ["make", "lab", f"LAB_ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status = api(base, "/api/status", token)
                break
            except OSError:
                assert lab.poll() is None, lab.stdout.read()
                assert time.monotonic() < deadline, "JupyterLab did not answer in 90 s"
                time.sleep(0.5)
        assert "started" in status
        lab_page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10).read()
        assert b"JupyterLab" in lab_page

        kernel = api(base, "/api/kernels", token, method="POST")
        assert kernel["name"] == "python3"
        ws_url = f"ws://127.0.0.1:{port}/api/kernels/{kernel['id']}/channels?token={token}"
        stdout, reply = asyncio.run(run_cell(ws_url, CELL))
        assert reply == "ok", stdout
        assert "answer 42" in stdout
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
