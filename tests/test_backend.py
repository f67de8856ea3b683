"""The configured backend: per-learner names, roles with passwords, sharing one server."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from helpers import ON_EACH_SERVER, connect, each_server

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.settings import WorkshopSettings
from workshop_app.workshop.urls import libpq_conninfo, show


@pytest.fixture
def backend(backend: Backend, request: pytest.FixtureRequest) -> Backend:
    """The configured server; each server in turn for a test marked ON_EACH_SERVER."""
    return each_server(backend, request)


def as_learner(backend: Backend, learner: str) -> Backend:
    return Backend(backend.kind, backend.source, backend.admin_url, learner, backend.server)


def test_names_carry_the_learner_prefix(backend: Backend) -> None:
    alice = as_learner(backend, "alice")
    assert alice.name("ch03") == "ws_alice__ch03"
    with pytest.raises(ValueError):
        alice.name("Robert'); DROP TABLE students;--")


def slug(name: str) -> str:
    return WorkshopSettings(workshop_learner=name).learner()


def test_the_learner_defaults_to_a_safe_slug_of_the_given_name() -> None:
    assert slug("ber") == "ber" and slug("alice") == "alice"
    assert re.fullmatch(r"root_[0-9a-f]{6}", slug("Root"))  # not the same learner as "root"
    assert re.fullmatch(r"ana_maria_lopez_[0-9a-f]{6}", slug("Ana María-López"))
    assert re.fullmatch(r"uber_[0-9a-f]{6}", slug("Über"))
    assert re.fullmatch(r"learner_[0-9a-f]{6}", slug("!!!"))


def test_different_names_never_share_a_prefix() -> None:
    long = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    names = [
        "ÜBER",
        "Über",
        "ber",
        "uber",
        "Anne",
        "anne",
        slug("Über"),  # a name that looks like another's hashed slug
        "李雷",
        "王芳",
        "--",
        "---",
        "!!!",
        "a_b",
        "a-b",
        long,
        long + " Jr.",
        long.replace("Maximilian", "Maximiliane"),
    ]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(names), slugs
    for s in slugs:  # a separator no slug contains ends the prefix: "__"
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", s), s
    assert slugs == [slug(n) for n in names]  # stable


def test_the_longest_name_the_course_makes_fits_postgresql(backend: Backend) -> None:
    longest = as_learner(backend, slug("Maximilian Alexander von Hohenzollern-Sigmaringen"))
    name = longest.name("tpl_ch03_fresh_0123abcd")
    assert len(name.encode()) <= 63 and name.endswith("__tpl_ch03_fresh_0123abcd")


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


@ON_EACH_SERVER
def test_two_learners_on_one_server_never_touch_each_other(backend: Backend) -> None:
    learners = [as_learner(backend, name) for name in ("t_ann", "t_bob")]

    def work(b: Backend) -> None:
        for short in ("ch01", "ch02", "ch03"):
            b.create_database(short)
        b.create_role("app")

    with ThreadPoolExecutor(2) as pool:  # at the same time, as in a classroom
        list(pool.map(work, learners))
    ann, bob = learners
    ann_dbs = ["ws_t_ann__ch01", "ws_t_ann__ch02", "ws_t_ann__ch03"]
    assert ann.owned() == (ann_dbs, ["ws_t_ann__app"])

    dropped = ann.cleanup()
    assert dropped == (ann_dbs, ["ws_t_ann__app"])
    assert ann.owned() == ([], [])
    assert bob.owned() == (
        ["ws_t_bob__ch01", "ws_t_bob__ch02", "ws_t_bob__ch03"],
        ["ws_t_bob__app"],
    )
    bob.cleanup()
    assert bob.owned() == ([], [])


@ON_EACH_SERVER
def test_cleanup_leaves_learners_whose_names_start_alike_and_what_it_did_not_make(
    backend: Backend,
) -> None:
    tag = uuid.uuid4().hex[:6]
    anne = as_learner(backend, slug(f"t{tag}anne"))
    marie = as_learner(backend, slug(f"t{tag}anne Marie O'Neil"))
    by_hand = anne.prefix + "mine"  # a database the learner made without the course
    try:
        marie.create_database("ch03_blog")
        marie.create_role("ch03_blog_user")
        anne.create_database("ch03_blog")
        with backend.connect() as conn:
            conn.execute(f'CREATE DATABASE "{by_hand}"')
        assert anne.cleanup() == ([anne.name("ch03_blog")], [])
        assert marie.owned() == ([marie.name("ch03_blog")], [marie.name("ch03_blog_user")])
        with backend.connect() as conn:
            assert conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (by_hand,)
            ).fetchone()
    finally:
        marie.cleanup()
        with backend.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{by_hand}"')


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
        WorkshopSettings(workshop_database_url="postgres://u:p%40ss@db.example:6543/app")
    )
    assert chosen.kind == "url" and chosen.server is None
    assert chosen.admin_url.drivername == "postgresql+psycopg"
    assert chosen.admin_url.password == "p@ss"
    assert show(chosen.admin_url) == "postgresql+psycopg://u:***@db.example:6543/app"
    unset = WorkshopSettings(workshop_database_url=None, database_url=None)
    assert choose_backend(unset).kind == "embedded"
