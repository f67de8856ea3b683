"""Shared fixtures. Every database test talks to the configured PostgreSQL: the embedded
server by default, any server when DATABASE_URL is set (.ci/run runs both)."""

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from workshop_app.workshop.backend import Backend, current
from workshop_app.workshop.embedded import ROOT_BASE, EmbeddedServer, is_root


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
