"""Chapter 10's exercises refuse the typical wrong answers, with a hint. The hands-on one runs
the learner's test for real: in the chapter's starting state, with the suite the notebook's
cells write, a test that cannot fail is refused."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from exercise_support import assert_refused, chapter_at_start

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import ch10, outcome, solution, solve
from workshop_app.workshop.settings import ROOT

NOTEBOOK = ROOT / "notebooks" / "10-testing-migrations.ipynb"
SUITE = ("pytest.ini", "conftest.py", "tests/test_migrations.py")
STUB = '''def test_single_head(alembic_config: Config) -> None:
    """Exercise 1: fail when the history has more than one head."""
    ...
'''


def written_by_the_notebook() -> dict[str, str]:
    """The files the chapter's %%writefile cells write, by path."""
    files = {}
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("%%writefile "):
            first, _, body = source.partition("\n")
            files[first.split()[-1]] = body + "\n"
    return files


@pytest.fixture(scope="module")
def chapter(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chapter]:
    """Chapter 10's real start (blog at 0002, its role may create databases), with the test
    suite the chapter writes before the exercise."""
    with chapter_at_start("10", backend, tmp_path_factory.mktemp("ch10")) as ch:
        yield ch


def with_suite(ch: Chapter, single_head: str | None = STUB) -> Path:
    """Write the chapter's suite into the sandbox, with `single_head` as the exercise's test."""
    files = written_by_the_notebook()
    for name in SUITE:
        (ch.sandbox / name).parent.mkdir(parents=True, exist_ok=True)
        (ch.sandbox / name).write_text(files[name])
    path = ch.sandbox / "tests" / "test_migrations.py"
    assert STUB in path.read_text(), "the notebook's stub changed; update STUB"
    if single_head is not None:
        path.write_text(path.read_text().replace(STUB, single_head))
    return path


def body(lines: str) -> str:
    return STUB.replace("    ...\n", "".join(f"    {line}\n" for line in lines.splitlines()))


def test_the_notebook_writes_the_suite_and_the_stub() -> None:
    files = written_by_the_notebook()
    assert set(SUITE) <= set(files)
    assert STUB in files["tests/test_migrations.py"]


def test_waiting_before_the_suite_exists_and_while_the_stub_is_unchanged(chapter: Chapter) -> None:
    (chapter.sandbox / "tests" / "test_migrations.py").unlink(missing_ok=True)
    assert outcome("10", 1, ch=chapter).ok is None
    with_suite(chapter)
    result = outcome("10", 1, ch=chapter)
    assert result.ok is None and "replace the `...` body" in result.message


TRIVIAL = {
    "assert True": body("assert True"),
    "pass": body("pass"),
    "docstring only": STUB.replace("    ...\n", ""),
}


@pytest.mark.parametrize("name", TRIVIAL)
def test_a_body_that_cannot_fail_is_refused_without_running(chapter: Chapter, name: str) -> None:
    with_suite(chapter, TRIVIAL[name])
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False and "cannot fail" in result.message, result.line()


def test_a_test_that_fails_on_one_head_gets_a_hint(chapter: Chapter) -> None:
    with_suite(
        chapter,
        body(
            "heads = ScriptDirectory.from_config(alembic_config).get_heads()\n"
            "assert len(heads) == 2"
        ),
    )
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False, result.line()
    assert "fails on this history" in result.message and "AssertionError" in result.message


def test_a_test_that_passes_with_two_heads_too_gets_a_hint(chapter: Chapter) -> None:
    with_suite(
        chapter,
        body(
            "heads = ScriptDirectory.from_config(alembic_config).get_heads()\n"
            "assert heads, 'no head at all'"
        ),
    )
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False, result.line()
    assert "second head" in result.message


def test_a_test_that_counts_todays_revisions_gets_a_hint(chapter: Chapter) -> None:
    """Right on this history, wrong after the next migration: it would fail every new commit."""
    with_suite(chapter, body("assert len(revisions(alembic_config)) == 2"))
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False, result.line()
    assert "one more revision" in result.message


def test_broken_syntax_and_a_missing_test_get_hints(chapter: Chapter) -> None:
    with_suite(chapter, body("assert len(heads) ==="))
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False and "does not parse" in result.message
    path = with_suite(chapter)
    path.write_text(path.read_text().replace("def test_single_head(", "def test_one_head("))
    result = outcome("10", 1, ch=chapter)
    assert result.ok is False and "test_single_head" in result.message


def test_the_solution_passes_and_leaves_no_test_database(chapter: Chapter) -> None:
    with_suite(chapter)
    solve("10", 1, chapter)
    source = (chapter.sandbox / "tests" / "test_migrations.py").read_text()
    assert "...\n" not in source.split("def test_single_head", 1)[1]
    result = outcome("10", 1, ch=chapter)
    assert result.ok, result.line()
    with chapter.backend.connect() as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
            (chapter.database + "_test_",),
        ).fetchall()
    assert left == []
    assert not list((chapter.sandbox / "alembic" / "versions").glob("9999_*"))  # copy only


def test_the_stairway_walks_a_history_with_a_merge(chapter: Chapter, tmp_path: Path) -> None:
    """Chapter 07 teaches merges: the chapter's stairway must pass on such a history too
    (`downgrade -1` from a merge is ambiguous)."""
    with_suite(chapter)
    project = tmp_path / "project"
    shutil.copytree(chapter.sandbox, project, ignore=shutil.ignore_patterns("__pycache__"))
    versions = project / "alembic" / "versions"
    for rev, parents in (("0003", "0002"), ("0004", "0002"), ("0005", ("0003", "0004"))):
        (versions / f"{rev}_x.py").write_text(ch10.EMPTY_REVISION.format(rev=rev, parents=parents))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the project's .env
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-W",
            "error",
            "tests/test_migrations.py::test_stairway",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-2000:]


WRONG_2 = [
    "test_stairway",
    "test_models_match_head",
    "test_single_head",
    "alembic check",
    "",
    "test_migrations",
]


@pytest.mark.parametrize("answer", WRONG_2)
def test_exercise_2_refuses_the_other_tests(answer: str) -> None:
    assert_refused("10", 2, answer, None)


@pytest.mark.parametrize(
    "answer",
    [
        "test_data_survives",
        " tests/test_migrations.py::test_data_survives ",
        "test_data_survives()",
    ],
)
def test_exercise_2_accepts_the_data_test(answer: str) -> None:
    assert solution("10", 2) == "test_data_survives"
    result = outcome("10", 2, answer, None)
    assert result.ok, result.line()
    assert re.search(r"alter_column", result.message)
    assert "NotNullViolation" in result.message  # why the test fails, as the suite shows it


RENAME = '''"""rename posts.title to headline"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''
RENAMES = {
    "alter_column": (
        '    op.alter_column("posts", "title", new_column_name="headline")',
        '    op.alter_column("posts", "headline", new_column_name="title")',
    ),
    # What autogenerate writes for the renamed model attribute (exercise 2), add first.
    "autogenerate": (
        '    op.add_column("posts", sa.Column("headline", sa.String(length=100), nullable=False))\n'
        '    op.drop_column("posts", "title")',
        '    op.add_column("posts", sa.Column("title", sa.VARCHAR(length=100), nullable=False))\n'
        '    op.drop_column("posts", "headline")',
    ),
    "nullable drop and add": (
        '    op.add_column("posts", sa.Column("headline", sa.String(length=100)))\n'
        '    op.drop_column("posts", "title")',
        '    op.add_column("posts", sa.Column("title", sa.VARCHAR(length=100)))\n'
        '    op.drop_column("posts", "headline")',
    ),
}


def data_test_with(ch: Chapter, rename: str) -> str:
    """Run the chapter's test_data_survives on the history plus a 0003 renaming posts.title
    (written as `rename`); its output, or "" when it passed."""
    with_suite(ch)
    upgrade, downgrade = RENAMES[rename]
    migration = ch.sandbox / "alembic" / "versions" / "0003_rename_title.py"
    migration.write_text(RENAME.format(upgrade=upgrade, downgrade=downgrade))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the sandbox's .env
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "--tb=line",
                f"{ch10.TESTS}::test_data_survives",
            ],
            cwd=ch.sandbox,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        migration.unlink()
    return "" if run.returncode == 0 else run.stdout


def test_the_data_test_passes_a_rename_written_with_alter_column(chapter: Chapter) -> None:
    """Cell 7's promise: a new migration is tested without changing the tests."""
    assert data_test_with(chapter, "alter_column") == ""


def test_the_data_test_fails_autogenerates_rename_at_its_not_null_column(
    chapter: Chapter,
) -> None:
    """Exercise 2's scenario, and why: the NOT NULL column cannot be added to rows."""
    output = data_test_with(chapter, "autogenerate")
    assert "NotNullViolation" in output and "headline" in output, output


def test_the_data_test_fails_a_drop_and_add_that_loses_the_titles_silently(
    chapter: Chapter,
) -> None:
    output = data_test_with(chapter, "nullable drop and add")
    assert "lost" in output and "Hello" in output, output
