"""The chapter kit: exercise checks tell right from wrong, and the schema comparison is honest."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from conftest import alembic_config
from sqlalchemy import text

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.checks import CHECKS, solution
from workshop_app.workshop.kit import Chapter, compare_with_reference

WRONG = {
    ("01", 1): ["a", "b"],
    ("01", 2): ["ALTER TABLE posts ADD COLUMN likes INTEGER",
                "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 1",
                "ALTER TABLE users ADD COLUMN likes INTEGER NOT NULL DEFAULT 0"],
    ("02", 1): ["SELECT title FROM posts WHERE title = :author",
                "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id "
                "WHERE u.username = 'ada'",
                "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id"],
    ("02", 2): ["postgresql+psycopg://blog_user:p@ss/w%rd@localhost:5432/blog",
                "postgresql+psycopg://blog_user:p%40ss%2Fw%25rd@localhost:5432/postgres"],
    ("03", 1): ["0002", "head", ""],
    ("03", 2): [lambda url: url, lambda url: url.replace("%", "%%%"), "not a function"],
    ("04", 1): ["ALTER TABLE posts ADD COLUMN views integer",
                "ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 1",
                "ALTER TABLE posts ADD COLUMN views double precision NOT NULL "
                "DEFAULT floor(random())",
                "ALTER TABLE posts ADD COLUMN view integer NOT NULL DEFAULT 0"],
    ("04", 2): ["RowExclusiveLock", "AccessShareLock", "ShareLock"],
    ("05", 1): [datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 1, 10, 0),
                "2026-07-01T14:00:00+00:00", "noon"],
    ("05", 2): ["created_at", "created_at AT TIME ZONE 'America/New_York'", "now()"],
    ("06", 1): ["alembic current", "alembic upgrade head", "alembic heads"],
    ("06", 2): [{"0003", "0004"}, {"0004"}, "0004, 0005"],
}  # fmt: skip


MERGE = """revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005")
"""


@pytest.fixture
def chapter(
    backend: Backend, database: str, app_database: str, tmp_path: Path
) -> Iterator[Chapter]:
    """A chapter whose `blog` and `prod` databases are the test's own, migrated to 0001,
    with posts by ada and linus; prod stamped at 0001."""
    ch = Chapter("99", backend, tmp_path, databases={"blog": database, "prod": database})
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0006_merge_alice_and_bob.py").write_text(MERGE)  # as chapter 06 writes it
    with ch.engine(admin=True).connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text(
            "INSERT INTO users (username, email, password_hash) VALUES "
            "('ada', 'ada@example.com', 'x'), ('linus', 'linus@example.com', 'x');"
            "INSERT INTO posts (title, content, user_id, date_posted) VALUES "
            "('A', 'a', 1, now()), ('B', 'b', 1, now()), ('L', 'l', 2, now())"
        ))  # fmt: skip
        conn.commit()
    yield ch


@pytest.mark.parametrize("key", sorted(CHECKS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_each_check_passes_the_solution_and_fails_wrong_answers(
    key: tuple[str, int], chapter: Chapter
) -> None:
    check = CHECKS[key]
    ok, message = check(solution(*key), chapter)
    assert ok, message
    for wrong in WRONG[key]:
        ok, message = check(wrong, chapter)
        assert not ok, f"{key} accepted {wrong!r}"
        assert message  # a hint, not silence


def test_compare_with_reference_tells_a_difference(
    chapter: Chapter, capsys: pytest.CaptureFixture[str]
) -> None:
    compare_with_reference(chapter, revision="0001")
    assert "as the course's 0001: True" in capsys.readouterr().out
    with chapter.engine(admin=True).begin() as conn:
        conn.execute(text("DROP INDEX ix_posts_user_id"))
    compare_with_reference(chapter, revision="0001")
    out = capsys.readouterr().out
    assert "as the course's 0001: False" in out
    assert "ix_posts_user_id" in out  # the difference is shown
