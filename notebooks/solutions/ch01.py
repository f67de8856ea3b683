"""Solutions for chapter 01. Try the exercises first: the notebook's check gives hints."""

# 1. After `likes` was added to the model, what did create_all send for the existing posts table?
#    (a) ALTER TABLE posts ADD COLUMN likes   (b) CREATE TABLE posts   (c) nothing but lookups
#    It checks each table with PRAGMA table_info and skips the ones that exist.
EXERCISE_1 = "c"

# 2. The SQL a migration would run on the old SQLite file so that posts gets likes, NOT NULL,
#    with the existing rows reading 0. NOT NULL needs the DEFAULT for the rows already there.
EXERCISE_2 = "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 0"
