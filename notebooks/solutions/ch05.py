"""Solutions for chapter 05. Try the exercises first: the notebook's check gives hints."""

# 1. A constant default fills the existing rows from the catalog (PostgreSQL 11+): no rewrite.
EXERCISE_1 = "ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 0"

# 2. The mode pg_locks showed while the ALTER TABLE's transaction was open.
EXERCISE_2 = "AccessExclusiveLock"
