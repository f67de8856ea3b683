"""The README's main command starts JupyterLab (the `jupyterlab` fixture runs `make lab`), and
its kernel reaches PostgreSQL."""

import asyncio
import json
import re
import time
import urllib.request
import uuid

from helpers import Lab, api, execute_cell
from tornado.websocket import websocket_connect

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.urls import show

CELL = """
from workshop_app.workshop.backend import current
with current().connect() as conn:
    print("answer", conn.execute("SELECT 6 * 7").fetchone()[0])
"""


async def run_cell(ws_url: str, code: str) -> tuple[str, str]:
    """Execute `code` over the kernel's websocket; return its output and reply status."""
    session = uuid.uuid4().hex
    ws = await websocket_connect(f"{ws_url}&session_id={session}")  # as JupyterLab connects
    try:
        return await execute_cell(ws, code, session=session)
    finally:
        ws.close()


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


UNTRUSTED = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "c1",
            "metadata": {},
            "outputs": [],
            "source": "print(1)",
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def wait_for(output: list[str], prefix: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in output if line.startswith(prefix)]
        if found:
            return found[0].rstrip("\n")
        time.sleep(0.2)
    raise AssertionError(f"no line starting {prefix!r} in:\n{''.join(output)}")


def test_make_lab_ends_with_one_line_to_act_on_and_routine_warnings_stay_out(
    backend: Backend, jupyterlab: Lab
) -> None:
    """The URL with its token and the server in use, last; then a notebook that is not trusted
    and a kernel (which warns about TCP) bring no new lines. The fixture names a browser that
    does not exist, so JupyterLab's "No web browser found" is among what was dropped."""
    base, token = jupyterlab.base, jupyterlab.token
    ready = wait_for(jupyterlab.output, "JupyterLab is ready: open ")
    url = re.search(r"open (\S+)", ready)[1]
    assert url.endswith(f"/lab?token={token}")  # the fixture serves a folder of its own
    assert urllib.request.urlopen(url.replace("localhost", "127.0.0.1"), timeout=10).status == 200
    assert f"course server: PostgreSQL {backend.server_version()}, " in ready
    assert ("embedded PostgreSQL" if backend.server else show(backend.admin_url)) in ready

    (jupyterlab.root / "untrusted.ipynb").write_text(json.dumps(UNTRUSTED))
    try:
        api(base, "/api/contents/untrusted.ipynb", token)  # "Notebook ... is not trusted"
        kernel = api(base, "/api/kernels", token, method="POST")  # "... TCP without encryption"
        stdout, reply = asyncio.run(
            run_cell(
                base.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={token}",
                "print('kernel up')",
            )
        )
        assert reply == "ok" and "kernel up" in stdout
        time.sleep(2)  # JupyterLab's log reaches the pipe
    finally:
        (jupyterlab.root / "untrusted.ipynb").unlink()
    printed = "".join(jupyterlab.output)
    after = printed.split(ready, 1)[1]
    assert after.strip() == "", f"lines after the ready line:\n{after}"
    for routine in ("No web browser found", "is not trusted", "TCP without encryption", "[I "):
        assert routine not in printed, printed
    assert printed.count("?token=") == 1, printed  # one URL, not the banner of three
