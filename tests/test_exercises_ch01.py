"""Chapter 01's exercises refuse the typical wrong answers, with a hint; the hands-on one is
checked on the SQLite files as the chapter leaves them."""

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from exercise_support import assert_refused, cases

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.chapters import sqlite_app
from workshop_app.workshop.exercises import outcome, solution, solve
from workshop_app.workshop.story import models_source

WRONG: dict[int, list[object]] = {
    1: ["a", "c", "comments"],
    2: [
        "ALTER TABLE posts ADD COLUMN likes INTEGER",
        "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN likes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posts ADD COLUMN likes TEXT NOT NULL DEFAULT 0",
        "DROP TABLE posts; CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(100), "
        "likes INTEGER NOT NULL DEFAULT 0)",
    ],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("01", number, answer, blog_0001)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("01", number, solution("01", number), blog_0001)
    assert result.ok, result.line()


def create_all(sandbox: Path, database: Path) -> None:
    """The sandbox's own models, created on a SQLite file with create_all (sync)."""
    from sqlalchemy import create_engine

    from workshop_app.workshop.chapters import imported_blog

    ch = Chapter("01", None, sandbox)  # type: ignore[arg-type]
    with imported_blog(ch, f"sqlite+aiosqlite:///{database}") as models:
        engine = create_engine(f"sqlite:///{database}")
        models.Base.metadata.create_all(engine)
        engine.dispose()


@pytest.fixture
def chapter_01(tmp_path: Path) -> Chapter:
    """Chapter 01 as its body leaves it: backup.db with the three posts and no likes; blog.db
    recreated by create_all from the models with likes, and empty."""
    ch = Chapter("01", None, tmp_path)  # type: ignore[arg-type]  # SQLite only
    sqlite_app(ch)
    create_all(tmp_path, tmp_path / "blog.db")
    with closing(sqlite3.connect(tmp_path / "blog.db")) as db, db:
        db.executescript(
            "INSERT INTO users (id, username, email, password_hash) VALUES "
            "(1, 'ada', 'a@x', 'x'), (2, 'linus', 'l@x', 'x');"
            "INSERT INTO posts (title, content, user_id, date_posted) VALUES "
            "('Hello, blog', 'c', 1, '2026-01-01'), ('Why SQLite?', 'c', 1, '2026-01-01'), "
            "('Kernel news', 'c', 2, '2026-01-01');"
        )
    shutil.copy(tmp_path / "blog.db", tmp_path / "backup.db")
    (tmp_path / "blog.db").unlink()
    (tmp_path / "blog" / "models.py").write_text(models_source(likes=True))
    create_all(tmp_path, tmp_path / "blog.db")
    return ch


def run(db: Path, script: str) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.executescript(script)


def test_hands_on_waits_at_start_and_the_solution_passes(chapter_01: Chapter) -> None:
    assert outcome("01", 3, ch=chapter_01).ok is None
    solve("01", 3, chapter_01)
    result = outcome("01", 3, ch=chapter_01)
    assert result.ok, result.line()


WRONG_ACTIONS = {
    "backup.db migrated, blog.db left empty": [("backup.db", solution("01", 2))],
    "restored, not migrated": [("copy", "")],
    "nullable": [("copy", ""), ("blog.db", "ALTER TABLE posts ADD COLUMN likes INTEGER")],
    "default 1": [("copy", ""), ("blog.db", "ALTER TABLE posts ADD likes INT NOT NULL DEFAULT 1")],
    "text": [("copy", ""), ("blog.db", "ALTER TABLE posts ADD likes TEXT NOT NULL DEFAULT 0")],
    "data lost": [("copy", ""), ("blog.db", "DELETE FROM posts WHERE id = 1;" + solution("01", 2))],
}


@pytest.mark.parametrize("steps", WRONG_ACTIONS.values(), ids=list(WRONG_ACTIONS))
def test_hands_on_wrong_actions_get_hints(chapter_01: Chapter, steps: list) -> None:
    for target, script in steps:
        if target == "copy":
            shutil.copy(chapter_01.sandbox / "backup.db", chapter_01.sandbox / "blog.db")
        else:
            run(chapter_01.sandbox / target, script)
    result = outcome("01", 3, ch=chapter_01)
    assert result.ok is False, result.line()
    assert "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 0" not in result.message


def test_hands_on_without_blog_db_gets_a_hint(chapter_01: Chapter) -> None:
    (chapter_01.sandbox / "blog.db").unlink()
    assert outcome("01", 3, ch=chapter_01).ok is False
