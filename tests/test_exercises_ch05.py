"""Chapter 05's exercises: wrong answers get a hint, a learner's SQL can never change the
chapter's database, and the hands-on check runs the learner's env.py for real."""

from pathlib import Path

import pytest
from exercise_support import assert_refused, cases, chapter_at_start

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import outcome, solution, solve

ESCAPES = [
    "BEGIN; ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 0; COMMIT;",
    "COMMIT; DROP TABLE posts CASCADE",
]
WRONG: dict[int, list[object]] = {
    1: [
        "ALTER TABLE posts ADD COLUMN views integer",
        "ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 1",
        "ALTER TABLE posts ADD COLUMN views double precision NOT NULL DEFAULT floor(random())",
        "ALTER TABLE posts ADD COLUMN view integer NOT NULL DEFAULT 0",
        "ALTER TABLE post ADD COLUMN views integer NOT NULL DEFAULT 0",
        "DROP TABLE posts CASCADE",
        "ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 0; DROP TABLE users CASCADE",
        *ESCAPES,
    ],
    2: ["AccessExclusiveLock", "ShareUpdateExclusiveLock", "RowExclusiveLock", "exclusive"],
}
POSTS = """SELECT string_agg(column_name, ',' ORDER BY ordinal_position) AS columns,
                  (SELECT count(*) FROM posts) AS posts
           FROM information_schema.columns WHERE table_name = 'posts'"""
SET_LOCAL = (
    "    with context.begin_transaction():\n"
    "        context.execute(\"SET LOCAL lock_timeout = '500ms'\")\n"
    "        context.run_migrations()\n"
)


@pytest.fixture(scope="module")
def ch(backend: Backend, tmp_path_factory: pytest.TempPathFactory):
    with chapter_at_start("05", backend, tmp_path_factory.mktemp("ch05")) as chapter:
        yield chapter


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, ch: Chapter) -> None:
    assert_refused("05", number, answer, ch)


@pytest.mark.parametrize("number", [1, 2])
def test_the_solution_passes(number: int, ch: Chapter) -> None:
    result = outcome("05", number, solution("05", number), ch)
    assert result.ok, result.line()


@pytest.mark.parametrize("answer", ESCAPES)
def test_a_learners_sql_never_reaches_the_chapters_database(answer: str, ch: Chapter) -> None:
    before = ch.query(POSTS).to_dict("records")
    assert before[0]["columns"] == "id,title,content,user_id,date_posted,likes"
    assert_refused("05", 1, answer, ch)
    outcome("05", 1, solution("05", 1), ch)  # a right answer changes nothing either
    assert ch.query(POSTS).to_dict("records") == before  # a new connection's view


@pytest.fixture
def fresh(backend: Backend, tmp_path: Path):
    """Chapter 05 with env.py as the chapter leaves it: SET LOCAL in Alembic's transaction."""
    with chapter_at_start("05", backend, tmp_path) as chapter:
        env = chapter.sandbox / "alembic" / "env.py"
        online = "    configure(connection=connection)\n"
        plain = "    with context.begin_transaction():\n        context.run_migrations()\n"
        env.write_text(env.read_text().replace(online + plain, online + SET_LOCAL))
        assert "SET LOCAL" in env.read_text()
        yield chapter


def per_migration(ch: Chapter) -> Path:
    env = ch.sandbox / "alembic" / "env.py"
    env.write_text(
        env.read_text().replace(
            "        target_metadata=target_metadata,\n",
            "        target_metadata=target_metadata,\n        transaction_per_migration=True,\n",
        )
    )
    return env


def test_the_hands_on_exercise_waits_then_the_solution_passes(fresh: Chapter) -> None:
    assert outcome("05", 3, None, fresh).ok is None
    solve("05", 3, fresh)
    result = outcome("05", 3, None, fresh)
    assert result.ok, result.line()


def test_set_local_with_a_transaction_per_migration_gets_a_hint(fresh: Chapter) -> None:
    per_migration(fresh)
    result = outcome("05", 3, None, fresh)
    assert result.ok is False and "SET LOCAL" in result.message, result.line()
    assert "500ms in the first revision and 0 in the second" in result.message


def test_a_set_before_configure_gets_a_hint(fresh: Chapter) -> None:
    env = per_migration(fresh)
    env.write_text(
        env.read_text().replace(
            "def do_run_migrations(connection: Connection) -> None:\n",
            "def do_run_migrations(connection: Connection) -> None:\n"
            "    connection.exec_driver_sql(\"SET lock_timeout = '500ms'\")\n",
        )
    )
    result = outcome("05", 3, None, fresh)
    assert result.ok is False and "nothing was committed" in result.message, result.line()


def test_one_transaction_for_both_revisions_gets_a_hint(fresh: Chapter) -> None:
    env = fresh.sandbox / "alembic" / "env.py"
    env.write_text(
        env.read_text() + "\n# transaction_per_migration=True  (a comment does nothing)\n"
    )
    assert outcome("05", 3, None, fresh).ok is None  # a comment is not an edit
    env.write_text(
        env.read_text().replace(
            "configure(url=settings.database_url,",
            "configure(transaction_per_migration=True, url=settings.database_url,",
        )
    )
    result = outcome("05", 3, None, fresh)
    assert result.ok is False and "one transaction" in result.message, result.line()
