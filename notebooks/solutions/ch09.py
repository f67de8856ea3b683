"""Solutions for chapter 09. Try the exercises first: the notebook's check gives hints."""

import re

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.scratch import run_alembic

# A session lock on a connection of its own: it holds whatever the migration connection commits
# (0005's autocommit_block included), and Alembic's transactions are untouched.
EXERCISE_1 = {"E"}

EXPAND_AVATAR_URL = '''"""expand: users.avatar_url next to users.image_file

Step 1 of renaming users.image_file to users.avatar_url while old (image_file) and new
(avatar_url) app versions both serve: a trigger keeps the columns equal whichever one an app
writes, and the existing users are backfilled. A later contract step drops image_file.

Revision ID: {revision}
Revises: {down_revision}
"""

import sqlalchemy as sa

from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"

SYNC = """
CREATE OR REPLACE FUNCTION users_sync_avatar_url() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.avatar_url := coalesce(NEW.avatar_url, NEW.image_file);
        NEW.image_file := coalesce(NEW.image_file, NEW.avatar_url);
    ELSIF NEW.image_file IS DISTINCT FROM OLD.image_file THEN
        NEW.avatar_url := NEW.image_file;
    ELSIF NEW.avatar_url IS DISTINCT FROM OLD.avatar_url THEN
        NEW.image_file := NEW.avatar_url;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER users_sync_avatar_url BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_avatar_url();
"""


def upgrade() -> None:
    # IF NOT EXISTS, OR REPLACE: a rerun after a failed backfill finds them in place.
    op.add_column(
        "users", sa.Column("avatar_url", sa.String(200), nullable=True), if_not_exists=True
    )
    op.execute(SYNC)
    # Column and trigger committed first; the backfill holds no ACCESS EXCLUSIVE lock.
    with op.get_context().autocommit_block():
        op.execute(
            "UPDATE users SET avatar_url = image_file WHERE avatar_url IS DISTINCT FROM image_file"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS users_sync_avatar_url ON users")
    op.execute("DROP FUNCTION IF EXISTS users_sync_avatar_url()")
    op.drop_column("users", "avatar_url")
'''


def alembic(ch: Chapter, *args: str) -> str:
    """Run the `alembic` command in the sandbox, as a learner's terminal does."""
    done = run_alembic(ch.sandbox, *args)  # the sandbox's .env says which database
    done.check_returncode()
    return done.stdout


def exercise_2(ch: Chapter) -> None:
    head = re.match(r"\s*(\S+)", alembic(ch, "heads"))[1]
    revision = f"{int(head) + 1:04d}" if head.isdigit() else "avatar1"
    path = ch.sandbox / "alembic" / "versions" / f"{revision}_expand_users_avatar_url.py"
    path.write_text(EXPAND_AVATAR_URL.format(revision=revision, down_revision=head))
    alembic(ch, "upgrade", "head")
