"""Solutions for chapter 01. Try the exercises first: the notebook's check gives hints."""

import shutil
import sqlite3
from contextlib import closing

from workshop_app.workshop.chapter import Chapter

# 1. Next release: a new model Comment (table comments), and Post.title grows to String(200).
#    At the next start on the existing blog.db, create_all creates comments (it is missing)
#    and leaves posts as it is: no ALTER, so title stays VARCHAR(100).
EXERCISE_1 = "b"

# 2. The SQL a migration would run on the old SQLite file so that posts gets likes, NOT NULL,
#    with the existing rows reading 0. NOT NULL needs the DEFAULT for the rows already there.
EXERCISE_2 = "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 0"


def exercise_3(ch: Chapter) -> None:
    """Put the backup in place of the empty database, and migrate it by hand."""
    shutil.copy(ch.sandbox / "backup.db", ch.sandbox / "blog.db")
    with closing(sqlite3.connect(ch.sandbox / "blog.db")) as db, db:
        db.execute(EXERCISE_2)
