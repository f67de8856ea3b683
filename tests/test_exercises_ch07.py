"""Chapter 07's exercises refuse the typical wrong answers, with a hint; the hands-on one is
tried in the chapter's real starting state."""

import importlib.util
from pathlib import Path

import pytest
from exercise_support import assert_refused, cases, chapter_at_start

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import ch07, outcome, solution, solve
from workshop_app.workshop.settings import ROOT

WRONG: dict[int, list[object]] = {
    1: ["a", "c", "d", "C)", "alembic check", "0005", "e"],
    2: ["0004", "0005", "0003", ("0004", "0005"), {"0004", "0005"}, "head", "0007", 6],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("07", number, answer, blog_0001)


def test_a_second_child_of_both_branches_is_explained_as_a_second_head() -> None:
    result = outcome("07", 2, ("0005", "0004"))
    assert result.ok is False and "second head" in result.message


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("07", number, solution("07", number), blog_0001)
    assert result.ok, result.line()


# ----- 3, hands-on: an index on posts.date_posted, CONCURRENTLY, deployed to prod

spec = importlib.util.spec_from_file_location(
    "solutions_ch07", ROOT / "notebooks/solutions/ch07.py"
)
assert spec and spec.loader
solutions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(solutions)

PLAIN = """    op.create_index("ix_posts_date_posted", "posts", ["date_posted"])"""
IN_TRANSACTION = (
    """    op.create_index("ix_posts_date_posted", "posts", ["date_posted"], """
    """postgresql_concurrently=True)"""
)
NOT_ROBUST = """    with op.get_context().autocommit_block():
        op.create_index("ix_posts_date_posted", "posts", ["date_posted"],
                        postgresql_concurrently=True)"""

IF_NOT_EXISTS_ALONE = """    with op.get_context().autocommit_block():
        op.create_index("ix_posts_date_posted", "posts", ["date_posted"],
                        postgresql_concurrently=True, if_not_exists=True)"""
UNDER_ENV_LIMITS = """    with op.get_context().autocommit_block():
        op.drop_index("ix_posts_date_posted", table_name="posts", postgresql_concurrently=True,
                      if_exists=True)
        op.create_index("ix_posts_date_posted", "posts", ["date_posted"],
                        postgresql_concurrently=True, if_not_exists=True)"""
NOT_RESTORED = UNDER_ENV_LIMITS.replace(
    "    with op.get_context().autocommit_block():\n",
    "    with op.get_context().autocommit_block():\n"
    '        op.execute("SET statement_timeout = 0")\n'
    "        op.execute(\"SET lock_timeout = '1min'\")\n",
)


def with_env_limits(ch: Chapter) -> None:
    """env.py as the chapter leaves it before the exercises: it sets both timeouts."""
    env = ch.sandbox / "alembic" / "env.py"
    block = "    with context.begin_transaction():\n        context.run_migrations()\n"
    assert block in env.read_text()
    env.write_text(
        env.read_text().replace(
            block,
            "    with context.begin_transaction():\n"
            "        context.execute(\"SET lock_timeout = '500ms'\")\n"
            "        context.execute(\"SET statement_timeout = '60s'\")\n"
            "        context.run_migrations()\n",
        )
    )


def write_0007(ch: Chapter, upgrade: str) -> Path:
    solutions.alembic(ch, "revision", "--rev-id", "0007", "-m", "index posts by date")
    path = ch.sandbox / "alembic" / "versions" / "0007_index_posts_by_date.py"
    path.write_text(path.read_text().replace('    """Upgrade schema."""\n    pass', upgrade))
    return path


def deploy(ch: Chapter, check: bool = True) -> None:
    url = ch.url("prod").render_as_string(hide_password=False)
    if check:
        solutions.alembic(ch, "upgrade", "head", DATABASE_URL=url)
    else:
        with pytest.raises(Exception):  # noqa: B017 - the deploy is meant to fail
            solutions.alembic(ch, "upgrade", "head", DATABASE_URL=url)


def verdict(ch: Chapter) -> tuple[bool | None, str]:
    result = outcome("07", 3, None, ch)
    return result.ok, result.message


@pytest.fixture
def start(backend: Backend, tmp_path: Path):
    with chapter_at_start("07", backend, tmp_path) as ch:
        yield ch


def test_hands_on_waits_at_the_start_then_the_solution_passes(start: Chapter) -> None:
    assert verdict(start)[0] is None
    solve("07", 3, start)
    ok, message = verdict(start)
    assert ok, message
    valid = start.query(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_posts_date_posted'::regclass",
        "prod",
    )
    assert valid.indisvalid.tolist() == [True]


def test_hands_on_a_plain_create_index_is_flagged_even_when_deployed(start: Chapter) -> None:
    write_0007(start, PLAIN)
    deploy(start)
    ok, message = verdict(start)
    assert ok is False and "blocks every write" in message


def test_hands_on_concurrently_inside_the_transaction_fails_and_is_flagged(start: Chapter) -> None:
    write_0007(start, IN_TRANSACTION)
    deploy(start, check=False)  # PostgreSQL refuses CONCURRENTLY in a transaction block
    ok, message = verdict(start)
    assert ok is False and "autocommit_block" in message


def test_hands_on_a_build_that_cannot_be_rerun_is_flagged(start: Chapter) -> None:
    write_0007(start, NOT_ROBUST)
    deploy(start)
    ok, message = verdict(start)
    assert ok is False and "INVALID" in message


@pytest.mark.parametrize(
    ("upgrade", "env_limits", "expected"),
    [
        # squawk passes it, but a rerun after a failed build keeps the INVALID index
        (IF_NOT_EXISTS_ALONE, False, ("IF NOT EXISTS", "drop")),
        (UNDER_ENV_LIMITS, True, ("statement_timeout", "60s")),
        (NOT_RESTORED, True, ("after yours",)),
    ],
    ids=["if-not-exists-alone", "under-env-timeouts", "limits-not-set-back"],
)
def test_hands_on_a_build_that_is_not_safe_is_flagged(
    start: Chapter, upgrade: str, env_limits: bool, expected: tuple[str, ...]
) -> None:
    if env_limits:
        with_env_limits(start)
    write_0007(start, upgrade)
    deploy(start)
    ok, message = verdict(start)
    assert ok is False and all(text in message for text in expected), message


def test_hands_on_the_solution_passes_under_env_pys_timeouts(start: Chapter) -> None:
    with_env_limits(start)
    solve("07", 3, start)
    ok, message = verdict(start)
    assert ok, message


def test_hands_on_the_migration_deployed_without_the_model_change_fails_alembic_check(
    start: Chapter,
) -> None:
    write_0007(start, solutions.UPGRADE)
    deploy(start)
    ok, message = verdict(start)
    assert ok is False and "alembic check" in message and "ix_posts_date_posted" in message


def test_hands_on_a_right_migration_not_deployed_says_so(start: Chapter) -> None:
    write_0007(start, solutions.UPGRADE)
    ok, message = verdict(start)
    assert ok is False and "deploy it" in message


def test_hands_on_an_index_made_by_hand_or_left_invalid_gets_a_hint(start: Chapter) -> None:
    engine = start.engine("prod")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(
            "INSERT INTO posts (title, content, user_id, date_posted) SELECT "
            "'again', 'a copy', user_id, date_posted FROM posts LIMIT 1"
        )
        with pytest.raises(Exception):  # noqa: B017 - duplicates: the build fails
            conn.exec_driver_sql(
                "CREATE UNIQUE INDEX CONCURRENTLY ix_posts_date_posted ON posts (date_posted)"
            )
    ok, message = verdict(start)
    assert ok is False and "INVALID" in message
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("DROP INDEX CONCURRENTLY ix_posts_date_posted")
        conn.exec_driver_sql(
            "CREATE INDEX CONCURRENTLY ix_posts_date_posted ON posts (date_posted)"
        )
    engine.dispose()
    ok, message = verdict(start)
    assert ok is False and "no migration creates it" in message


def test_a_build_that_waits_only_env_pys_lock_timeout_is_flagged() -> None:
    """The statement_timeout lifted, lock_timeout still 500 ms: one open report cancels it."""
    sql = (
        "BEGIN;\n\nSET lock_timeout = '500ms';\n\nSET statement_timeout = '60s';\n\n"
        "-- Running upgrade 0006 -> 0007\n\nCOMMIT;\n\nSET statement_timeout = 0;\n\n"
        "DROP INDEX CONCURRENTLY IF EXISTS ix_posts_date_posted;\n\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_posts_date_posted ON posts (date_posted);\n"
    )
    problem = ch07.build_problem(sql)
    assert problem and "lock_timeout 500ms" in problem
    fixed = sql.replace(
        "SET statement_timeout = 0;", "SET statement_timeout = 0;\n\nSET lock_timeout = '1min';"
    )
    assert "after yours" in ch07.build_problem(fixed)  # nothing set back afterwards
    restored = fixed + "\nSET statement_timeout = '60s';\n\nSET lock_timeout = '500ms';\n"
    assert ch07.build_problem(restored) is None
