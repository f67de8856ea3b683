"""Chapter 01: why create_all is not a migration strategy."""

import sqlite3
from contextlib import closing
from pathlib import Path

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint, waiting


def ex1(answer: object, ch: Chapter | None) -> Result:
    letter = str(answer).strip().lower().strip("()")
    if letter == "b":
        return correct("create_all creates what is missing and leaves every existing table alone.")
    if letter == "a":
        return hint("posts exists already: would create_all change a table that exists?")
    if letter == "c":
        return hint("comments does not exist yet: what does create_all do with a missing table?")
    return hint('answer with one letter: "a", "b" or "c".')


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
    if type_.upper() != "INTEGER":
        return hint(f"likes is {type_ or 'untyped'}: the model says Integer.")
    values = {row[0] for row in db.execute("SELECT likes FROM posts")}
    if values != {0}:
        return hint(f"the existing posts read {values}: give the column a DEFAULT of 0.")
    if sorted(row[0] for row in db.execute("SELECT title FROM posts")) != ["old one", "old two"]:
        return hint("the old posts did not survive: change the table, do not recreate it.")
    return correct(f"likes {type_} NOT NULL DEFAULT {default}; the old rows read 0.")


# The posts the chapter writes before it deletes the database (and keeps in backup.db).
TITLES = ["Hello, blog", "Kernel news", "Why SQLite?"]


def read(path: Path) -> tuple[dict[str, tuple], list[tuple]]:
    """posts' columns (PRAGMA table_info) and rows, from a new connection to the file."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        columns = {row[1]: row for row in db.execute("PRAGMA table_info(posts)")}
        likes = "likes" if "likes" in columns else "NULL"
        rows = db.execute(f"SELECT title, {likes} FROM posts ORDER BY title").fetchall()
    return columns, rows


def ex3(answer: object, ch: Chapter | None) -> Result:
    """blog.db holds the posts from backup.db again, with likes as the model wants it."""
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    blog, backup = ch.sandbox / "blog.db", ch.sandbox / "backup.db"
    if not blog.exists():
        return hint("there is no blog.db: copy backup.db to blog.db, then migrate blog.db.")
    try:
        columns, rows = read(blog)
    except sqlite3.Error as err:
        return hint(f"blog.db cannot be read ({err}): copy backup.db to blog.db again.")
    if not columns:
        return hint("blog.db has no posts table: copy backup.db to blog.db again.")
    if not rows and "likes" in columns:
        if backup.exists() and "likes" in read(backup)[0]:
            return hint(
                "you changed backup.db; the app reads blog.db: copy the backup there "
                "and change that copy (run the chapter again for a fresh backup.db)."
            )
        return waiting(
            "blog.db is the empty one create_all made: put backup.db in its place, "
            "then add likes with ALTER TABLE."
        )
    if sorted(title for title, _ in rows) != TITLES:
        return hint(
            f"blog.db has {len(rows)} posts, not the {len(TITLES)} of backup.db: the data "
            "must survive. Copy backup.db to blog.db again, then change the table."
        )
    if "likes" not in columns:
        return hint("the posts are back; now add the column likes with ALTER TABLE posts ...")
    _, _, type_, notnull, _, _ = columns["likes"]
    if type_.upper() != "INTEGER":
        return hint(f"likes is {type_ or 'untyped'}: the model says Integer.")
    if not notnull:
        return hint("likes accepts NULL; the model's Mapped[int] means NOT NULL.")
    if {likes for _, likes in rows} != {0}:
        return hint("the old posts should read 0 likes: the column's DEFAULT fills them.")
    return correct(
        f"blog.db has its {len(rows)} posts back, each with 0 likes, and likes "
        "INTEGER NOT NULL: a migration, done by hand."
    )


EXERCISES = {
    1: Exercise(ex1, start='Which letter? "a", "b" or "c".'),
    2: Exercise(ex2, start="Write the SQL as a string."),
    3: Exercise(ex3, start="Copy backup.db to blog.db, then ALTER TABLE it.", hands_on=True),
}
