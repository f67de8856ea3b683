"""Solutions for chapter 06. Try the exercises first: the notebook's check gives hints."""

from datetime import UTC, datetime

# 1. 2026-07-01 12:00 at +02:00, as an aware datetime in UTC.
EXERCISE_1 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)

# 2. The USING expression for a legacy `timestamp` column created_at that holds UTC wall times:
#    tell PostgreSQL those wall times are UTC, whatever the session's time zone.
EXERCISE_2 = "created_at AT TIME ZONE 'UTC'"
