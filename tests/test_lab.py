"""The README's main command starts JupyterLab (the `jupyterlab` fixture runs `make lab`), and
its kernel reaches PostgreSQL."""

import asyncio
import json
import urllib.request
import uuid

from helpers import Lab, api
from tornado.websocket import websocket_connect

from workshop_app.workshop.backend import Backend

CELL = """
from workshop_app.workshop.backend import current
with current().connect() as conn:
    print("answer", conn.execute("SELECT 6 * 7").fetchone()[0])
"""


async def run_cell(ws_url: str, code: str) -> tuple[str, str]:
    """Execute `code` over the kernel's websocket; return its stdout and reply status."""
    ws = await websocket_connect(ws_url)
    msg_id = uuid.uuid4().hex
    await ws.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                },
            }
        )
    )
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


def test_make_lab_serves_jupyterlab_whose_kernel_queries_postgresql(
    backend: Backend, jupyterlab: Lab
) -> None:
    base, token = jupyterlab.base, jupyterlab.token
    status = api(base, "/api/status", token)
    assert "started" in status
    lab_page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10).read()
    assert b"JupyterLab" in lab_page

    kernel = api(base, "/api/kernels", token, method="POST")
    assert kernel["name"] == "python3"
    ws_url = base.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={token}"
    stdout, reply = asyncio.run(run_cell(ws_url, CELL))
    assert reply == "ok", stdout
    assert "answer 42" in stdout
