"""Solutions for chapter 07. Try the exercises first: the notebook's check gives hints."""

import os
import subprocess
import sys
from pathlib import Path

from workshop_app.workshop.kit import Chapter

# 1. The CI guard that fails when the models changed and no migration was written.
EXERCISE_1 = "alembic check"

# 2. The two heads that `alembic merge heads` joined (the two branches' revisions).
EXERCISE_2 = {"0004", "0005"}

# 3. A migration that builds the index CONCURRENTLY (outside the migration's transaction, in an
#    autocommit block), robust to a rerun after a failed build; then deployed to prod.
UPGRADE = '''    """Index posts by date, without blocking writes."""
    with op.get_context().autocommit_block():
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
        )'''
DOWNGRADE = '''    """Drop the index, without blocking writes."""
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_posts_date_posted", table_name="posts", postgresql_concurrently=True, if_exists=True
        )'''


def alembic(ch: Chapter, *args: str, **env: str) -> None:
    """Run alembic as a learner's terminal in the sandbox does."""
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    subprocess.run(["alembic", *args], cwd=ch.sandbox, env=os.environ | {"PATH": path} | env,
                   check=True, capture_output=True)  # fmt: skip


def exercise_3(ch: Chapter) -> None:
    alembic(ch, "revision", "--rev-id", "0007", "-m", "index posts by date")
    path = ch.sandbox / "alembic" / "versions" / "0007_index_posts_by_date.py"
    source = path.read_text()
    source = source.replace('    """Upgrade schema."""\n    pass', UPGRADE)
    source = source.replace('    """Downgrade schema."""\n    pass', DOWNGRADE)
    path.write_text(source)
    alembic(ch, "upgrade", "head",
            DATABASE_URL=ch.url("prod").render_as_string(hide_password=False))  # fmt: skip
