"""The course works when something else started JupyterLab (a hub, Binder, VS Code): plain
`jupyter lab` from the course's environment, not `workshop lab` nor `make lab`, with a HOME of
its own, a bare PATH (not the environment's bin), no Jupyter settings, serving a folder outside
the checkout. A chapter's first cell brings up what it needs, `!alembic` finds the course's
Alembic, and the doctor, run in that kernel, finds nothing missing. As root JupyterLab needs
--allow-root, as a hub would pass; CI's last step runs this again as an ordinary user."""

import asyncio
import dataclasses
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import exercise_support
from helpers import api, free_port, stop_process_group, wait_for_jupyter
from test_lab import run_cell

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.embedded import is_root
from workshop_app.workshop.settings import ROOT, learner_slug


def first_cell(chapter: str) -> str:
    nb = json.loads(next((ROOT / "notebooks").glob(f"{chapter}-*.ipynb")).read_text())
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


CHECKS = """
import subprocess
from workshop_app.workshop.doctor import report, run_checks
print(subprocess.run(["alembic", "--version"], capture_output=True, text=True).stdout)
print(report(run_checks()))
"""


def test_a_chapter_runs_in_a_jupyterlab_that_the_course_did_not_start(
    backend: Backend, tmp_path: Path
) -> None:
    home, served = tmp_path / "home", tmp_path / "served"
    home.mkdir()
    served.mkdir()
    (ROOT / ".workshop").mkdir(exist_ok=True)  # the sandbox in the checkout, as make lab's test
    sandbox = ROOT / ".workshop" / f"test-outside-{uuid.uuid4().hex[:8]}"
    learner = f"t_hub_{uuid.uuid4().hex[:8]}"
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "WORKSHOP_LEARNER": learner,
        "WORKSHOP_SANDBOX_DIR": str(sandbox),
    }
    if os.environ.get("WORKSHOP_DATABASE_URL"):  # the server this test session uses
        env["WORKSHOP_DATABASE_URL"] = os.environ["WORKSHOP_DATABASE_URL"]
    port, token = free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).parent / "jupyter"
    lab = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={served}",
            *(["--allow-root"] if is_root() else []),
        ],
        cwd=served,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_jupyter(base, token, lab, lambda: lab.stderr.read() if lab.stderr else "")
        kernel = api(base, "/api/kernels", token, method="POST")
        ws = base.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={token}"

        stdout, reply = asyncio.run(run_cell(ws, first_cell("02")))
        assert reply == "ok", stdout
        assert "Chapter 02 is ready" in stdout

        stdout, reply = asyncio.run(run_cell(ws, CHECKS))
        assert reply == "ok", stdout
        assert "alembic 1." in stdout.lower()  # the course's, though PATH did not name it
        assert "0 FAIL" in stdout, stdout
        assert re.search(rf"OK +learner prefix +ws_{learner}__\n", stdout), stdout
    finally:
        stop_process_group(lab)
        exercise_support.drop_learner(dataclasses.replace(backend, learner=learner_slug(learner)))
        shutil.rmtree(sandbox, ignore_errors=True)
