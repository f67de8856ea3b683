"""The configured backend: per-learner names, roles with passwords, sharing one server."""

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from conftest import connect

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.settings import WorkshopSettings
from workshop_app.workshop.urls import libpq_conninfo, show


def as_learner(backend: Backend, learner: str) -> Backend:
    return Backend(backend.kind, backend.source, backend.admin_url, learner, backend.server)


def test_names_carry_the_learner_prefix(backend: Backend) -> None:
    alice = as_learner(backend, "alice")
    assert alice.name("ch03") == "ws_alice_ch03"
    with pytest.raises(ValueError):
        alice.name("Robert'); DROP TABLE students;--")


def test_the_learner_defaults_to_a_safe_slug_of_the_given_name() -> None:
    assert WorkshopSettings(workshop_learner="Ana María-López").learner() == "ana_mar_a_l_pez"
    assert WorkshopSettings(workshop_learner="!!!").learner() == "learner"


def test_an_app_role_connects_with_its_password_only(backend: Backend) -> None:
    role, password = backend.create_role("t_app_role")
    database = backend.create_database("t_app_db", owner=role)
    try:
        url = backend.url(database, role, password)
        with connect(libpq_conninfo(url)) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == role
        assert password not in show(url)
        if backend.kind == "embedded":  # other servers (like CI's) may trust every role
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                connect(libpq_conninfo(url, password="wrong"))
    finally:
        backend.drop_database("t_app_db")
        with backend.connect() as conn:
            conn.execute(f'DROP ROLE "{role}"')


def test_two_learners_on_one_server_never_touch_each_other(backend: Backend) -> None:
    learners = [as_learner(backend, name) for name in ("t_ann", "t_bob")]

    def work(b: Backend) -> None:
        for short in ("ch01", "ch02", "ch03"):
            b.create_database(short)
        b.create_role("app")

    with ThreadPoolExecutor(2) as pool:  # at the same time, as in a classroom
        list(pool.map(work, learners))
    ann, bob = learners
    assert ann.owned() == (["ws_t_ann_ch01", "ws_t_ann_ch02", "ws_t_ann_ch03"], ["ws_t_ann_app"])

    dropped = ann.cleanup()
    assert dropped == (["ws_t_ann_ch01", "ws_t_ann_ch02", "ws_t_ann_ch03"], ["ws_t_ann_app"])
    assert ann.owned() == ([], [])
    assert bob.owned() == (["ws_t_bob_ch01", "ws_t_bob_ch02", "ws_t_bob_ch03"], ["ws_t_bob_app"])
    bob.cleanup()
    assert bob.owned() == ([], [])


def test_recreating_a_database_starts_it_empty(backend: Backend, database: str) -> None:
    short = database.removeprefix(backend.prefix)
    with backend.connect(database) as conn:
        conn.execute("CREATE TABLE t (x int)")
    backend.create_database(short)
    with backend.connect(database) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'")
        assert tables.fetchone()[0] == 0


def test_database_url_wins_over_the_embedded_server() -> None:
    chosen = choose_backend(
        WorkshopSettings(database_url="postgres://u:p%40ss@db.example:6543/app")
    )
    assert chosen.kind == "url" and chosen.server is None
    assert chosen.admin_url.drivername == "postgresql+psycopg"
    assert chosen.admin_url.password == "p@ss"
    assert show(chosen.admin_url) == "postgresql+psycopg://u:***@db.example:6543/app"
    assert choose_backend(WorkshopSettings(database_url=None)).kind == "embedded"
