"""Chapter 01: why create_all is not a migration strategy."""

import sqlite3

from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    if str(answer).strip().lower() == "c":
        return correct("create_all skips a table that exists; it never alters one.")
    return hint("look at the SQL printed after the model changed: was there a CREATE or ALTER?")


def ex2(answer: object, ch: Chapter | None) -> Result:
    """Run the learner's SQL on a SQLite database shaped like the blog before `likes`."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL);"
        "INSERT INTO posts (title) VALUES ('old one'), ('old two');"
    )
    try:
        db.executescript(str(answer))
    except sqlite3.Error as err:
        return hint(f"SQLite refused it ({err}). The statement starts with ALTER TABLE posts.")
    columns = {row[1]: row for row in db.execute("PRAGMA table_info(posts)")}
    if "likes" not in columns:
        return hint("after your SQL, posts still has no column named likes.")
    _, _, type_, notnull, default, _ = columns["likes"]
    if not notnull:
        return hint("likes should be NOT NULL, like the model's Mapped[int].")
    values = {row[0] for row in db.execute("SELECT likes FROM posts")}
    if values != {0}:
        return hint(f"the existing posts read {values}: give the column a DEFAULT of 0.")
    return correct(f"likes {type_} NOT NULL DEFAULT {default}; the old rows read 0.")


EXERCISES = {
    1: Exercise(ex1, start='Which letter? "a", "b" or "c".'),
    2: Exercise(ex2, start="Write the SQL as a string."),
}
