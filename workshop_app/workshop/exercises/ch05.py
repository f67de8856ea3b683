"""Chapter 05: what a migration costs."""

from sqlalchemy import text

from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    correct,
    hint,
    refused,
    rolled_back,
)
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    """Run the learner's SQL on the real posts table, in a transaction that is rolled back."""
    node = text("SELECT pg_relation_filenode('posts')")
    with rolled_back(ch) as conn:
        before = conn.scalar(node)
        try:
            conn.exec_driver_sql(str(answer))
        except Exception as err:  # noqa: BLE001 - the learner's SQL may fail in any way
            return refused(err)
        column = conn.execute(text(
            "SELECT is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'posts' AND column_name = 'views'"
        )).first()  # fmt: skip
        values = set(conn.scalars(text("SELECT views FROM posts"))) if column else set()
        rewrote = conn.scalar(node) != before
    if column is None:
        return hint("posts has no column named views after your SQL.")
    if column.is_nullable == "YES":
        return hint("views may be empty: add NOT NULL.")
    if values - {0}:
        return hint(f"the existing posts read {sorted(values)}: the default should be 0.")
    if rewrote:
        return hint("it rewrote the table: use a constant default, not a function.")
    return correct("NOT NULL DEFAULT 0: metadata only, and every post reads 0.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    if str(answer).replace(" ", "").lower() in ("accessexclusivelock", "accessexclusive"):
        return correct("ACCESS EXCLUSIVE: not even reads get past it while it is held.")
    return hint("look at the mode column of the pg_locks query in the lock section.")


EXERCISES = {
    1: Exercise(ex1, start="Write the ALTER TABLE as a string."),
    2: Exercise(ex2, start="Copy the mode from the pg_locks output above."),
}
