"""The `workshop` command as a learner meets it: one clear message and exit 2, never a traceback."""

import dataclasses
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ON_EACH_SERVER, each_server

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.embedded import EmbeddedServer
from workshop_app.workshop.settings import ROOT, learner_slug

SERVER_URLS = ("WORKSHOP_DATABASE_URL", "DATABASE_URL")  # the setting, and its old spelling


@pytest.fixture
def backend(backend: Backend, request: pytest.FixtureRequest) -> Backend:
    """The configured server; each server in turn for a test marked ON_EACH_SERVER."""
    return each_server(backend, request)


def workshop(
    *args: str, database_url: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command as a learner would; WORKSHOP_DATABASE_URL only when given."""
    env = env or {k: v for k, v in os.environ.items() if k not in SERVER_URLS}
    if database_url is not None:
        env["WORKSHOP_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "workshop_app", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_clear_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert "Fix:" in result.stderr
    for text in expected:
        assert text in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@host:notaport/db", "not a valid URL"),
        ("just some words", "not a valid URL"),
        ("sqlite:///blog.db", "points at 'sqlite', not PostgreSQL"),
        ("mysql+pymysql://u:p@localhost/db", "points at 'mysql', not PostgreSQL"),
    ],
)
def test_a_bad_database_url_is_named_with_its_fix(url: str, expected: str) -> None:
    assert_clear_error(workshop("db", "status", database_url=url), expected)


def test_a_server_that_refuses_connections() -> None:
    port = closed_port()
    result = workshop("db", "status", database_url=f"postgresql://u:pw@127.0.0.1:{port}/db")
    assert_clear_error(result, f"127.0.0.1:{port}", "connection refused", "docker compose up -d")
    assert "pw" not in result.stderr.replace("password", "")


def test_doctor_fails_with_exit_2_and_the_fix_when_nothing_listens() -> None:
    port = closed_port()
    result = workshop("doctor", database_url=f"postgresql://u:secret@127.0.0.1:{port}/db")
    assert result.returncode == 2
    assert "FAIL  server reachable" in result.stdout
    assert "fix: start that server (docker compose up -d" in result.stdout
    assert "secret" not in result.stdout


def test_doctor_passes_on_the_configured_server(backend: Backend) -> None:
    env_url = os.environ.get("WORKSHOP_DATABASE_URL")
    result = workshop("doctor", database_url=env_url)
    assert result.returncode == 0, result.stdout + result.stderr
    for item in (
        "Python",
        "sqlalchemy",
        "alembic",
        "backend",
        "server reachable",
        "server version",
        "create a role and a database it owns",
        "learner prefix",
        "Jupyter kernel",
    ):
        assert any(
            line.startswith("OK") and f" {item} " in line for line in result.stdout.splitlines()
        ), item
    assert backend.server_version().split()[0] in result.stdout
    assert re.search(rf"OK\s+learner prefix\s+{re.escape(backend.prefix)}\n", result.stdout)


def test_a_wrong_password_and_a_missing_database(backend: Backend, database: str) -> None:
    short = database.removeprefix(backend.prefix) + "_u"
    role, password = backend.create_role(short)
    try:
        wrong = backend.url(database, role, "not-" + password).render_as_string(False)
        result = workshop("db", "status", database_url=wrong)
        if result.returncode == 0:
            pytest.skip("this server trusts every role (no password check to test)")
        assert_clear_error(result, f'rejected the password for role "{role}"', "URL-encode")
        assert password not in result.stderr

        missing = backend.url("no_such_db", role, password).render_as_string(False)
        assert_clear_error(
            workshop("db", "status", database_url=missing), 'Database "no_such_db" does not exist'
        )
    finally:
        with backend.connect() as conn:
            conn.execute(f'DROP ROLE "{role}"')


def test_the_old_spelling_still_names_the_server_with_a_one_line_notice() -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_URLS}
    old = workshop("db", "url", env={**env, "DATABASE_URL": "postgresql://bob:pw@10.0.0.9/shop"})
    assert old.returncode == 0, old.stderr
    assert old.stdout.strip() == "postgresql+psycopg://bob:***@10.0.0.9/shop"
    assert len(old.stderr.splitlines()) == 1 and "WORKSHOP_DATABASE_URL" in old.stderr
    new = "postgresql://ann@10.0.0.7/x"
    both = workshop(
        "db",
        "url",
        env={
            **env,
            "DATABASE_URL": "postgresql://bob:pw@10.0.0.9/shop",
            "WORKSHOP_DATABASE_URL": new,
        },
    )
    assert both.stdout.strip() == "postgresql+psycopg://ann@10.0.0.7/x" and not both.stderr


def test_url_masks_the_password_unless_asked() -> None:
    url = "postgresql://bob:hunter2@127.0.0.1:5432/shop"
    masked = workshop("db", "url", database_url=url)
    assert masked.stdout.strip() == "postgresql+psycopg://bob:***@127.0.0.1:5432/shop"
    shown = workshop("db", "url", "--show-password", database_url=url)
    assert shown.stdout.strip() == "postgresql+psycopg://bob:hunter2@127.0.0.1:5432/shop"


def test_output_piped_into_a_reader_that_stops_is_no_error() -> None:
    """`workshop db url | head -c 0`: the reader is gone before the command writes."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_URLS}
    env["WORKSHOP_DATABASE_URL"] = "postgresql://bob:pw@127.0.0.1:5432/shop"
    proc = subprocess.Popen(
        [sys.executable, "-m", "workshop_app", "db", "url"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    proc.stdout.close()  # before the command starts writing: its output has nowhere to go
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 141  # as a shell tool killed by SIGPIPE: 128 + 13
    assert stderr == ""


def test_psql_runs_against_the_configured_server(backend: Backend) -> None:
    url = os.environ.get("WORKSHOP_DATABASE_URL")
    result = workshop("db", "psql", "-Atc", "SELECT 6 * 7", database_url=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "42"


def embedded_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_URLS}
    return {**env, "WORKSHOP_DATA_DIR": str(home), **extra}


def test_embedded_start_failure_shows_the_log_and_the_fix(embedded_home: Path) -> None:
    server = EmbeddedServer(embedded_home)
    server.start()
    server.stop()
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write("max_connections = -5\n")
    result = workshop("db", "start", env=embedded_env(embedded_home))
    assert_clear_error(result, "did not start", '"max_connections"', "workshop db stop")


def test_embedded_port_in_use(embedded_home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = workshop("db", "start", env=embedded_env(embedded_home, WORKSHOP_PG_PORT=port))
    assert_clear_error(result, f"Port {port} on 127.0.0.1 is already in use", "WORKSHOP_PG_PORT")


def test_every_workshop_command_the_readme_shows_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"`workshop ((?:db |room )?[a-z]+)", readme))
    assert {"doctor", "lab", "db start", "db url", "db psql", "db cleanup", "room add"} <= shown
    for command in shown:
        result = workshop(*command.split(), "--help")
        assert result.returncode == 0, (command, result.stderr)


def test_reset_puts_one_chapter_back_and_leaves_the_others(
    backend: Backend, tmp_path: Path
) -> None:
    # A learner of its own and a sandbox folder of its own: notebooks may run meanwhile.
    env = {
        **os.environ,
        "WORKSHOP_LEARNER": f"t_reset_{os.getpid()}",
        "WORKSHOP_SANDBOX_DIR": str(tmp_path),
    }
    for chapter in ("03", "04", "04"):  # the second reset of 04 clones its templates
        result = workshop("reset", chapter, env=env)
        assert result.returncode == 0, result.stderr
    assert "from templates" in result.stdout
    learner = Backend(
        backend.kind,
        backend.source,
        backend.admin_url,
        learner_slug(env["WORKSHOP_LEARNER"]),
        backend.server,
    )
    posts = "SELECT count(*) FROM posts"
    with learner.connect(learner.name("ch03_blog")) as conn:
        conn.execute(
            "INSERT INTO posts (title, content, user_id, date_posted) "
            "VALUES ('kept', 'chapter 03 work', 1, now())"
        )
    with learner.connect(learner.name("ch04_blog")) as conn:
        conn.execute("DELETE FROM posts")
    (tmp_path / "ch04" / "scratch.py").write_text("learner's work in chapter 04")
    (tmp_path / "ch03" / "notes.txt").write_text("learner's work in chapter 03")

    result = workshop("reset", "4", env=env)
    assert result.returncode == 0, result.stderr
    assert re.match(r"Chapter 04 reset in \d+\.\d\d s", result.stdout)
    with learner.connect(learner.name("ch04_blog")) as conn:
        assert conn.execute(posts).fetchone()[0] == 3  # the story's posts are back
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    assert not (tmp_path / "ch04" / "scratch.py").exists()
    assert (tmp_path / "ch04" / "alembic" / "versions" / "0001_initial_schema.py").exists()
    with learner.connect(learner.name("ch03_blog")) as conn:
        assert conn.execute(posts).fetchone()[0] == 4  # chapter 03 untouched
    assert (tmp_path / "ch03" / "notes.txt").exists()
    learner.cleanup()
    assert learner.owned() == ([], [])  # templates and roles included


def learner_env(tmp_path: Path, learner: str) -> dict[str, str]:
    return {**os.environ, "WORKSHOP_LEARNER": learner, "WORKSHOP_SANDBOX_DIR": str(tmp_path)}


def databases(backend: Backend, prefix: str) -> list[str]:
    with backend.connect() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]


@ON_EACH_SERVER
def test_cleanup_drops_only_this_learners_own_and_asks_first(
    backend: Backend, tmp_path: Path
) -> None:
    tag = f"t{os.getpid()}"
    marie = learner_env(tmp_path, f"{tag}anne-Marie O'Neil")
    anne = learner_env(tmp_path, f"{tag}anne")
    annes = Backend(backend.kind, backend.source, backend.admin_url, f"{tag}anne", backend.server)
    try:
        assert workshop("reset", "03", env=marie).returncode == 0
        made = databases(backend, f"ws_{tag}anne_")
        assert len(made) >= 2, made  # the chapter's databases and templates
        annes.create_database("ch04_blog")

        refused = workshop("db", "cleanup", env=anne)  # no terminal, no --yes
        assert_clear_error(refused, "--yes")
        assert annes.name("ch04_blog") in refused.stdout  # listed first
        result = workshop("db", "cleanup", "--yes", env=anne)
        assert result.returncode == 0, result.stderr
        assert databases(backend, annes.prefix) == []
        assert databases(backend, f"ws_{tag}anne_") == made  # Anne-Marie's work is all there

        refused = workshop("db", "cleanup", env=marie)
        assert_clear_error(refused, "--yes")
        assert databases(backend, f"ws_{tag}anne_") == made
    finally:
        annes.cleanup()
        result = workshop("db", "cleanup", "--yes", env=marie)
    assert result.returncode == 0, result.stderr
    for name in made:
        assert name in result.stdout
    assert databases(backend, f"ws_{tag}anne_") == []


def test_cleanup_on_a_terminal_lists_what_goes_and_asks(backend: Backend, tmp_path: Path) -> None:
    import pexpect

    learner = f"t_tty_{os.getpid()}"  # a 6-digit pid reads as a hash: the slug differs
    env = learner_env(tmp_path, learner)
    mine = dataclasses.replace(backend, learner=learner_slug(learner))
    mine.create_database("ch04_blog")
    try:
        for answer, kept in (("", True), ("n", True), ("y", False)):
            child = pexpect.spawn(
                sys.executable,
                ["-m", "workshop_app", "db", "cleanup"],
                env=env,
                cwd=str(ROOT),
                encoding="utf-8",
                timeout=60,
            )
            child.expect(mine.name("ch04_blog"))
            child.expect(r"\[y/N\]")
            child.sendline(answer)
            child.expect(pexpect.EOF)
            child.close()
            assert (databases(backend, mine.name("ch04_blog")) != []) is kept, answer
    finally:
        mine.cleanup()


@ON_EACH_SERVER
def test_reset_drops_only_what_the_course_made_and_says_so(
    backend: Backend, tmp_path: Path
) -> None:
    learner = f"t_mine_{os.getpid()}"  # a 6-digit pid reads as a hash: the slug differs
    env = learner_env(tmp_path, learner)
    mine = dataclasses.replace(backend, learner=learner_slug(learner))
    by_hand = [mine.prefix + "ch03_experiment", mine.prefix + "tpl_ch03_blog_mine"]
    try:
        with backend.connect() as conn:
            for name in by_hand:
                conn.execute(f'CREATE DATABASE "{name}"')
        assert workshop("reset", "03", env=env).returncode == 0
        result = workshop("reset", "03", env=env)
        assert result.returncode == 0, result.stderr
        assert f"dropped {mine.name('ch03_blog')}" in result.stdout.replace(",", "")
        for name in by_hand:
            assert databases(backend, name) == [name]
            assert name not in result.stdout
    finally:
        mine.cleanup()
        with backend.connect() as conn:
            for name in by_hand:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@ON_EACH_SERVER
def test_sandboxes_and_env_files_are_private(backend: Backend, tmp_path: Path) -> None:
    import stat

    env = learner_env(tmp_path, f"t_modes_{os.getpid()}")
    try:
        for chapter in ("01", "04"):
            assert workshop("reset", chapter, env=env).returncode == 0
            sandbox = tmp_path / f"ch{chapter}"
            assert stat.S_IMODE(sandbox.stat().st_mode) == 0o700
            assert stat.S_IMODE((sandbox / ".env").stat().st_mode) == 0o600
    finally:
        assert workshop("db", "cleanup", "--yes", env=env).returncode == 0


@ON_EACH_SERVER
def test_psql_connects_to_the_database_named_with_d(backend: Backend, database: str) -> None:
    url = os.environ.get("WORKSHOP_DATABASE_URL")
    for args in (["-d", database], [f"--dbname={database}"]):
        result = workshop(
            "db", "psql", *args, "-Atc", "select current_database()", database_url=url
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == database


def test_the_learner_sees_their_prefix(backend: Backend) -> None:
    env = {**os.environ, "WORKSHOP_LEARNER": "Über"}
    status = workshop("db", "status", env=env)
    assert re.search(r"prefix:\s+ws_uber_[0-9a-f]{6}__", status.stdout), status.stdout


def test_a_stopped_embedded_server_names_its_own_fix(embedded_home: Path) -> None:
    from workshop_app.workshop.backend import Backend as B
    from workshop_app.workshop.errors import WorkshopError

    server = EmbeddedServer(embedded_home)
    server.start()
    server.stop()
    stopped = B("embedded", "embedded PostgreSQL", server.admin_url(), "t", server)
    with pytest.raises(WorkshopError) as err:
        stopped.connect()
    assert "workshop db start" in err.value.fix and str(server.log) in err.value.fix
    assert "docker" not in str(err.value) and "DATABASE_URL" not in str(err.value)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("check", "-j", "0"), "-j 0 would run no notebook"),
        (("check", "-j", "-3"), "-j -3 would run no notebook"),
        (("check", "nosuch.ipynb"), "There is no notebook nosuch.ipynb"),
        (("check", "99"), "There is no chapter 99"),
    ],
)
def test_check_names_a_wrong_argument_with_its_fix(args: tuple[str, ...], expected: str) -> None:
    assert_clear_error(workshop(*args), expected)


def test_export_into_a_file_names_it(tmp_path: Path) -> None:
    existing = tmp_path / "course.html"
    existing.write_text("not a folder")
    for out in (existing, existing / "sub"):  # as root every folder is writable: a file is not
        result = workshop("export", "--out", str(out))
        assert_clear_error(
            result,
            f"Cannot export the course to {out}",
            f"{existing} is a file, not a folder",
            "--out",
        )
    assert existing.read_text() == "not a folder"


def test_export_where_a_page_cannot_be_written_names_it(tmp_path: Path) -> None:
    out = tmp_path / "course"
    page = out / "index.html"
    page.mkdir(parents=True)  # a folder where a page goes (as root, a read-only file is not)
    result = workshop("export", "--out", str(out))
    assert_clear_error(result, f"Cannot export the course to {out}: cannot write {page}", "--out")
