"""Solutions for chapter 06. Try the exercises first: the notebook's check gives hints."""

from datetime import UTC, datetime

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.scratch import run_alembic

# 1. 2026-01-15 09:30 at -05:00, as an aware datetime in UTC (utcoffset() zero): 14:30 UTC.
#    datetime(2026, 1, 15, 9, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
EXERCISE_1 = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)

# 2. The downgrade's USING expression for created_at (Paris wall times, upgraded with
#    `created_at AT TIME ZONE 'Europe/Paris'`): on a timestamptz, AT TIME ZONE gives the wall
#    time in that zone, so the same expression takes the instants back to Paris wall times, in
#    any session (name the zone: +01:00 in winter, +02:00 in summer).
EXERCISE_2 = "created_at AT TIME ZONE 'Europe/Paris'"

# 3. Migration 0003 without USING: it pins the session's time zone to UTC (the zone the wall
#    times were written in) for its own transaction, so the plain type change is right whatever
#    PGTZ the developer has, and metadata only (PostgreSQL 12+). The downgrade does the same.
#    SET LOCAL lasts until the transaction ends, and by default `alembic upgrade` runs every
#    pending revision in one transaction: the revisions after 0003 in the same run also see
#    UTC (harmless here; a later revision that relies on the session's zone would not be).
MIGRATION_0003 = '''"""date_posted as timestamptz

The legacy timestamp column holds UTC wall times. Converted in a UTC session: each wall time is
read as UTC (the right instant), and PostgreSQL 12+ changes only the catalog, no rewrite.

Revision ID: 0003
Revises: 0002

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """UTC wall times become instants; SET LOCAL lasts until the run's transaction ends."""
    op.execute("SET LOCAL TIME ZONE 'UTC'")
    op.alter_column(
        "posts",
        "date_posted",
        existing_type=postgresql.TIMESTAMP(),
        type_=sa.DateTime(timezone=True),
        existing_nullable=False,
    )


def downgrade() -> None:
    """Instants back to UTC wall times, also without a rewrite."""
    op.execute("SET LOCAL TIME ZONE 'UTC'")
    op.alter_column(
        "posts",
        "date_posted",
        existing_type=sa.DateTime(timezone=True),
        type_=postgresql.TIMESTAMP(),
        existing_nullable=False,
    )
'''


def exercise_3(ch: Chapter) -> None:
    """Write 0003 as above, then run it on staging from a New York session."""
    path = ch.sandbox / "alembic" / "versions" / "0003_date_posted_as_timestamptz.py"
    path.write_text(MIGRATION_0003)
    staging = ch.url("staging").render_as_string(hide_password=False)
    new_york = {"PGTZ": "America/New_York"}
    run_alembic(
        ch.sandbox, "upgrade", "head", database_url=staging, env=new_york
    ).check_returncode()
