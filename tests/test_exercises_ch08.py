"""Chapter 08's hands-on exercises, on the chapter's real start state: they wait until the
learner acts, refuse the typical wrong actions with a hint, and pass the solution."""

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from exercise_support import chapter_at_start

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import outcome, solutions, solve
from workshop_app.workshop.reset import reset

sol = solutions("08")
NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "08-changing-data-safely.ipynb"

STATUS = """
def upgrade() -> None:
    sa.Enum("draft", "published", "archived", name="post_status").create(op.get_bind())
    op.add_column("posts", sa.Column("status", sa.Enum("draft", "published", "archived",
                                                       name="post_status"),
                                     server_default="published", nullable=False))


def downgrade() -> None:
    op.drop_column("posts", "status")
    sa.Enum(name="post_status").drop(op.get_bind())
"""
STATUS_MODEL = (
    "    status: Mapped[str] = mapped_column(\n"
    '        Enum("draft", "published", "archived", name="post_status"),'
    ' server_default="published"\n'
    "    )\n"
)
LIKES_LINE = '    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")\n'


@pytest.fixture(scope="module")
def learner(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chapter]:
    """The chapter's start for a throw-away learner, built once (its templates are kept)."""
    with chapter_at_start("08", backend, tmp_path_factory.mktemp("ch08")) as ch:
        yield ch


@pytest.fixture
def ch(learner: Chapter) -> Chapter:
    """The chapter back at its start, cloned from the learner's templates."""
    fresh, cloned, _ = reset("08", learner.backend, learner.sandbox.parent)
    assert cloned
    return fresh


def alembic_fails(ch: Chapter, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    run = subprocess.run(
        ["alembic", *args], cwd=ch.sandbox, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def new_revision(ch: Chapter, message: str, body: str, *, autogenerate: bool = False) -> Path:
    before = set((ch.sandbox / "alembic" / "versions").glob("*.py"))
    sol.alembic(ch, "revision", *(["--autogenerate"] if autogenerate else []), "-m", message)
    path = sol.new_file(ch, before)
    if body:
        sol.write_body(path, body)
    return path


def rename_model(ch: Chapter) -> None:
    sol.edit_model(
        ch,
        "    content: Mapped[str] = mapped_column(Text)\n",
        "    body: Mapped[str] = mapped_column(Text)\n",
    )


def with_status(ch: Chapter) -> None:
    """posts.status as the chapter leaves it: post_status with draft, published, archived."""
    sol.edit_model(ch, "from sqlalchemy import DateTime,", "from sqlalchemy import DateTime, Enum,")
    sol.edit_model(ch, LIKES_LINE, LIKES_LINE + STATUS_MODEL)
    new_revision(ch, "add status to posts", STATUS)
    sol.alembic(ch, "upgrade", "head")


def verdict(ch: Chapter, number: int) -> tuple[bool | None, str]:
    result = outcome("08", number, None, ch)
    return result.ok, result.message


# ----- 1. rename posts.content to body


def test_1_waits_at_the_start(ch: Chapter) -> None:
    assert verdict(ch, 1)[0] is None


def test_1_the_generated_migration_fails_and_the_check_says_to_read_why(ch: Chapter) -> None:
    rename_model(ch)
    new_revision(ch, "rename content", "", autogenerate=True)
    out = alembic_fails(ch, "upgrade", "head")
    assert 'column "body" of relation "posts" contains null values' in out
    ok, message = verdict(ch, 1)
    assert ok is False and "alembic upgrade head" in message


def test_1_drop_and_add_with_a_default_loses_the_text(ch: Chapter) -> None:
    rename_model(ch)
    new_revision(
        ch,
        "rename content",
        """
def upgrade() -> None:
    op.add_column("posts", sa.Column("body", sa.Text(), server_default="", nullable=False))
    op.drop_column("posts", "content")


def downgrade() -> None:
    op.add_column("posts", sa.Column("content", sa.Text(), server_default="", nullable=False))
    op.drop_column("posts", "body")
""",
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 1)
    assert ok is False and "lost their text" in message


def test_1_a_migration_that_imports_the_models_is_refused(ch: Chapter) -> None:
    rename_model(ch)
    path = new_revision(
        ch,
        "rename content",
        """
def upgrade() -> None:
    op.alter_column(Post.__tablename__, "content", new_column_name="body")


def downgrade() -> None:
    op.alter_column(Post.__tablename__, "body", new_column_name="content")
""",
    )
    imports = "from alembic import op\n\nfrom blog.models import Post\n"
    path.write_text(path.read_text().replace("from alembic import op\n", imports))
    ok, message = verdict(ch, 1)
    assert ok is False and "imports the app" in message


RENAMED = """
def upgrade() -> None:
    op.alter_column("posts", "content", new_column_name="body")

"""


def test_1_renamed_in_the_database_but_not_in_the_model(ch: Chapter) -> None:
    new_revision(
        ch,
        "rename content",
        RENAMED
        + """
def downgrade() -> None:
    op.alter_column("posts", "body", new_column_name="content")
""",
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 1)
    assert ok is False and "model" in message


def test_1_the_solution_passes(ch: Chapter) -> None:
    solve("08", 1, ch)
    ok, message = verdict(ch, 1)
    assert ok, message


def test_1_a_rename_whose_downgrade_still_drops_and_adds_is_refused(ch: Chapter) -> None:
    """The upgrade fixed, autogenerate's downgrade kept: a downgrade would lose every text."""
    rename_model(ch)
    new_revision(
        ch,
        "rename content",
        RENAMED
        + """
def downgrade() -> None:
    op.add_column("posts", sa.Column("content", sa.TEXT(), autoincrement=False, nullable=False))
    op.drop_column("posts", "body")
""",
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 1)
    assert ok is False and "Rename both ways" in message, message


# ----- 2. add 'pinned' and use it in the same migration


def pin(ch: Chapter, upgrade: str, *, in_the_model: bool = True) -> None:
    """Chapter 08 at `status`, 'pinned' added to the model (unless told), and a revision "pin"
    whose upgrade() runs `upgrade` (its downgrade refuses, as an enum value cannot go)."""
    with_status(ch)
    if in_the_model:
        sol.edit_model(
            ch, '"archived", name="post_status"', '"archived", "pinned", name="post_status"'
        )
    body = textwrap.indent(upgrade, "    ")
    new_revision(
        ch,
        "pin",
        f"""
def upgrade() -> None:
{body}

def downgrade() -> None:
    raise NotImplementedError("cannot remove an enum value")
""",
    )


def test_2_waits_at_the_start_and_after_the_chapter(ch: Chapter) -> None:
    assert verdict(ch, 2)[0] is None
    with_status(ch)
    assert verdict(ch, 2)[0] is None


def test_2_add_value_and_use_it_in_one_transaction_fails_with_a_hint(ch: Chapter) -> None:
    pin(
        ch,
        """\
op.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
op.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")
""",
    )
    assert "unsafe use of new value" in alembic_fails(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "committed" in message


def test_2_the_value_alone_pins_nothing(ch: Chapter) -> None:
    pin(
        ch,
        """\
op.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
""",
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "0 posts are pinned" in message


def test_2_a_migration_that_pins_nothing_itself_is_refused(ch: Chapter) -> None:
    """The value added and the post pinned by hand; the revision only mentions it."""
    pin(ch, """# ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned': done by hand\npass\n""")
    with ch.backend.connect(ch.database) as conn:
        conn.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
        conn.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "ADD VALUE" in message and "UPDATE" in message, message


def test_2_one_transaction_that_passed_only_because_the_value_was_there_is_refused(
    ch: Chapter,
) -> None:
    """After "unsafe use of new value", the value added by hand: the same migration now runs,
    and would fail again on every database that lacks the value."""
    pin(
        ch,
        """\
op.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
op.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")
""",
    )
    with ch.backend.connect(ch.database) as conn:
        conn.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "autocommit_block" in message, message


def test_2_the_model_must_know_the_value(ch: Chapter) -> None:
    pin(
        ch,
        """\
with op.get_context().autocommit_block():
    op.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
op.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")
""",
        in_the_model=False,
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "model" in message


def test_2_without_if_not_exists_is_refused_as_the_instructions_say(ch: Chapter) -> None:
    """It works, once: exercise 2's text asks for IF NOT EXISTS, and the check holds to it."""
    pin(
        ch,
        """\
with op.get_context().autocommit_block():
    op.execute("ALTER TYPE post_status ADD VALUE 'pinned'")
op.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")
""",
    )
    sol.alembic(ch, "upgrade", "head")
    ok, message = verdict(ch, 2)
    assert ok is False and "IF NOT EXISTS" in message
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    assert any(
        "**2.**" in "".join(c["source"]) and "IF NOT EXISTS" in "".join(c["source"])
        for c in cells
        if c["cell_type"] == "markdown"
    )


def test_2_the_solution_passes(ch: Chapter) -> None:
    with_status(ch)
    solve("08", 2, ch)
    ok, message = verdict(ch, 2)
    assert ok, message


PROBE = '''"""what the next revision's session has for lock_timeout"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE lock_probe AS SELECT current_setting('lock_timeout') AS value")


def downgrade() -> None:
    op.execute("DROP TABLE lock_probe")
'''


def chapter_migrations(ch: Chapter) -> None:
    """Write 0003 to 0005 as the chapter's cells do (SLUG from its first migration's cell)."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"]]
    python = ["\n".join(x for x in c.splitlines() if not x.startswith("!")) for c in cells]
    slug = next(c for c in python if "\nSLUG = '''" in c)
    tree = ast.parse(slug)
    assign = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "SLUG")
    namespace = {"Path": Path, "versions": ch.sandbox / "alembic" / "versions"}
    exec(compile(ast.Module([assign], []), "cell", "exec"), namespace)
    exec(next(c for c in python if 'new_migration("0004"' in c), namespace)


def test_the_backfill_leaves_lock_timeout_as_it_found_it(ch: Chapter) -> None:
    """0004 sets lock_timeout outside a transaction (session-wide): the revisions after it in
    the same `alembic upgrade` must not inherit its 1 s."""
    chapter_migrations(ch)
    versions = ch.sandbox / "alembic" / "versions"
    next(versions.glob("0005_*.py")).write_text(PROBE)
    sol.alembic(ch, "upgrade", "head")
    assert ch.query("SELECT value FROM lock_probe").value[0] == "0"
