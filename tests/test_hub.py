"""The course on a real JupyterHub: three learners log in, the hub starts their servers, and a
chapter runs in each, at the same time, through their servers' kernels, against one shared
PostgreSQL where `workshop room` gave each learner a login of their own (PostgreSQL 18 from the
wheel with passwords over TCP, and the PostgreSQL 15 on 127.0.0.1:5432 when there is one). Every
learner's chapter passes, each learner's databases carry that learner's prefix only, and no
learner's kernel can open another learner's database.

Needs `jupyterhub` (the `hub` extra) and configurable-http-proxy (npm, in .workshop/hub-proxy):
`make test` installs both. Without them the test fails in CI and is skipped elsewhere."""

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import AdminServer
from hub_support import (
    PROXY,
    Hub,
    api,
    execute,
    learner_settings,
    log_in,
    start_hub,
    start_server,
    stop_hub,
    token_for,
)

from workshop_app.workshop import room
from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.settings import ROOT, WorkshopSettings

pytestmark = pytest.mark.hub

CHAPTER = "03-alembic-first-migration.ipynb"  # set-up, roles, autogenerate, upgrades
LEARNERS = ("ada", "grace", "linus")

PROBE = """
import json, os
import workshop_app
from workshop_app.workshop.backend import current
from workshop_app.workshop.chapters import course_names
b = current()
dbs, roles = b.owned(course_names(b))
print("PROBE", json.dumps({"user": os.environ.get("JUPYTERHUB_USER"), "prefix": b.prefix,
      "kind": b.kind, "code": workshop_app.__file__, "home": os.environ["HOME"],
      "owned": dbs, "roles": roles}).encode().hex())  # hex: no path rewriting
"""


def needs_the_hub() -> None:
    """Fail in CI, skip elsewhere, when the hub or its proxy is not installed."""
    import importlib.util

    missing = [
        what
        for what, ok in (
            (
                "jupyterhub (pip install -c constraints.txt -e '.[hub]')",
                importlib.util.find_spec("jupyterhub") is not None,
            ),
            ("configurable-http-proxy (needs Node.js and npm; `make hub-proxy`)", PROXY.exists()),
        )
        if not ok
    ]
    if missing:
        message = "not installed: " + "; ".join(missing) + " — `make test` installs both"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)


def learner_run(hub: Hub, name: str, cells: list[str]) -> dict:
    """One learner: log in, start the server, run the chapter; its kernel and times."""
    client = log_in(hub, name, hub.password)
    assert client is not None, f"{name} could not log in:\n{hub.log_tail()}"
    try:
        token_for(hub, client, name)
    finally:
        client.close()
    start_server(hub, name)
    base = f"/user/{name}/api"
    notebook = api(hub, name, "GET", f"{base}/contents/{CHAPTER}").json()
    assert notebook["type"] == "notebook", notebook
    code = [c["source"] for c in notebook["content"]["cells"] if c["cell_type"] == "code"]
    assert code == cells, f"{name}'s server serves another {CHAPTER}"
    reply = api(
        hub,
        name,
        "POST",
        f"{base}/sessions",
        json={
            "path": CHAPTER,
            "type": "notebook",
            "name": CHAPTER,
            "kernel": {"name": "python3"},
        },
    )
    assert reply.status_code == 201, reply.text
    kernel = reply.json()["kernel"]["id"]
    started = time.monotonic()
    runs = asyncio.run(execute(hub, name, kernel, code))
    finished = time.monotonic()
    failed = [r for r in runs if r.status != "ok"]
    assert not failed and len(runs) == len(code), (
        f"{name}: cell {failed[0].index} of {CHAPTER} failed:\n{failed[0].output}"
        if failed
        else f"{name}: only {len(runs)} cells ran"
    )
    return {"kernel": kernel, "started": started, "finished": finished}


def probe(hub: Hub, name: str, kernel: str) -> dict:
    """What the learner's kernel says about itself and the databases the course made for it."""
    (run,) = asyncio.run(execute(hub, name, kernel, [PROBE]))
    assert run.status == "ok", run.output
    line = next(x for x in run.output.splitlines() if x.startswith("PROBE "))
    return json.loads(bytes.fromhex(line.removeprefix("PROBE ")))


REACH = """
import psycopg
from workshop_app.workshop.backend import current
from workshop_app.workshop.urls import libpq_conninfo
try:
    psycopg.connect(libpq_conninfo(current().url({db!r}))).close()
    print("REACHED", True)
except psycopg.OperationalError:
    print("REACHED", False)
"""


def reaches(hub: Hub, name: str, kernel: str, database: str) -> bool:
    """Whether the learner's kernel, with its settings, can connect to `database`."""
    (run,) = asyncio.run(execute(hub, name, kernel, [REACH.format(db=database)]))
    assert run.status == "ok" and "REACHED" in run.output, run.output
    return "REACHED True" in run.output


def instructor_backend(server: AdminServer) -> Backend:
    """The instructor's backend: the server's least-privileged admin, as `workshop room` runs."""
    settings = WorkshopSettings(
        _env_file=None,
        workshop_database_url=server.admin_url,
        database_url=None,
        workshop_learner="t_hub_instructor",
    )
    return choose_backend(settings)


def test_three_learners_run_a_chapter_at_once_on_a_real_jupyterhub(
    least_admin: AdminServer, tmp_path: Path
) -> None:
    needs_the_hub()
    instructor = instructor_backend(least_admin)
    run = os.urandom(4).hex()
    names = [f"t_hub_{run}_{who}" for who in LEARNERS]  # hub user = learner name = slug
    folder = tmp_path / "room"
    chapter = json.loads((ROOT / "notebooks" / CHAPTER).read_text())
    cells = ["".join(c["source"]) for c in chapter["cells"] if c["cell_type"] == "code"]
    hub = None
    try:
        room.add(instructor, names, folder, None)
        settings = {name: learner_settings(name, folder) for name in names}
        assert all(set(s) == {"WORKSHOP_DATABASE_URL"} for s in settings.values())
        hub = start_hub(tmp_path, settings)
        assert log_in(hub, names[0], "not-the-password") is None  # the password is checked
        assert log_in(hub, "t_hub_stranger", hub.password) is None  # only the room's learners
        with ThreadPoolExecutor(len(names)) as pool:
            futures = [pool.submit(learner_run, hub, n, cells) for n in names]
            runs = [f.result() for f in futures]
        # At the same time: every chapter was still running when the last one started.
        assert max(r["started"] for r in runs) < min(r["finished"] for r in runs)

        probes = {n: probe(hub, n, r["kernel"]) for n, r in zip(names, runs, strict=True)}
        with instructor.connect() as conn:  # the three learners' databases, on the shared server
            every = {
                row[0]
                for row in conn.execute(
                    "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                    (f"ws_t_hub_{run}_",),
                )
            }
        for name, p in probes.items():
            assert p["user"] == name, p  # set by the hub: the server is this learner's
            assert p["kind"] == "url" and p["prefix"] == f"ws_{name}__", p  # from the login
            home = tmp_path / "homes" / name  # the spawner's home, the learner's own course
            assert p["home"] == str(home) and p["code"].startswith(f"{home}/course/"), p
            assert p["owned"], f"{name}'s chapter made no databases"
            assert all(db.startswith(f"ws_{name}__") for db in p["owned"] + p["roles"]), p
            mine = {db for db in every if db.startswith(f"ws_{name}__")}
            assert set(p["owned"]) == mine, (name, p["owned"], mine)
        assert every == set().union(*(set(p["owned"]) for p in probes.values()))

        # Each learner's own login: no kernel can open another learner's database.
        for i, name in enumerate(names):
            theirs = probes[names[i - 1]]["owned"][0]  # the previous learner's
            assert not reaches(hub, name, runs[i]["kernel"], theirs), f"{name} reached {theirs}"
    finally:
        try:
            if hub is not None:
                stop_hub(hub)
        finally:
            dropped, failed = room.drop(instructor, names, folder)
            assert not failed, failed
