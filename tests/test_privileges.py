"""A class's shared server: a least-privileged admin role (LOGIN CREATEDB CREATEROLE, no
superuser) on PostgreSQL 18 and 15, with passwords; every connection keeps the URL's options."""

import os
import re
import secrets
import uuid
from pathlib import Path
from urllib.parse import quote

import exercise_support
import psycopg
import pytest
from helpers import AdminServer, connect
from sqlalchemy import create_engine
from test_cli import assert_clear_error, workshop

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.chapters import course_names
from workshop_app.workshop.settings import WorkshopSettings
from workshop_app.workshop.urls import libpq_conninfo

pytestmark = pytest.mark.db


def learner_env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKSHOP_DATABASE_URL": url,
        "WORKSHOP_SANDBOX_DIR": str(tmp_path),
        "WORKSHOP_LEARNER": f"t_priv_{uuid.uuid4().hex[:6]}",
    }


def as_superuser(server: AdminServer, env: dict[str, str], query: str = "") -> Backend:
    """The same learner seen by the server's superuser, to clean up whatever a test left."""
    settings = WorkshopSettings(
        workshop_database_url=server.superuser_url + query, workshop_learner=env["WORKSHOP_LEARNER"]
    )
    return choose_backend(settings)


def test_chapters_run_with_the_least_privileged_admin(
    least_admin: AdminServer, tmp_path: Path
) -> None:
    env = learner_env(least_admin.admin_url, tmp_path)
    try:
        doctor = workshop("doctor", env=env)
        assert "OK    create a role and a database it owns" in doctor.stdout, doctor.stdout
        # 03 and 06 copy the app role's databases, 06 and 08 alter its tables, as the admin;
        # the second 04 clones the templates.
        for chapter in ("03", "06", "08", "04", "04"):
            result = workshop("reset", chapter, env=env)
            assert result.returncode == 0, result.stderr
        assert "from templates" in result.stdout
        cleanup = workshop("db", "cleanup", "--yes", env=env)
        assert cleanup.returncode == 0, cleanup.stderr
        assert as_superuser(least_admin, env).owned() == ([], [])
    finally:
        as_superuser(least_admin, env).cleanup()


def test_chapters_doing_an_admins_work_in_their_cells_pass_their_check(
    least_admin: AdminServer, tmp_path: Path
) -> None:
    """Chapter 02 creates its role and databases by hand (CREATE ROLE, GRANT ... TO
    CURRENT_USER, CREATE DATABASE ... OWNER); chapter 10 lets the app's role create databases
    (ALTER ROLE ... CREATEDB) and creates one for it. Whole notebooks, as `workshop check` runs
    them (with a learner of its own: `<learner>_check_<hash>`)."""
    env = learner_env(least_admin.admin_url, tmp_path)
    try:
        result = workshop("check", "-j", "2", "02", "10", env=env)
        assert result.returncode == 0, result.stdout
    finally:
        exercise_support.drop_learner(as_superuser(least_admin, env))  # and the check's


def test_doctor_fails_when_the_admin_cannot_create_roles(
    least_admin: AdminServer, tmp_path: Path
) -> None:
    """Chapters need CREATEROLE too; a role with CREATEDB alone passed the old check."""
    name, password = f"t_nocr_{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
    superuser = least_admin.superuser_url.replace("+psycopg", "")
    with connect(superuser) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN CREATEDB PASSWORD '{password}'")
    try:
        host = least_admin.superuser_url.split("@", 1)[1]
        env = learner_env(f"postgresql+psycopg://{name}:{password}@{host}", tmp_path)
        doctor = workshop("doctor", env=env)
        assert doctor.returncode == 2
        assert "FAIL  create a role and a database it owns" in doctor.stdout, doctor.stdout
        assert "CREATEROLE" in doctor.stdout
    finally:
        with connect(superuser) as conn:
            conn.execute(f"DROP ROLE {name}")


PROBE = "application_name=wsprobe&options=-c%20statement_timeout%3D12345"


def seen_by_server(conn: psycopg.Connection) -> tuple[str, str]:
    return tuple(
        conn.execute(
            "SELECT current_setting('application_name'), current_setting('statement_timeout')"
        ).fetchone()
    )


def test_every_connection_keeps_the_urls_parameters(
    pg18_password: AdminServer, tmp_path: Path
) -> None:
    url = f"{pg18_password.superuser_url}?{PROBE}"
    env = learner_env(url, tmp_path)
    backend = as_superuser(pg18_password, env, f"?{PROBE}")
    expected = ("wsprobe", "12345ms")
    try:
        with backend.connect() as conn:  # admin
            assert seen_by_server(conn) == expected
        result = workshop("reset", "04", env=env)  # writes the sandbox's .env
        assert result.returncode == 0, result.stderr
        env_url = (tmp_path / "ch04" / ".env").read_text().strip().removeprefix("DATABASE_URL=")
        engine = create_engine(env_url)  # as the app connects: SQLAlchemy and psycopg
        try:
            with engine.connect() as conn:
                assert seen_by_server(conn.connection.driver_connection) == expected
        finally:
            engine.dispose()
        role, password = backend.create_role("t_probe_role")  # as libpq and psql take it
        db = backend.create_database("t_probe_db", owner=role)
        with connect(libpq_conninfo(backend.url(db, role, password))) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == role
            assert seen_by_server(conn) == expected
    finally:
        backend.cleanup()


def test_sslmode_require_on_a_server_without_tls_is_named_with_its_fix(
    least_admin: AdminServer, tmp_path: Path
) -> None:
    """Managed servers require TLS; a URL that asks for it is kept on every connection, so a
    server without TLS fails the doctor and a chapter alike, never the doctor OK and 02 not."""
    env = learner_env(f"{least_admin.admin_url}?sslmode=require", tmp_path)
    doctor = workshop("doctor", env=env)
    assert doctor.returncode == 2, doctor.stdout
    assert re.search(r"FAIL +server reachable .*SSL", doctor.stdout), doctor.stdout
    assert re.search(r"fix: .*sslmode", doctor.stdout), doctor.stdout
    for chapter in ("02", "04"):
        assert_clear_error(workshop("reset", chapter, env=env), "SSL", "sslmode")
    assert as_superuser(least_admin, env).owned() == ([], [])


WITH_SPECIALS = "p@ss:w/rd%"


def test_an_unencoded_password_is_named_with_its_fix_and_never_shown(
    pg18_password: AdminServer,
) -> None:
    host = pg18_password.superuser_url.split("@", 1)[1]
    superuser = pg18_password.superuser_url.replace("+psycopg", "")
    with connect(superuser) as conn:
        conn.execute(f"CREATE ROLE t_special LOGIN PASSWORD '{WITH_SPECIALS}'")
    try:
        raw = f"postgresql://t_special:{WITH_SPECIALS}@{host}"
        result = workshop("db", "status", database_url=raw)
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr and "int()" not in result.stderr
        assert "password in WORKSHOP_DATABASE_URL needs URL-encoding" in result.stderr
        assert f"postgresql+psycopg://t_special:***@{host}" in result.stderr
        assert "quote(" in result.stderr
        for piece in ("p@ss", "w/rd", "rd%"):
            assert piece not in result.stderr + result.stdout
        encoded = f"postgresql://t_special:{quote(WITH_SPECIALS, safe='')}@{host}"
        assert workshop("db", "status", database_url=encoded).returncode == 0
    finally:
        with connect(superuser) as conn:
            conn.execute("DROP ROLE t_special")


def test_a_role_made_by_hand_can_own_a_database_on_16(
    pg18_password: AdminServer, tmp_path: Path
) -> None:
    """Chapter 02 creates its role and database with plain SQL on the admin connection."""
    env = learner_env(pg18_password.admin_url, tmp_path)
    learner = env["WORKSHOP_LEARNER"]
    settings = WorkshopSettings(
        workshop_database_url=pg18_password.admin_url, workshop_learner=learner
    )
    backend = choose_backend(settings)
    role, database = backend.name("ch02_blog_user"), backend.name("ch02_blog")
    try:
        with backend.connect() as admin:
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'x'")
            admin.execute(f"CREATE DATABASE {database} OWNER {role}")
    finally:
        backend.cleanup(course_names(backend))
    assert as_superuser(pg18_password, env).owned(course_names(backend)) == ([], [])
