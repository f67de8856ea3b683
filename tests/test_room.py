"""`workshop room`: one server for a class, a login for each learner, and what isolates them.

Run on PostgreSQL 18 (the embedded server's binaries, on 127.0.0.1 with passwords) and on the
PostgreSQL 15 at 127.0.0.1:5432, each with its superuser and with a least-privileged admin
(LOGIN CREATEDB CREATEROLE) as the instructor. What PostgreSQL 15 cannot isolate is asserted as
such, as docs/instructor-guide.md states it.
"""

import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import AdminServer, connect
from psycopg import sql
from sqlalchemy.engine import make_url
from test_cli import workshop

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.course_check import check_backend
from workshop_app.workshop.reset import reset
from workshop_app.workshop.settings import WorkshopSettings, check_slug

pytestmark = pytest.mark.db


@dataclass(frozen=True)
class Instructor:
    superuser: str  # libpq URL, to look and to clean up
    admin: str  # WORKSHOP_DATABASE_URL of the instructor running `workshop room`
    is_superuser: bool
    version: int  # major


@pytest.fixture(params=["pg18 superuser", "pg18 admin", "pg15 superuser", "pg15 admin"])
def instructor(request: pytest.FixtureRequest) -> Instructor:
    server, who = request.param.split()
    fixture = {"pg18": "pg18_password", "pg15": "pg15_admin"}[server]
    admin: AdminServer = request.getfixturevalue(fixture)
    url = admin.superuser_url if who == "superuser" else admin.admin_url
    superuser = admin.superuser_url.replace("+psycopg", "")
    with connect(superuser) as conn:
        version = conn.info.server_version // 10000
    return Instructor(superuser, url, who == "superuser", version)


def slug() -> str:
    return f"tr{uuid.uuid4().hex[:6]}x"  # kept as-is by learner_slug: its own slug


def room_env(instructor: Instructor) -> dict[str, str]:
    drop = ("WORKSHOP_LEARNER", "JUPYTERHUB_USER", "WORKSHOP_DATABASE_URL", "DATABASE_URL")
    return {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "WORKSHOP_DATABASE_URL": instructor.admin,
    }


def room(instructor: Instructor, folder: Path, *args: str):
    return workshop("room", *args, "--dir", str(folder), env=room_env(instructor))


def env_url(folder: Path, learner: str) -> str:
    line = (folder / f"{learner}.env").read_text().strip()
    return line.removeprefix("WORKSHOP_DATABASE_URL=")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def learner_backend(url: str, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The course's backend as a learner's .env makes it: their line, nothing else."""
    monkeypatch.delenv("WORKSHOP_LEARNER", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    return choose_backend(
        WorkshopSettings(_env_file=None, workshop_database_url=url, database_url=None)
    )


def leftovers(instructor: Instructor, *learners: str) -> list[str]:
    """Databases and roles of these learners (and of their `workshop check`) on the server."""
    checks = [check_slug(s) for s in learners]
    prefixes = [p for s in learners for p in (f"ws_{s}__", f"ws_room_{s}")]
    prefixes += [f"ws_{c}__" for c in checks]
    with connect(instructor.superuser) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE ANY(%(p)s) "
            "UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE ANY(%(p)s)",
            {"p": [p.replace("_", r"\_") + "%" for p in prefixes]},
        )
        return [r[0] for r in rows.fetchall()]


def scrub(instructor: Instructor, *learners: str) -> None:
    """Only when a test failed before `room drop`: its learners' objects, as the superuser."""
    names = leftovers(instructor, *learners)
    with connect(instructor.superuser) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for name in sorted(names, key=lambda n: n.startswith("ws_room_")):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def two_learners(instructor: Instructor, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    a, b, folder = slug(), slug(), tmp_path / "room"
    try:
        result = room(instructor, folder, "add", a, b)
        assert result.returncode == 0, result.stderr
        yield a, b, folder
        dropped = room(instructor, folder, "drop", "--yes")
        assert dropped.returncode == 0, dropped.stdout + dropped.stderr
        assert leftovers(instructor, a, b) == []
    finally:
        scrub(instructor, a, b)


# ----- the command


@pytest.mark.parametrize("instructor", ["pg18 superuser", "pg15 superuser"], indirect=True)
def test_add_is_idempotent_keeps_passwords_and_never_prints_them(
    instructor: Instructor, tmp_path: Path
) -> None:
    a, b, c, folder = slug(), slug(), slug(), tmp_path / "room"
    try:
        first = room(instructor, folder, "add", a, b)
        assert first.returncode == 0, first.stderr
        urls = {s: env_url(folder, s) for s in (a, b)}
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for s, url in urls.items():
            password = url.split(":")[2].split("@")[0]
            assert password not in first.stdout + first.stderr
            assert f"ws_room_{s}:***@" in first.stdout
            with connect(libpq(url)) as conn:  # the learner's own login works
                assert conn.execute("SELECT current_user").fetchone()[0] == f"ws_room_{s}"
        with connect(instructor.superuser) as conn:
            attrs = conn.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                "rolbypassrls FROM pg_roles WHERE rolname = %s",
                (f"ws_room_{a}",),
            ).fetchone()
        assert attrs == (False, True, True, False, False)

        names = tmp_path / "names.txt"
        names.write_text(f"# the class\n{b}\n\n{c}\n")
        again = room(instructor, folder, "add", "--file", str(names))
        assert again.returncode == 0, again.stderr
        assert f"kept      ws_room_{b}" in again.stdout and f"new       ws_room_{c}" in again.stdout
        assert env_url(folder, a) == urls[a] and env_url(folder, b) == urls[b]
        csv = (folder / "room.csv").read_text()
        assert all(url in csv for url in urls.values()) and f"ws_room_{c}" in csv

        listed = room(instructor, folder, "list")
        assert listed.returncode == 0 and all(s in listed.stdout for s in (a, b, c))

        refused = room(instructor, folder, "drop")  # no terminal to ask on
        assert refused.returncode == 2 and "--yes" in refused.stderr
        assert len(leftovers(instructor, a, b, c)) == 3
        one = room(instructor, folder, "drop", c, "--yes")
        assert one.returncode == 0, one.stderr
        assert leftovers(instructor, c) == [] and not (folder / f"{c}.env").exists()
        assert f"ws_room_{c}" not in (folder / "room.csv").read_text()
        assert room(instructor, folder, "drop", "--yes").returncode == 0
        assert leftovers(instructor, a, b, c) == []
    finally:
        scrub(instructor, a, b, c)


def test_drop_takes_what_the_learners_check_made_too(
    instructor: Instructor,
    two_learners: tuple[str, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`workshop check` makes databases and a role under a prefix of its own, with the
    learner's login: `room drop` drops them before the login (which could not go otherwise)."""
    a, b, folder = two_learners
    check = check_backend(learner_backend(env_url(folder, a), monkeypatch))
    reset("04", check, tmp_path / "check")  # what a check's chapter 04 makes
    assert any(n.startswith(check.prefix) for n in leftovers(instructor, a))
    dropped = room(instructor, folder, "drop", a, "--yes")
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr
    assert leftovers(instructor, a) == []
    assert f"ws_room_{b}" in leftovers(instructor, b)  # the other learner stays


@pytest.mark.parametrize("instructor", ["pg18 superuser"], indirect=True)
def test_a_lost_room_file_is_named_not_overwritten(instructor: Instructor, tmp_path: Path) -> None:
    a = slug()
    try:
        assert room(instructor, tmp_path / "room", "add", a).returncode == 0
        other = room(instructor, tmp_path / "other", "add", a)
        assert other.returncode == 2 and "Fix:" in other.stderr
        assert "has no password for it" in other.stderr
        assert not (tmp_path / "other" / "room.csv").exists()
    finally:
        scrub(instructor, a)


def test_the_embedded_servers_private_socket_is_refused(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("WORKSHOP_DATABASE_URL", "DATABASE_URL", "WORKSHOP_PG_PORT")
    }
    env["WORKSHOP_DATA_DIR"] = str(tmp_path / "pg")
    result = workshop("room", "add", "anne", "--dir", str(tmp_path / "room"), env=env)
    assert result.returncode == 2 and "WORKSHOP_PG_PORT" in result.stderr, result.stderr
    assert not (tmp_path / "pg").exists()  # refused before starting anything


# ----- isolation


DENIED = "42501"  # insufficient privilege


def outcome(url: str, statement: str | None = None, database: str | None = None) -> str:
    """'ok', or the SQLSTATE class of why PostgreSQL refused (42501: insufficient privilege)."""
    conninfo = (
        libpq(url)
        if database is None
        else psycopg.conninfo.make_conninfo(libpq(url), dbname=database)
    )
    try:
        with connect(conninfo) as conn:
            if statement:
                conn.execute(statement)
        return "ok"
    except psycopg.Error as err:
        if err.sqlstate is None and "permission denied for database" in str(err):
            return DENIED  # refused at connection time: libpq gives no SQLSTATE
        return err.sqlstate or str(err)


def test_learners_are_isolated(
    instructor: Instructor,
    two_learners: tuple[str, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, folder = two_learners
    url_a, url_b = env_url(folder, a), env_url(folder, b)
    anne, bob = learner_backend(url_a, monkeypatch), learner_backend(url_b, monkeypatch)
    assert (anne.learner, bob.learner) == (a, b) and anne.in_room
    # The course works as each learner: chapter 04 creates its role and database.
    ch_a, _, _ = reset("04", anne, tmp_path / "a")
    ch_b, _, _ = reset("04", bob, tmp_path / "b")
    db_b, role_b, login_b = ch_b.database, ch_b.role, f"ws_room_{b}"
    # Chapter 02's way, by hand: plain CREATE DATABASE keeps PostgreSQL's default ACL.
    by_hand = bob.name("ch02_blog")
    with bob.connect() as conn:
        conn.execute(f'CREATE DATABASE "{by_hand}"')
    with connect(psycopg.conninfo.make_conninfo(libpq(url_b), dbname=by_hand)) as conn:
        conn.execute("CREATE TABLE secret (v text); INSERT INTO secret VALUES ('bob''s')")
    v16 = instructor.version >= 16
    ch_a_url = ch_a.url().render_as_string(hide_password=False)

    # What holds on every version: no connection to the other's course databases, no rows, no
    # dropping or renaming them.
    assert outcome(url_a, database=db_b) == DENIED
    assert outcome(ch_a_url, database=db_b) == DENIED  # nor as A's chapter role
    assert outcome(url_a, database=by_hand) == "ok"  # PUBLIC may connect: the guide says so
    assert outcome(url_a, "SELECT * FROM secret", database=by_hand) == DENIED
    assert outcome(url_a, f'DROP DATABASE "{db_b}"') == DENIED
    assert outcome(url_a, f'DROP DATABASE "{by_hand}"') == DENIED
    assert outcome(url_a, f'ALTER DATABASE "{db_b}" RENAME TO "ws_{a}__stolen"') == DENIED
    assert outcome(url_a, f'ALTER DATABASE "{db_b}" OWNER TO "ws_room_{a}"') == DENIED

    # Roles: 16+ isolates them; 15 lets any CREATEROLE role alter any non-superuser role, and
    # grant itself membership in it (so its databases) or in pg_read_all_data.
    on_roles = [
        f'ALTER ROLE "{role_b}" CONNECTION LIMIT -1',
        f'ALTER ROLE "{login_b}" CONNECTION LIMIT -1',
        f'GRANT "{role_b}" TO "ws_room_{a}"',
        f'CREATE DATABASE "ws_{a}__squat" OWNER "{role_b}"',
        f'GRANT pg_read_all_data TO "ws_room_{a}"',
    ]
    for statement in on_roles:
        assert outcome(url_a, statement) == (DENIED if v16 else "ok"), statement
    admin = make_url(instructor.admin).username
    may_alter_admin = not v16 and not instructor.is_superuser
    expected = "ok" if may_alter_admin else DENIED
    assert outcome(url_a, f'ALTER ROLE "{admin}" CONNECTION LIMIT -1') == expected
    if v16:
        assert outcome(url_a, f"ALTER ROLE \"{login_b}\" PASSWORD 'stolen'") == DENIED
        assert outcome(url_a, f'DROP ROLE "{role_b}"') == DENIED
        assert outcome(url_b, database=db_b) == "ok"  # B's things untouched
    else:  # what A gained on 15 (the grants above): B's rows
        assert outcome(url_a, "SELECT * FROM secret", database=by_hand) == "ok"
        with connect(instructor.superuser) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "ws_{a}__squat"')

    # The admin's databases: no dropping or altering them, no reading their tables.
    admin_db = f"t_room_admin_{uuid.uuid4().hex[:6]}"
    with connect(libpq(instructor.admin)) as conn:
        conn.execute(f'CREATE DATABASE "{admin_db}"')
    try:
        with connect(psycopg.conninfo.make_conninfo(libpq(instructor.admin), dbname=admin_db)) as c:
            c.execute("CREATE TABLE grades (v int); INSERT INTO grades VALUES (1)")
        expected = "ok" if not v16 else DENIED  # 15: through pg_read_all_data granted above
        assert outcome(url_a, "SELECT * FROM grades", database=admin_db) == expected
        assert outcome(url_b, "SELECT * FROM grades", database=admin_db) == DENIED
        assert outcome(url_a, f'DROP DATABASE "{admin_db}"') == DENIED
        assert outcome(url_a, f'ALTER DATABASE "{admin_db}" OWNER TO "ws_room_{a}"') == DENIED
    finally:
        with connect(instructor.superuser) as conn:
            conn.execute(f'DROP DATABASE "{admin_db}" WITH (FORCE)')


# ----- the learner's prefix


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JUPYTERHUB_USER": "anne"}, "anne"),
        ({"JUPYTERHUB_USER": "Anne Marie"}, None),  # slugged, with a hash
        ({"JUPYTERHUB_USER": "anne", "WORKSHOP_LEARNER": "bob"}, "bob"),
        (
            {
                "JUPYTERHUB_USER": "anne",
                "WORKSHOP_DATABASE_URL": "postgresql://ws_room_cy:pw@h/postgres",
            },
            "cy",
        ),
        (
            {
                "JUPYTERHUB_USER": "anne",
                "WORKSHOP_LEARNER": "bob",
                "WORKSHOP_DATABASE_URL": "postgresql://ws_room_cy:pw@h/postgres",
            },
            "bob",
        ),
        (
            {
                "WORKSHOP_DATABASE_URL": "postgresql://ws_admin:pw@h/postgres",
                "JUPYTERHUB_USER": "d",
            },
            "d",
        ),
        (
            {
                "WORKSHOP_DATABASE_URL": "postgresql://ws_room_Bad:pw@h/postgres",
                "JUPYTERHUB_USER": "d",
            },
            "d",
        ),
    ],
)
def test_the_learner_comes_from_jupyterhub_unless_told(
    env: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WORKSHOP_LEARNER", "JUPYTERHUB_USER", "WORKSHOP_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    learner = WorkshopSettings(_env_file=None).learner()
    if expected is None:
        assert learner.startswith("anne_marie_") and len(learner) == len("anne_marie_") + 6
    else:
        assert learner == expected
