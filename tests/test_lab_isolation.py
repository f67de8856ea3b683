"""The tests' JupyterLab (the `jupyterlab` fixture) keeps its state in folders of its own (issue
10: the browser test once wrote into the learner's workspace, and the next `make lab` logged 404s
for a notebook the test had made).

Here the fixture's JupyterLab is used as the browser test uses it: a workspace saved, a setting
changed, a notebook saved (JupyterLab signs it in its trust database), a kernel started for it.
Each write carries a mark of this test (a fresh id, the server's token, the kernel's id, the
notebook's signature). None may turn up in the learner's places: the JupyterLab folders `make lab`
or a plain `jupyter lab` uses with the learner's environment (JUPYTER_PLATFORM_DIRS on, as the
Makefile and `workshop lab` set it, or off: ~/.jupyter), the checkout `make lab` serves (its
notebooks/, with the chapters' sandboxes, and its top folder). Each must turn up in the fixture's
own folders, found there through the server's own answers (its workspace listing, its settings,
its trust database, where it put the kernel's connection file and what its kernel sees).

Folders are scanned for the marks rather than compared before and after: during `make test` other
tests' kernels (nbval, `workshop check`) and the learner's own `make lab` may change them.
"""

import asyncio
import contextlib
import json
import os
import sqlite3
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path
from unittest import mock

import nbformat
from helpers import Lab, execute_cell
from tornado.websocket import websocket_connect

from workshop_app.workshop.sandbox import sandboxes
from workshop_app.workshop.settings import ROOT

SETTING = "@jupyterlab/apputils-extension:themes"  # the settings the theme menu writes


def jupyter_places(env: dict[str, str]) -> dict[str, Path]:
    """Where JupyterLab, and chapters run in its kernels, keep things in environment `env`."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir, jupyter_runtime_dir
    from jupyterlab.commands import get_user_settings_dir, get_workspaces_dir

    with mock.patch.dict(os.environ, env, clear=True):
        places = {
            "workspaces": get_workspaces_dir(),
            "user settings": get_user_settings_dir(),
            "config": jupyter_config_dir(),
            "data": jupyter_data_dir(),
            "runtime": jupyter_runtime_dir(),
            "sandboxes": sandboxes(),
        }
    return {what: Path(where).resolve() for what, where in places.items()}


def learner_places() -> dict[str, Path]:
    """The learner's places: this process's environment is the learner's (the fixture changes
    only its JupyterLab's copy), with JUPYTER_PLATFORM_DIRS on as the Makefile and `workshop
    lab` set it, or off as a plain `jupyter lab` runs (~/.jupyter); the chapters `make lab`
    serves, with their sandboxes (notebooks/sandbox)."""
    places = {"notebooks/ (served by `make lab`)": ROOT / "notebooks"}
    for platform_dirs in ("1", "0"):
        env = {**os.environ, "JUPYTER_PLATFORM_DIRS": platform_dirs}
        for what, where in jupyter_places(env).items():
            places[f"{what} (JUPYTER_PLATFORM_DIRS={platform_dirs})"] = where
    return places


def files(folder: Path) -> Iterable[Path]:
    for parent, _, names in os.walk(folder):
        for name in names:
            yield Path(parent, name)


def holding(folder: Path, marks: dict[str, str]) -> list[str]:
    """Each file under `folder` that holds one of `marks` (in its name or content), and which."""
    found = []
    for path in files(folder):
        try:
            content = path.read_bytes()
        except OSError:  # gone meanwhile (a kernel's connection file), or not ours to read
            continue
        for what, mark in marks.items():
            if mark.encode() in content or mark in path.name:
                found.append(f"{path} holds {what}")
    return found


def request(lab: Lab, method: str, path: str, body: object = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{lab.base}{path}",
        method=method,
        data=data,
        headers={"Authorization": f"token {lab.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        answer = response.read()
    return json.loads(answer) if answer else {}


def signed(db: Path, signature: str) -> bool:
    """Whether a trust database (nbformat's nbsignatures.db) holds `signature`; read-only."""
    if not db.exists():
        return False
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute(
            "SELECT 1 FROM nbsignatures WHERE algorithm = 'sha256' AND signature = ?",
            (signature,),
        ).fetchone()
    conn.close()
    return row is not None


def signature(nb: nbformat.NotebookNode, data_dir: Path) -> str | None:
    """The signature the notebook gets from the Jupyter data folder's secret, if it has one."""
    from nbformat.sign import NotebookNotary

    secret = data_dir / "notebook_secret"
    if not secret.exists():
        return None
    notary = NotebookNotary(data_dir=str(data_dir), db_file=":memory:", secret=secret.read_bytes())
    try:
        return notary.compute_signature(nb)
    finally:
        notary.close()


KERNEL_SEES = """
import json, os
from ipykernel.connect import get_connection_file
print(json.dumps({"env": dict(os.environ), "connection file": get_connection_file()}))
"""


def lab_places(lab: Lab, kernel_id: str) -> dict[str, Path]:
    """JupyterLab's places, as its kernel finds them (the server passes its environment on), and
    the kernel's connection file, which the server wrote."""

    async def run() -> tuple[str, str]:
        session = uuid.uuid4().hex
        url = lab.base.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels"
        ws = await websocket_connect(f"{url}?token={lab.token}&session_id={session}")
        try:
            return await execute_cell(ws, KERNEL_SEES, session=session)
        finally:
            ws.close()

    out, status = asyncio.run(run())
    assert status == "ok", out
    sees = json.loads(out)
    return {**jupyter_places(sees["env"]), "connection file": Path(sees["connection file"])}


def inside(path: Path | str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_the_tests_jupyterlab_writes_nothing_into_the_learners_jupyterlab_folders(
    jupyterlab: Lab,
) -> None:
    lab, mark = jupyterlab, f"isolation-{uuid.uuid4().hex[:12]}"
    own = [lab.root.parent, Path(lab.env["WORKSHOP_SANDBOX_DIR"])]  # the fixture's folders
    places = learner_places()
    problems = [
        f"the fixture's {folder} and the learner's {what} {place} overlap"
        for what, place in places.items()
        for folder in own
        if inside(folder, place) or inside(place, folder)
    ]

    # A workspace, as JupyterLab saves one when a notebook is open (the layout that made the
    # learner's next `make lab` ask for a notebook only the test had).
    notebook = f"{mark}.ipynb"
    workspace = {
        "data": {
            "layout-restorer:data": {
                "main": {"dock": {"type": "tab-area", "widgets": [f"notebook:{notebook}"]}}
            },
            f"notebook:{notebook}": {"data": {"path": notebook, "factory": "Notebook"}},
        },
        "metadata": {"id": mark},
    }
    # A setting, with the mark in a comment (settings files are JSON5).
    before = request(lab, "GET", f"/lab/api/settings/{SETTING}")
    # A notebook saved through the contents API, as JupyterLab's Save does (then signed).
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"print({mark!r})", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{mark}\n")]
    nb.cells = [cell]
    session = None
    try:
        request(lab, "PUT", f"/lab/api/workspaces/{mark}", workspace)
        raw = f'// {mark}\n{{\n  "theme-scrollbars": true\n}}\n'
        request(lab, "PUT", f"/lab/api/settings/{SETTING}", {"raw": raw})
        request(lab, "PUT", f"/api/contents/{notebook}", {"type": "notebook", "content": nb})
        # Opening it starts a kernel for it (its connection file goes to the runtime folder).
        session = request(
            lab,
            "POST",
            "/api/sessions",
            {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}},
        )
        kernel_id = session["kernel"]["id"]
        sees = lab_places(lab, kernel_id)

        # In the fixture's own folders, by the server's own answers.
        listing = request(lab, "GET", "/lab/api/workspaces")["workspaces"]
        assert mark in listing["ids"], listing["ids"]
        stored = {
            json.loads(p.read_text())["metadata"]["id"]
            for p in sees["workspaces"].glob("*.jupyterlab-workspace")
        }
        assert set(listing["ids"]) == stored, "the server's workspaces are not in its folder"
        assert request(lab, "GET", f"/lab/api/settings/{SETTING}")["raw"] == raw
        assert holding(sees["user settings"], {"the setting": mark})
        saved = nbformat.read(lab.root / notebook, as_version=4)
        sig = signature(saved, sees["data"])
        assert sig and signed(sees["data"] / "nbsignatures.db", sig), (
            f"the notebook's signature is not in the trust database of {sees['data']}"
        )
        assert sees["connection file"].parent.resolve() == sees["runtime"]
        for what, where in sees.items():
            if not any(inside(where, folder) for folder in own):
                problems.append(f"JupyterLab's {what} is {where}, not a folder of the fixture's")

        # Nowhere in the learner's places.
        marks = {
            "this test's mark (workspace, setting or notebook)": mark,
            "the tests' JupyterLab's token": lab.token,
            "the kernel's id": kernel_id,
        }
        if (ROOT / notebook).exists():
            problems.append(f"the notebook is in the checkout `make lab` serves: {ROOT / notebook}")
        hits: dict[str, str] = {}  # a file once, though places nest (runtime in data)
        for what, place in places.items():
            if any(inside(place, folder) for folder in own):
                continue  # reported above
            for hit in holding(place, marks):
                hits.setdefault(hit, what)
            learner_sig = signature(saved, place)
            if learner_sig and signed(place / "nbsignatures.db", learner_sig):
                hits.setdefault(f"{place / 'nbsignatures.db'} trusts the notebook", what)
        problems += [f"{what}: {hit}" for hit, what in hits.items()]
        assert not problems, "\n".join(problems)
    finally:  # the fixture's JupyterLab as the next test expects it
        with contextlib.suppress(urllib.error.HTTPError):
            if session is not None:
                request(lab, "DELETE", f"/api/sessions/{session['id']}")
            request(lab, "PUT", f"/lab/api/settings/{SETTING}", {"raw": before["raw"]})
            request(lab, "DELETE", f"/lab/api/workspaces/{mark}")
        (lab.root / notebook).unlink(missing_ok=True)
