"""Solutions for chapter 08. Try the exercises first: the notebook's check gives hints.

Both exercises are hands-on: these functions do what a learner does, in the chapter's sandbox,
with the real `alembic` command."""

from pathlib import Path

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.scratch import run_alembic


def alembic(ch: Chapter, *args: str) -> str:
    """Run `alembic ...` in the sandbox, as a learner's terminal there would (the app reads
    its URL from ./.env, so no DATABASE_URL of the workshop's own)."""
    run = run_alembic(ch.sandbox, *args)
    run.check_returncode()
    return run.stdout + run.stderr


def new_file(ch: Chapter, before: set[Path]) -> Path:
    (path,) = set((ch.sandbox / "alembic" / "versions").glob("*.py")) - before
    return path


def write_body(path: Path, body: str) -> None:
    """Keep what Alembic wrote up to the revision identifiers; replace the functions."""
    head = path.read_text().split("\n\n\ndef upgrade()")[0]
    path.write_text(head + "\n\n\n" + body.strip() + "\n")


def edit_model(ch: Chapter, old: str, new: str) -> None:
    models = ch.sandbox / "blog" / "models.py"
    source = models.read_text()
    assert old in source, old
    models.write_text(source.replace(old, new))


# 1. Rename posts.content to body: autogenerate sees drop + add (the values would be lost, and
#    with NOT NULL the upgrade fails on a table with rows); the migration renames instead.
def exercise_1(ch: Chapter) -> None:
    edit_model(
        ch,
        "    content: Mapped[str] = mapped_column(Text)\n",
        "    body: Mapped[str] = mapped_column(Text)\n",
    )
    before = set((ch.sandbox / "alembic" / "versions").glob("*.py"))
    alembic(ch, "revision", "--autogenerate", "-m", "rename posts.content to body")
    write_body(
        new_file(ch, before),
        """
def upgrade() -> None:
    op.alter_column("posts", "content", new_column_name="body")


def downgrade() -> None:
    op.alter_column("posts", "body", new_column_name="content")
""",
    )
    alembic(ch, "upgrade", "head")


# 2. Add 'pinned' and use it in the same migration: the new value must be committed first,
#    so ADD VALUE runs in an autocommit block; the UPDATE then runs in the migration's
#    transaction. PostgreSQL cannot drop an enum value: the downgrade says so.
def exercise_2(ch: Chapter) -> None:
    edit_model(ch, '"archived", name="post_status"', '"archived", "pinned", name="post_status"')
    before = set((ch.sandbox / "alembic" / "versions").glob("*.py"))
    alembic(ch, "revision", "-m", "pin the first post")
    write_body(
        new_file(ch, before),
        """
def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'pinned'")
    op.execute("UPDATE posts SET status = 'pinned' WHERE title = 'Hello, blog'")


def downgrade() -> None:
    raise NotImplementedError("PostgreSQL cannot remove the value 'pinned' from post_status.")
""",
    )
    alembic(ch, "upgrade", "head")
