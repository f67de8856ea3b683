"""Chapter 10: testing migrations."""

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint, waiting

TESTS = Path("tests") / "test_migrations.py"
NODE = f"{TESTS.as_posix()}::test_single_head"

# A revision for a copy of the history, on top of its parent(s): on the first revision it is a
# second head; on the head, one more migration in line (still one head).
EMPTY_REVISION = '''"""{rev}: an empty revision, for the check"""

revision = "{rev}"
down_revision = {parents!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def single_head_test(source: str) -> ast.FunctionDef | None:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "test_single_head":
            return node
    return None


def does_nothing(test: ast.FunctionDef) -> bool:
    """A body of only a docstring, `...`, `pass` or `assert True`: a test that cannot fail."""
    for stmt in test.body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring, or `...`
        if isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Constant) and stmt.test.value:
            continue
        return False
    return True


def run_test(project: Path) -> subprocess.CompletedProcess[str]:
    """The learner's test, by node id, with the project's own pytest settings."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the project's .env
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--tb=no", "-rfE", NODE],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def why(run: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in run.stdout.splitlines() if line.startswith(("E ", "FAILED", "ERROR"))]
    return (lines or run.stdout.strip().splitlines()[-1:] or ["(no output)"])[0].strip()


def ex1(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None
    path = ch.sandbox / TESTS
    if not path.exists():
        return waiting(f"run the chapter's cells that write {TESTS} first, then write the test.")
    try:
        test = single_head_test(path.read_text())
    except SyntaxError as err:
        return hint(f"{TESTS} does not parse (line {err.lineno}): {err.msg}.")
    if test is None:
        return hint(f"{TESTS} has no function `test_single_head`: keep that name.")
    if does_nothing(test):
        last = test.body[-1]
        if isinstance(last, ast.Expr) and getattr(last.value, "value", None) is Ellipsis:
            return waiting("replace the `...` body of test_single_head, then run this cell.")
        return hint(
            "that body cannot fail, so it tests nothing: ask the history for its heads "
            "(alembic.script.ScriptDirectory) and assert there is one."
        )
    good = run_test(ch.sandbox)
    if good.returncode != 0:
        return hint(f"test_single_head fails on this history, which has one head: {why(good)}")
    try:
        first, head = first_and_head(ch.sandbox)
    except Exception as err:  # a revision file the learner broke, or no history yet
        return hint(f"alembic cannot read the history in alembic/versions: {err}")
    with with_revision(ch.sandbox, first) as copy:
        branched = run_test(copy)
    if branched.returncode == 0:
        return hint(
            "test_single_head also passes on a copy of the history with a second head: "
            "it must fail when there are two heads."
        )
    with with_revision(ch.sandbox, head) as copy:
        longer = run_test(copy)
    if longer.returncode != 0:
        return hint(
            "test_single_head fails on a copy of the history with one more revision in line "
            f"after {head} (still one head): {why(longer)}. Ask the history for its heads "
            "instead of counting what it has today."
        )
    return correct(
        "it passes on a history with one head, also after one more migration, and fails when "
        "a second head appears."
    )


def first_and_head(project: Path) -> tuple[str, str]:
    """The history's first revision and its (one) head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(project / "alembic.ini")))
    revisions = list(script.walk_revisions())  # newest first
    return revisions[-1].revision, script.get_current_head()


@contextmanager
def with_revision(project: Path, parent: str) -> Iterator[Path]:
    """A copy of the project whose history has one more revision, on top of `parent`."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__", "*.log"))
        (copy / "alembic" / "versions" / "9999_for_the_check.py").write_text(
            EMPTY_REVISION.format(rev="9999", parents=parent)
        )
        yield copy


ANSWER_2 = "test_data_survives"
HINTS_2 = {
    "test_stairway": "the stairway starts from an empty database: adding a NOT NULL column to "
    "an empty table and dropping another goes up, down and up again without an error.",
    "test_models_match_head": "autogenerate wrote the migration from those very models: at head "
    "they match.",
    "test_single_head": "the rename is one more revision on the same line: still one head.",
}


def ex2(answer: object, ch: Chapter | None) -> Result:
    given = str(answer).strip().strip("`'\" ").split("::")[-1].removesuffix("()")
    if given == ANSWER_2:
        return correct(
            "it is the only test with rows in its database, and the upgrade fails on them: "
            "add_column('headline', ..., nullable=False) has no value for the existing posts "
            "(NotNullViolation). Nullable, it would pass and drop every title, and the test "
            "would report the lost values. A rename is `op.alter_column(..., "
            "new_column_name=...)`, which keeps them, and the test passes it unchanged."
        )
    if given in HINTS_2:
        return hint(HINTS_2[given])
    return hint(
        "give the name of one of the four test functions in tests/test_migrations.py; "
        "think about which one has rows in its database."
    )


EXERCISES = {
    1: Exercise(ex1, start="Write test_single_head in tests/test_migrations.py.", hands_on=True),
    2: Exercise(ex2, start="Give a test function's name, as a string."),
}
