"""Solutions for chapter 07. Try the exercises first: the notebook's check gives hints."""

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.scratch import run_alembic

# 1. Sibling revisions (same parent, joined by a merge) run in an order Alembic does not
#    promise: only parents before children. So 0004 and 0005 must not depend on each other.
EXERCISE_1 = "b"

# 2. The merge 0006 is the one head and comes after both branches: a child of 0004 or 0005, or
#    a second child of both, would be a second head.
EXERCISE_2 = "0006"

# 3. A migration that builds the index CONCURRENTLY (outside the migration's transaction, in an
#    autocommit block), as the chapter's 0005 does: without env.py's short timeouts for the
#    build, set back afterwards for the revisions that follow; robust to a rerun after a failed
#    build (the INVALID leftover dropped first). The model declares the index (index=True: the
#    same name), so `alembic check` passes; then deployed to prod.
UPGRADE = '''    """Index posts by date, without blocking writes."""
    with op.get_context().autocommit_block():
        # env.py's session-wide timeouts would cancel a long build and leave an INVALID index:
        # no limit for the build, and longer to wait for the transactions already running.
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = '1min'")
        # A failed CONCURRENTLY build leaves an INVALID index of this name: drop it first.
        op.drop_index(
            "ix_posts_date_posted", table_name="posts", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            "ix_posts_date_posted",
            "posts",
            ["date_posted"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        # Back to env.py's limits for the revisions this run applies after this one.
        op.execute("SET statement_timeout = '60s'")
        op.execute("SET lock_timeout = '500ms'")'''
DOWNGRADE = '''    """Drop the index, without blocking writes."""
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_posts_date_posted", table_name="posts", postgresql_concurrently=True, if_exists=True
        )'''


def alembic(ch: Chapter, *args: str, **env: str) -> None:
    """Run alembic as a learner's terminal in the sandbox does."""
    run_alembic(ch.sandbox, *args, env=env).check_returncode()


def exercise_3(ch: Chapter) -> None:
    models = ch.sandbox / "blog" / "models.py"
    models.write_text(
        models.read_text().replace(
            "DateTime(timezone=True), default=lambda: datetime.now(UTC)\n",
            "DateTime(timezone=True), default=lambda: datetime.now(UTC), index=True\n",
        )
    )
    alembic(ch, "revision", "--rev-id", "0007", "-m", "index posts by date")
    path = ch.sandbox / "alembic" / "versions" / "0007_index_posts_by_date.py"
    source = path.read_text()
    source = source.replace('    """Upgrade schema."""\n    pass', UPGRADE)
    source = source.replace('    """Downgrade schema."""\n    pass', DOWNGRADE)
    path.write_text(source)
    alembic(
        ch, "upgrade", "head", DATABASE_URL=ch.url("prod").render_as_string(hide_password=False)
    )
