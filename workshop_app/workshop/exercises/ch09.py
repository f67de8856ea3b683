"""Chapter 09: deploying without downtime."""

import re

from sqlalchemy import Connection, text

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    code_of,
    correct,
    hint,
    refused,
    rolled_back,
    waiting,
)


def ex1(answer: object, ch: Chapter | None) -> Result:
    given = answer if isinstance(answer, set | frozenset | list | tuple) else {answer}
    letters = {str(a).strip().upper() for a in given}
    if letters - set("ABCDE"):
        return hint('give letters from A to E, as a set of strings, e.g. {"A"}.')
    if len(letters) > 1:  # a hint per letter would let one try rule out the others
        return hint(
            f"{len(letters)} letters: exactly one of the five does all three. Weigh each "
            "against the three conditions, then give the one."
        )
    if "A" in letters:
        return hint(
            "A's replica that skips the migration goes on to start its app at once, while "
            "the other one may still be migrating: new code on the old schema."
        )
    if "D" in letters:
        return hint(
            "advisory locks exclude each other only on the same key: with one key per "
            "replica, no replica ever waits for another."
        )
    if "C" in letters:
        return hint(
            "what does 0005's autocommit_block() do to Alembic's transaction first, and "
            "what happens to a transaction-level lock then? Which revision does the other "
            "migrator find in alembic_version?"
        )
    if "B" in letters:
        return hint(
            "in B the waiting replica sits in pg_advisory_lock(), a running statement with a "
            "snapshot; CREATE INDEX CONCURRENTLY waits for every older snapshot, and the lock "
            "it waits for is held by an idle connection that never lets go: does 0005 finish?"
        )
    if letters == {"E"}:
        return correct(
            "a session lock on a connection of its own holds until it is unlocked, whatever "
            "the migration connection commits; the waiting replica holds no snapshot between "
            "tries, so the concurrent build of the one that migrates never waits for it."
        )
    return hint("one of the five does all three.")


COLUMN = text(
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = 'public' AND table_name = 'users' "
    "AND column_name IN ('image_file', 'avatar_url')"
)


def _migration_files(ch: Chapter) -> dict[str, str]:
    """Revision id -> source, for the sandbox's migrations that mention avatar_url."""
    found = {}
    for path in sorted((ch.sandbox / "alembic" / "versions").glob("*.py")):
        source = path.read_text(errors="replace")
        rev = re.search(r"""^revision[^=]*=\s*["']([^"']+)["']""", source, re.M)
        if rev and "avatar_url" in source:
            found[rev[1]] = source
    return found


def _insert(conn: Connection, column: str, value: str) -> tuple[str | None, str | None]:
    row = conn.execute(
        text(
            f"INSERT INTO users (username, email, password_hash, {column}) "
            "VALUES (:name, :email, 'x', :value) "
            "RETURNING image_file, avatar_url"
        ),
        {"name": f"check_{column}", "email": f"check_{column}@example.com", "value": value},
    ).one()
    return row.image_file, row.avatar_url


def ex2(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    files = _migration_files(ch)
    with rolled_back(ch) as conn:
        columns = set(conn.scalars(COLUMN))
        version = conn.scalar(text("SELECT version_num FROM alembic_version"))
        if "avatar_url" not in columns:
            if "image_file" not in columns:
                return hint(
                    "users.image_file is gone: the old version, still running, reads it. "
                    "Expand first: add avatar_url next to it."
                )
            if files:
                return hint(
                    "your migration is written but users has no avatar_url yet: run "
                    "`alembic upgrade head`."
                )
            return waiting(
                "write the expand migration for users.avatar_url, then run `alembic upgrade head`."
            )
        if "image_file" not in columns:
            return hint(
                "image_file is gone: that is the contract step, and the old version "
                "still reads it. Expand keeps both columns."
            )
        if version not in files:
            return hint(
                "avatar_url is there, but alembic_version is not at a migration of "
                "yours that adds it: write the change as a migration and run "
                "`alembic upgrade head`."
            )
        differ = conn.scalar(
            text("SELECT count(*) FROM users WHERE avatar_url IS DISTINCT FROM image_file")
        )
        if differ:
            return hint(
                f"{differ} existing user(s) have an avatar_url that differs from "
                "image_file: backfill them in the migration."
            )
        try:
            with conn.begin_nested():
                old = _insert(conn, "image_file", "old.png")
            with conn.begin_nested():
                new = _insert(conn, "avatar_url", "new.png")
            with conn.begin_nested():
                conn.execute(
                    text(
                        "UPDATE users SET image_file = 'changed.png' "
                        "WHERE username = 'check_image_file'"
                    )
                )
                after_old = conn.execute(
                    text(
                        "SELECT image_file, avatar_url FROM users "
                        "WHERE username = 'check_image_file'"
                    )
                ).one()
            with conn.begin_nested():
                conn.execute(
                    text(
                        "UPDATE users SET avatar_url = 'moved.png' "
                        "WHERE username = 'check_avatar_url'"
                    )
                )
                after_new = conn.execute(
                    text(
                        "SELECT image_file, avatar_url FROM users "
                        "WHERE username = 'check_avatar_url'"
                    )
                ).one()
        except Exception as err:
            return refused(err)
    if old != ("old.png", "old.png"):
        return hint(
            f"a user the old version creates (image_file only) reads {old}: keep "
            "avatar_url in step on insert (a trigger)."
        )
    if new != ("new.png", "new.png"):
        return hint(
            f"a user the new version creates (avatar_url only) reads {new}: copy it "
            "into image_file too, for the old version."
        )
    if tuple(after_old) != ("changed.png", "changed.png"):
        return hint(
            "when the old version updates image_file, avatar_url keeps the old value: "
            "sync on UPDATE too."
        )
    if tuple(after_new) != ("moved.png", "moved.png"):
        return hint(
            "when the new version updates avatar_url, image_file keeps the old value: "
            "sync on UPDATE in both directions."
        )
    code = code_of(files[version])
    if not (
        re.search(r"add_column|ADD\s+COLUMN", code, re.I)
        and re.search(r"CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER", code, re.I)
    ):
        return hint(
            f"migration {version}, where the database stands, does not itself add "
            "avatar_url and its trigger: what you ran by hand reaches no other database. "
            "Put the column, the trigger and the backfill in the migration."
        )
    return correct(
        "both columns exist, existing users are backfilled, and whichever column "
        "a version writes, the other follows: old and new can serve together."
    )


EXERCISES = {
    1: Exercise(ex1, start="Give the letters as a set of strings."),
    2: Exercise(
        ex2, start="Write the expand migration, run it, then run this cell.", hands_on=True
    ),
}
