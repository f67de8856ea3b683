"""Chapter 03's exercises refuse the typical wrong answers, with a hint; the hands-on one is
checked against the chapter's real starting state and the typical wrong actions on prod."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from exercise_support import assert_refused, chapter_at_start
from sqlalchemy import text

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import outcome, solution, solve
from workshop_app.workshop.story import write_alembic

# Exercise 2's answers are tested against the chapter's own databases (below).
WRONG: dict[int, list[object]] = {2: ["2", 2, "0001", "head", ""]}


# ----- exercise 1 (hands-on): bring prod under Alembic, in the chapter's real state


@pytest.fixture
def chapter(backend: Backend, tmp_path: Path) -> Iterator[Chapter]:
    """Chapter 03 as its exercise finds it: prod from create_all with its posts, and the
    sandbox's Alembic project with the real initial migration (0001)."""
    with chapter_at_start("03", backend, tmp_path) as ch:
        write_alembic(ch.sandbox, upto="0001", compare_server_default=False)
        yield ch


def alembic(ch: Chapter, *args: str, which: str = "prod") -> subprocess.CompletedProcess:
    """The learner's command: `DATABASE_URL=<which> alembic ...` in the sandbox."""
    env = os.environ | {
        "DATABASE_URL": ch.url(which).render_as_string(hide_password=False),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    return subprocess.run(
        ["alembic", *args], cwd=ch.sandbox, env=env, capture_output=True, text=True
    )


def on_prod(ch: Chapter, sql: str) -> None:
    """SQL on prod as the app's role (the database's owner), as the learner would run it."""
    with ch.engine("prod").begin() as conn:
        conn.execute(text(sql))


def test_prod_at_the_start_waits(chapter: Chapter) -> None:
    result = outcome("03", 1, None, chapter)
    assert result.ok is None, result.line()
    assert "no alembic_version" in result.message


def test_a_failed_upgrade_on_prod_changes_nothing_and_still_waits(chapter: Chapter) -> None:
    run = alembic(chapter, "upgrade", "head")
    assert run.returncode != 0 and "DuplicateTable" in run.stderr, run.stderr[-500:]
    assert outcome("03", 1, None, chapter).ok is None


def test_stamping_the_blog_database_instead_leaves_prod_waiting(chapter: Chapter) -> None:
    assert alembic(chapter, "stamp", "head", which="blog").returncode == 0
    assert outcome("03", 1, None, chapter).ok is None


def recreate_and_upgrade(ch: Chapter) -> None:
    on_prod(ch, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    assert alembic(ch, "upgrade", "head").returncode == 0


def drop_tables(ch: Chapter) -> None:
    on_prod(ch, "DROP TABLE posts, users")


def stamp_base(ch: Chapter) -> None:
    assert alembic(ch, "stamp", "base").returncode == 0


def wrong_revision(ch: Chapter) -> None:
    on_prod(
        ch,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('0002')",
    )


def stamp_after_dropping_the_index(ch: Chapter) -> None:
    on_prod(ch, "DROP INDEX ix_posts_user_id")
    assert alembic(ch, "stamp", "head").returncode == 0


WRONG_ACTIONS: dict[Callable[[Chapter], None], str] = {
    recreate_and_upgrade: "lost 3 of its 3 posts",
    drop_tables: "tables were dropped",
    stamp_base: "records no revision",
    wrong_revision: "prod records 0002",
    stamp_after_dropping_the_index: "posts differ from what the initial migration creates",
}


@pytest.mark.parametrize("action", WRONG_ACTIONS, ids=lambda f: f.__name__)
def test_typical_wrong_actions_on_prod_get_a_precise_hint(
    action: Callable[[Chapter], None], chapter: Chapter
) -> None:
    action(chapter)
    result = outcome("03", 1, None, chapter)
    assert result.ok is False, result.line()
    assert WRONG_ACTIONS[action] in result.message, result.message


def test_the_solution_stamps_prod_and_keeps_its_posts(chapter: Chapter) -> None:
    solve("03", 1, chapter)
    result = outcome("03", 1, None, chapter)
    assert result.ok, result.line()
    posts = chapter.query("SELECT count(*) AS n FROM posts", "prod").n.iloc[0]
    assert posts == 3


def fresh_as_the_chapter_leaves_it(ch: Chapter) -> None:
    """The chapter ran the empty 0001 on fresh: it records 0001 and has no tables. A stamp
    gives the same state with the real 0001."""
    assert alembic(ch, "stamp", "head", which="fresh").returncode == 0


@pytest.mark.parametrize("answer", WRONG[2])
def test_wrong_table_counts_for_fresh_get_a_hint(answer: object, chapter: Chapter) -> None:
    fresh_as_the_chapter_leaves_it(chapter)
    assert_refused("03", 2, answer, chapter)


def test_fresh_counted_after_the_upgrade_passes(chapter: Chapter) -> None:
    fresh_as_the_chapter_leaves_it(chapter)
    assert alembic(chapter, "upgrade", "head", which="fresh").returncode == 0
    result = outcome("03", 2, solution("03", 2), chapter)
    assert result.ok, result.line()
    assert "poisons" in result.message


def test_counting_fresh_before_it_records_a_revision_gives_a_hint(chapter: Chapter) -> None:
    result = outcome("03", 2, 0, chapter)
    assert result.ok is False and "records no revision" in result.message, result.line()
