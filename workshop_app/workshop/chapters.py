"""Where the story stands when each chapter begins (used by kit.setup)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from unittest import mock

from sqlalchemy import NullPool, create_engine, text

from workshop_app.workshop.kit import Chapter, Start, forget, write_env
from workshop_app.workshop.story import write_blog

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


def sqlite_app(ch: Chapter) -> None:
    write_blog(ch.sandbox, likes=False)
    (ch.sandbox / ".env").write_text(f"DATABASE_URL={SQLITE_URL}\n")


def blog_files(ch: Chapter) -> None:
    write_blog(ch.sandbox, likes=False)


def tables_from_create_all(ch: Chapter) -> None:
    """The end of chapter 02: the app started on PostgreSQL, its lifespan ran create_all,
    and people wrote posts. `prod` is a second copy of that database (with the same data);
    `fresh` is empty."""
    write_blog(ch.sandbox, likes=False)
    write_env(ch)
    url = ch.url(admin=True).render_as_string(hide_password=False)
    with imported_blog(ch, url) as models:
        engine = create_engine(ch.url(), poolclass=NullPool)
        try:
            models.Base.metadata.create_all(engine)
            with engine.begin() as conn:
                conn.execute(text(SEED_SQL))
        finally:
            engine.dispose()
    ch.databases["prod"] = ch.backend.create_database("ch03_prod", owner=ch.role,
                                                      template=ch.database)  # fmt: skip


STARTS: dict[str, Start] = {
    "00": Start(postgres=False),
    "01": Start(postgres=False, prepare=sqlite_app),
    "02": Start(create=False, prepare=blog_files),
    "03": Start(
        databases=("blog", "fresh"), special_password=True, prepare=tables_from_create_all
    ),  # fmt: skip
}
