"""Shared fixtures. Every database test talks to the configured PostgreSQL: the embedded
server by default, any server when DATABASE_URL is set (.ci/run runs both)."""

import contextlib
import dataclasses
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from alembic.config import Config
from sqlalchemy import Connection, Engine, NullPool, create_engine

from workshop_app.workshop.backend import Backend, current
from workshop_app.workshop.embedded import ROOT_BASE, EmbeddedServer, is_root
from workshop_app.workshop.settings import ROOT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what talks to the configured server: tests using `backend`, and notebook cells."""
    for item in items:
        if "backend" in getattr(item, "fixturenames", ()) or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def backend() -> Backend:
    b = current()
    b.ensure_running()
    return b


@pytest.fixture
def database(backend: Backend) -> Iterator[str]:
    """A fresh database of this test's own; dropped afterwards."""
    short = f"t_{uuid.uuid4().hex[:10]}"
    name = backend.create_database(short)
    yield name
    backend.drop_database(short)


@pytest.fixture
def embedded_home(tmp_path: Path) -> Iterator[Path]:
    """A folder for a throw-away embedded server. As root it must live where the server's
    system user can reach it (see embedded.default_home), not in pytest's private tmp."""
    home = ROOT_BASE / f"test-{uuid.uuid4().hex[:8]}" if is_root() else tmp_path / "pg"
    yield home
    with contextlib.suppress(Exception):  # a test may have left it broken on purpose
        EmbeddedServer(home).stop()
    shutil.rmtree(home, ignore_errors=True)


def connect(url_or_conninfo: str, **kw: object) -> psycopg.Connection:
    return psycopg.connect(url_or_conninfo, autocommit=True, connect_timeout=5, **kw)


@pytest.fixture(scope="session")
def app_database(backend: Backend) -> Iterator[str]:
    """The blog app reads DATABASE_URL when it is first imported. Import it once per test
    process, pointed at an empty database of its own, without changing this process's
    environment (where DATABASE_URL chooses the workshop's server)."""
    short = f"t_app_{uuid.uuid4().hex[:8]}"
    name = backend.create_database(short)
    url = backend.url(name).render_as_string(hide_password=False)
    with mock.patch.dict(os.environ, {"DATABASE_URL": url}):
        import workshop_app.main  # noqa: F401
    yield name
    backend.drop_database(short)


@pytest.fixture
def engine(backend: Backend, database: str, app_database: str) -> Iterator[Engine]:
    """A sync engine on this test's own database (psycopg 3, like the app)."""
    eng = create_engine(backend.url(database), poolclass=NullPool)
    yield eng
    eng.dispose()


def alembic_config(connection: Connection | None = None, script_location: Path | None = None,
                   output: io.StringIO | None = None) -> Config:  # fmt: skip
    """The repository's alembic.ini, driving the given connection (config.attributes)."""
    cfg = Config(str(ROOT / "alembic.ini"), output_buffer=output)
    cfg.attributes["configure_logger"] = False
    if connection is not None:
        cfg.attributes["connection"] = connection
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    return cfg


def api(base: str, path: str, token: str, method: str = "GET") -> dict:
    """A call to the Jupyter server's REST API."""
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
        data=b"{}" if method == "POST" else None,
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


@dataclass(frozen=True)
class Lab:
    base: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the folder it serves
    env: dict[str, str]  # its environment: settings, workspace, sandbox, learner of its own


@pytest.fixture(scope="session")
def jupyterlab(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab started by the README's main command, `make lab`, without a browser, once per
    test session. It serves a temporary folder, keeps settings, workspaces and runtime files in
    folders of its own, and its kernels use a sandbox folder and learner of their own: the
    learner's JupyterLab, chapters and databases never see it. Stopped (with its kernels) and its
    databases dropped afterwards."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "root"
    root.mkdir()
    learner = f"t_lab_{uuid.uuid4().hex[:8]}"
    # In the checkout, as notebooks/sandbox is (ruff, run by alembic's hooks, reads the course's
    # pyproject.toml), but not in it: .workshop/ is ignored by git.
    (ROOT / ".workshop").mkdir(exist_ok=True)
    sandbox = tempfile.mkdtemp(prefix="test-lab-sandbox-", dir=ROOT / ".workshop")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "WORKSHOP_SANDBOX_DIR": sandbox, "WORKSHOP_LEARNER": learner}  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    args = (f"--no-browser --port={port} --ServerApp.port_retries=0"
            f" --IdentityProvider.token={token} --ServerApp.root_dir={root}")  # fmt: skip
    lab = subprocess.Popen(
        ["make", "lab", f"LAB_ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE, env=env,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                api(base, "/api/status", token)
                break
            except OSError:
                assert lab.poll() is None, lab.stdout.read() if lab.stdout else ""
                assert time.monotonic() < deadline, "JupyterLab did not answer in 90 s"
                time.sleep(0.5)
        yield Lab(base, token, root, env)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
        dataclasses.replace(backend, learner=learner).cleanup()
        shutil.rmtree(sandbox, ignore_errors=True)
