"""Where the story stands when each chapter begins: its files, databases and rows (STARTS)."""

import hashlib
import io
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from workshop_app.workshop.alembic_runner import upgrade
from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.kernel import forget
from workshop_app.workshop.sandbox import sandboxes, write_env, write_private
from workshop_app.workshop.settings import ROOT
from workshop_app.workshop.story import (
    main_source,
    main_with_create_all,
    write_alembic,
    write_blog,
)
from workshop_app.workshop.templates import digest


@dataclass(frozen=True)
class Start:
    """Where the story stands when a chapter begins."""

    postgres: bool = True
    databases: tuple[str, ...] = ("blog",)
    create: bool = True  # False: the lesson creates its role and database itself
    special_password: bool = False  # one that must be URL-encoded (chapter 03's trap)
    by_hand: tuple[str, ...] = ()  # databases and roles the lesson creates itself (unmarked)
    files: Callable[[Chapter], None] = lambda ch: None  # the sandbox's files
    data: Callable[[Chapter], None] = lambda ch: None  # the databases' content

    def password(self) -> str:
        return secrets.token_urlsafe(12) + ("@%:/" if self.special_password else "")


SQLITE_URL = "sqlite+aiosqlite:///./blog.db"

SEED_SQL = """
INSERT INTO users (username, email, password_hash) VALUES
    ('ada', 'ada@example.com', 'scrypt$not-a-real-hash'),
    ('linus', 'linus@example.com', 'scrypt$not-a-real-hash');
INSERT INTO posts (title, content, user_id, date_posted) VALUES
    ('Hello, blog', 'The first post.', 1, '2026-01-05 09:00+00'),
    ('Why SQLite?', 'It was one file.', 1, '2026-02-10 18:30+00'),
    ('Kernel news', 'Patches welcome.', 2, '2026-03-01 12:00+00');
"""


@contextmanager
def imported_blog(ch: Chapter, database_url: str) -> Iterator[ModuleType]:
    """The sandbox's blog package, imported with a given URL, forgotten afterwards."""
    from unittest import mock  # imported when used: `workshop reset` starts faster

    sys.path.insert(0, str(ch.sandbox))
    try:
        with mock.patch.dict(os.environ, {"DATABASE_URL": database_url}):
            forget("blog")
            import blog.models

            yield blog.models
    finally:
        forget("blog")
        sys.path.remove(str(ch.sandbox))


def migrate(ch: Chapter, revision: str, which: str = "blog", *, seed: bool = True) -> None:
    """Bring one of the chapter's databases to `revision` of the course's reviewed history,
    as the app's role, and give it the story's users and posts."""
    from sqlalchemy import NullPool, create_engine, text

    engine = create_engine(ch.url(which), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            upgrade(conn, revision)
            if seed:
                conn.execute(text(SEED_SQL))
            conn.commit()
    finally:
        engine.dispose()


def sqlite_app(ch: Chapter) -> None:
    """Chapter 01: the SQLite-era blog, create_all in its lifespan."""
    write_blog(ch.sandbox, likes=False)
    (ch.sandbox / "blog" / "main.py").write_text(main_with_create_all())
    write_private(ch.sandbox / ".env", f"DATABASE_URL={SQLITE_URL}\n")


def fresh_server_blog(ch: Chapter) -> None:
    """Chapter 02: the blog's files with the SQLite-era main.py; no reporter role yet."""
    write_blog(ch.sandbox, likes=False)
    (ch.sandbox / "blog" / "main.py").write_text(main_with_create_all())
    ch.backend.drop_role("ch02_reporter")


def blog_before_likes_with_env(ch: Chapter) -> None:
    write_blog(ch.sandbox, likes=False)
    write_env(ch)


def tables_from_create_all(ch: Chapter) -> None:
    """The end of chapter 02: the app started on PostgreSQL, its lifespan ran create_all,
    and people wrote posts. `prod` is a second copy of that database (with the same data);
    `fresh` is empty."""
    from sqlalchemy import NullPool, create_engine, text

    url = ch.url(admin=True).render_as_string(hide_password=False)
    with imported_blog(ch, url) as models:
        engine = create_engine(ch.url(), poolclass=NullPool)
        try:
            models.Base.metadata.create_all(engine)
            with engine.begin() as conn:
                conn.execute(text(SEED_SQL))
        finally:
            engine.dispose()
    ch.databases["prod"] = ch.backend.create_database(
        f"ch{ch.number}_prod", owner=ch.role, template=ch.database
    )


def alembic_at_0001(ch: Chapter) -> None:
    """The end of chapter 03: models without likes; the Alembic project as chapter 03 left it
    (revision 0001, compare_server_default still off)."""
    write_blog(ch.sandbox, likes=False)
    write_alembic(ch.sandbox, upto="0001", compare_server_default=False)
    write_env(ch)


def quiet_plugin_logging(ini: str) -> str:
    """Chapter 03's edit of alembic.ini: the autogenerate plugin lines at WARNING."""
    return ini.replace(
        "keys = root,sqlalchemy,alembic\n", "keys = root,sqlalchemy,alembic,alembic_plugins\n"
    ).replace(
        "[handler_console]",
        "[logger_alembic_plugins]\nlevel = WARNING\nhandlers =\n"
        "qualname = alembic.runtime.plugins\n\n[handler_console]",
    )


def chapter_03_files(target: Path) -> None:
    """What chapter 03 left a learner with, read from the notebook so the two never drift:
    env.py as its last `%%writefile alembic/env.py` cell writes it, and alembic.ini as
    `alembic init -t async` writes it with the chapter's logging edit
    (tests/test_solutions.py compares both with what running chapter 03 leaves).
    Made once per notebook, Alembic and course code, then copied: a reset need not import
    Alembic."""
    from importlib.metadata import version

    notebook = next((ROOT / "notebooks").glob("03-*.ipynb"))
    key = hashlib.sha256(notebook.read_bytes() + f"{version('alembic')} {digest()}".encode())
    made = sandboxes() / ".cache" / f"from_ch03_{key.hexdigest()[:12]}"
    if not made.is_dir():
        made.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=made.parent))
        write_chapter_03_files(notebook, building)
        try:
            building.rename(made)
        except OSError:  # another reset made it first
            shutil.rmtree(building)
        for stale in made.parent.glob("from_ch03_*"):  # made for an older notebook or code
            if stale != made:
                shutil.rmtree(stale, ignore_errors=True)
    shutil.copytree(made, target, dirs_exist_ok=True)


def write_chapter_03_files(notebook: Path, target: Path) -> None:
    from alembic import command
    from alembic.config import Config

    magic = "%%writefile alembic/env.py\n"
    cells = ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]]
    env = [c.removeprefix(magic) for c in cells if c.startswith(magic)][-1].rstrip("\n") + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        with chdir(tmp), redirect_stdout(io.StringIO()):  # init reports each file it writes
            command.init(Config("alembic.ini"), "alembic", "async")
        ini = quiet_plugin_logging(Path(tmp, "alembic.ini").read_text())
    (target / "env.py").write_text(env)
    (target / "alembic.ini").write_text(ini)


def alembic_at_0001_and_ch03_files(ch: Chapter) -> None:
    """Chapter 04's files: the course's reviewed Alembic project at 0001, and in ./from_ch03
    the env.py and alembic.ini a learner wrote in chapter 03, to compare them with."""
    alembic_at_0001(ch)
    env = ch.sandbox / "alembic" / "env.py"
    said = "4. `compare_server_default=True`: autogenerate also notices a changed server default."
    assert said in env.read_text(), "alembic/env.py's docstring changed; update chapters.py"
    env.write_text(
        env.read_text().replace(
            said, "4. `compare_server_default` is off, as in Alembic: chapter 04 turns it on."
        )
    )
    chapter_03_files(ch.sandbox / "from_ch03")


def sqlite_era_app_at_head(ch: Chapter) -> None:
    """The finished models and history, with the SQLite-era timezone workaround in main.py."""
    write_blog(ch.sandbox, likes=True)
    (ch.sandbox / "blog" / "main.py").write_text(main_source(workaround=True))
    write_alembic(ch.sandbox, upto="0002")
    write_env(ch)


def app_at_head(ch: Chapter) -> None:
    write_blog(ch.sandbox, likes=True)
    write_alembic(ch.sandbox, upto="0002")
    write_env(ch)


def legacy_timestamps(ch: Chapter) -> None:
    """The blog at head, but its date_posted is a legacy `timestamp` holding UTC wall times,
    as a database created by SQLite-era code and then stamped would have it. `copy` is the
    same database, for trying a migration the wrong way first; `staging` another one, for the
    hands-on exercise. The conversion runs in a UTC session, so it does not rewrite `posts`:
    the table keeps the file it was created with (relfilenode = oid), which the exercise's
    check uses to tell whether the learner's migration rewrote it."""
    from sqlalchemy import text

    migrate(ch, "head")
    with ch.engine(admin=True).begin() as conn:
        conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        conn.execute(text("ALTER TABLE posts ALTER COLUMN date_posted TYPE timestamp"))
    for short in ("copy", "staging"):
        ch.databases[short] = ch.backend.create_database(
            f"ch{ch.number}_{short}", owner=ch.role, template=ch.database
        )


def at_head_and_prod_behind(ch: Chapter) -> None:
    """The blog at head (0002); `prod` still at 0001 with its posts, waiting for a deploy."""
    migrate(ch, "head")
    migrate(ch, "0001", "prod")


# Chapter 08's big table: enough posts that a full UPDATE takes seconds, and a one-shot
# migration visibly blocks writers, while the chapter still runs in under 20 s.
BIG_POSTS = 200_000

BIG_POSTS_SQL = f"""
INSERT INTO posts (title, content, user_id, date_posted)
SELECT 'Notes on '
           || (ARRAY['PostgreSQL', 'Alembic', 'SQLAlchemy', 'FastAPI', 'psycopg'])[1 + n % 5]
           || ', part ' || n,
       'Generated post.', 1 + n % 2, timestamptz '2026-03-02' + n * interval '1 minute'
FROM generate_series(1, {BIG_POSTS}) AS n
"""


def big_blog_and_staging(ch: Chapter) -> None:
    """The blog at head with the story's users (now with pictures) and posts, plus BIG_POSTS
    generated posts; `staging` is the same blog without the generated posts."""
    from sqlalchemy import text

    for which in ("blog", "staging"):
        migrate(ch, "head", which)
        with ch.engine(which, admin=True).begin() as conn:
            conn.execute(text("UPDATE users SET image_file = username || '.png'"))
            if which == "blog":
                conn.execute(text(BIG_POSTS_SQL))
    # Frozen and analyzed once here, so the chapter's first full scan writes nothing; no
    # autovacuum on posts, so none starts in the middle of a measurement (the chapter says so).
    with ch.engine(admin=True).connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM (FREEZE, ANALYZE) posts")
        conn.exec_driver_sql("ALTER TABLE posts SET (autovacuum_enabled = off)")


def app_served_at_0002(ch: Chapter) -> None:
    """The blog with its API (main.py), ready to be served; its history up to 0002."""
    write_blog(ch.sandbox, likes=True)
    (ch.sandbox / "blog" / "main.py").write_text(main_source(workaround=False))
    write_alembic(ch.sandbox, upto="0002")
    write_env(ch)


def deploy_pending(ch: Chapter) -> None:
    """Production waits for a deploy: `blog` at 0001 (0002, likes, is pending), and two copies
    of it for starting two replicas at once; `naive` at head, for the one-step rename. Users
    have avatars (image_file), which the exercise renames."""
    from sqlalchemy import text

    for which, revision in (
        ("blog", "0001"),
        ("race", "0001"),
        ("locked", "0001"),
        ("naive", "head"),
    ):
        migrate(ch, revision, which)
        with ch.engine(which).begin() as conn:
            conn.execute(text("UPDATE users SET image_file = username || '.png'"))


def leftover_test_databases(ch: Chapter) -> list[str]:
    """Databases the sandbox's migration tests create (`<database>_test_<hex>`, one per test)
    and a test run that was killed left behind."""
    prefix = ch.backend.name(f"ch{ch.number}_")
    with ch.backend.connect() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
            "AND strpos(datname, '_test_') > 0",
            (prefix,),
        ).fetchall()
    return [name for (name,) in rows]


def app_that_tests_its_migrations(ch: Chapter) -> None:
    """Chapter 10: the blog at head (0002) with the course's history. Its role may create
    databases (CREATEDB, as a developer's role does), so the tests make one per test."""
    from psycopg import sql

    app_at_head(ch)
    with ch.backend.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(ch.role)))
        for name in leftover_test_databases(ch):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


STARTS: dict[str, Start] = {
    "00": Start(postgres=False),
    "01": Start(postgres=False, files=sqlite_app),
    "02": Start(create=False, by_hand=("blog_empty", "reporter"), files=fresh_server_blog),
    "03": Start(
        databases=("blog", "fresh"),
        special_password=True,
        files=blog_before_likes_with_env,
        data=tables_from_create_all,
    ),
    "04": Start(
        special_password=True,  # a URL-encoded password: the direct URL in env.py copes with %
        files=alembic_at_0001_and_ch03_files,
        data=lambda ch: migrate(ch, "0001"),
    ),
    "05": Start(files=app_at_head, data=lambda ch: migrate(ch, "head")),
    "06": Start(databases=("blog",), files=sqlite_era_app_at_head, data=legacy_timestamps),
    "07": Start(databases=("blog", "prod"), files=app_at_head, data=at_head_and_prod_behind),
    "08": Start(databases=("blog", "staging"), files=app_at_head, data=big_blog_and_staging),
    "09": Start(
        databases=("blog", "race", "locked", "naive"), files=app_served_at_0002, data=deploy_pending
    ),
    "10": Start(
        databases=("blog", "ci"),
        files=app_that_tests_its_migrations,
        data=lambda ch: migrate(ch, "head"),
    ),
}


def course_names(backend: Backend, number: str | None = None) -> list[str]:
    """Full names of the databases and roles the chapters make (all, or chapter `number`'s),
    including those a notebook creates by hand and so carry no marker (chapter 02)."""
    names = []
    for n, start in STARTS.items():
        if start.postgres and number in (None, n):
            names += [backend.name(f"ch{n}_{short}") for short in start.databases]
            names += [backend.name(f"ch{n}_{name}") for name in ("blog_user", *start.by_hand)]
    return names
