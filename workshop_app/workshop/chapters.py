"""Where the story stands when each chapter begins (used by kit.setup)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from unittest import mock

from sqlalchemy import NullPool, create_engine, text

from workshop_app.workshop.kit import Chapter, forget, write_env, write_private
from workshop_app.workshop.settings import ROOT
from workshop_app.workshop.state import Start
from workshop_app.workshop.story import main_source, write_alembic, write_blog

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
    from alembic import command
    from alembic.config import Config

    url = ch.url(which)
    engine = create_engine(url, poolclass=NullPool)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}  # env.py imports the app
    try:
        with mock.patch.dict(os.environ, env), engine.connect() as conn:
            cfg = Config(str(ROOT / "alembic.ini"))
            cfg.attributes.update(connection=conn, configure_logger=False)
            command.upgrade(cfg, revision)
            if seed:
                conn.execute(text(SEED_SQL))
            conn.commit()
    finally:
        engine.dispose()


CREATE_ALL_LIFESPAN = (
    "    async with engine.begin() as conn:  # create the tables that are missing\n"
    "        await conn.run_sync(Base.metadata.create_all)\n"
)


def main_with_create_all() -> str:
    """The app's main.py as the SQLite-era blog had it: create_all in the lifespan (and the
    timezone workaround, which chapter 06 removes)."""
    source = main_source(workaround=True)
    edits = {
        '"""The blog\'s API. Its schema comes from Alembic migrations: nothing here creates '
        'tables."""': '"""The blog\'s API. Its lifespan creates the tables that are missing."""',
        "    # No Base.metadata.create_all here: `alembic upgrade head` owns the schema.\n":
            CREATE_ALL_LIFESPAN,
        "import engine, get_db": "import Base, engine, get_db",
    }  # fmt: skip
    for old, new in edits.items():
        assert old in source, f"main.py changed; update chapters.main_with_create_all ({old})"
        source = source.replace(old, new)
    return source


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
    same database, for trying a migration the wrong way first."""
    migrate(ch, "head")
    with ch.engine(admin=True).begin() as conn:
        conn.execute(text("ALTER TABLE posts ALTER COLUMN date_posted TYPE timestamp "
                          "USING date_posted AT TIME ZONE 'UTC'"))  # fmt: skip
    ch.databases["copy"] = ch.backend.create_database(
        f"ch{ch.number}_copy", owner=ch.role, template=ch.database
    )


def at_head_and_prod_behind(ch: Chapter) -> None:
    """The blog at head (0002); `prod` still at 0001 with its posts, waiting for a deploy."""
    migrate(ch, "head")
    migrate(ch, "0001", "prod")


def leftover_test_databases(ch: Chapter) -> list[str]:
    """Databases the sandbox's migration tests create (`<database>_test_<hex>`, one per test)
    and a test run that was killed left behind."""
    prefix = ch.backend.name(f"ch{ch.number}_")
    with ch.backend.connect() as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
                            "AND strpos(datname, '_test_') > 0", (prefix,)).fetchall()  # fmt: skip
    return [name for (name,) in rows]


def app_that_tests_its_migrations(ch: Chapter) -> None:
    """Chapter 10: the blog at head (0002) with the course's history. Its role may create
    databases (CREATEDB, as a developer's role does), so the tests make one per test."""
    from psycopg import sql

    app_at_head(ch)
    with ch.backend.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(ch.role)))
        for name in leftover_test_databases(ch):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))  # fmt: skip


STARTS: dict[str, Start] = {
    "00": Start(postgres=False),
    "01": Start(postgres=False, files=sqlite_app),
    "02": Start(create=False, roles=("reporter",), files=fresh_server_blog),
    "03": Start(
        databases=("blog", "fresh"),
        special_password=True,
        files=blog_before_likes_with_env,
        data=tables_from_create_all,
    ),  # fmt: skip
    "04": Start(files=alembic_at_0001, data=lambda ch: migrate(ch, "0001")),
    "05": Start(files=app_at_head, data=lambda ch: migrate(ch, "head")),
    "06": Start(databases=("blog",), files=sqlite_era_app_at_head, data=legacy_timestamps),
    "07": Start(databases=("blog", "prod"), files=app_at_head, data=at_head_and_prod_behind),
    "10": Start(
        databases=("blog", "ci"),
        files=app_that_tests_its_migrations,
        data=lambda ch: migrate(ch, "head"),
    ),
}
