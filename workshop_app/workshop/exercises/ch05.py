"""Chapter 05: what a migration costs."""

import re
import shutil
import tempfile
from pathlib import Path

import sqlparse
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    correct,
    hint,
    refused,
    statements,
    waiting,
)
from workshop_app.workshop.exercises.scratch import last_line, run_alembic, scratch_database


def ex1(answer: object, ch: Chapter | None) -> Result:
    """Run the learner's one ALTER TABLE in a scratch database built from the course's history
    (the same posts): whatever it does, the chapter's own database is not touched."""
    assert ch is not None, "this check needs the chapter: check(..., ch)"
    found = statements(str(answer))
    if len(found) != 1:
        return hint(
            f"give exactly one SQL statement, not {len(found)}: the ALTER TABLE alone "
            "(a migration's transaction is Alembic's to begin and commit)."
        )
    kind = sqlparse.parse(found[0])[0].get_type()
    if kind != "ALTER":
        return hint(f"that is a {kind} statement: the answer is an ALTER TABLE on posts.")
    with scratch_database(ch) as name:
        engine = create_engine(ch.url(name), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                node = text("SELECT pg_relation_filenode('posts')")
                before = conn.scalar(node)
                try:
                    conn.exec_driver_sql(found[0])
                except Exception as err:
                    return refused(err)
                column = conn.execute(
                    text(
                        "SELECT is_nullable, column_default FROM information_schema.columns "
                        "WHERE table_name = 'posts' AND column_name = 'views'"
                    )
                ).first()
                values = set(conn.scalars(text("SELECT views FROM posts"))) if column else set()
                rewrote = conn.scalar(node) != before
                conn.rollback()
        finally:
            engine.dispose()
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
    mode = str(answer).replace(" ", "").replace("_", "").lower().removesuffix("lock")
    if mode == "share":
        return correct(
            "SHARE: reads go on, writes (ROW EXCLUSIVE) wait until the index is "
            "built. CREATE INDEX CONCURRENTLY avoids that (chapter 09)."
        )
    if mode == "accessexclusive":
        return hint(
            "that is what most ALTER TABLE forms take; CREATE INDEX is another command. "
            'Measure it: locks_taken("CREATE INDEX ...").'
        )
    return hint(
        "not the mode pg_locks shows on posts while a CREATE INDEX on it is running: "
        "measure it with locks_taken(...) and copy the mode."
    )


PER_MIGRATION = re.compile(r"^[^#\n]*transaction_per_migration\s*=\s*True", re.M)
PROBE = '''"""probe {rev}: which transaction, and which lock_timeout?"""

from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {create}op.execute(
        "INSERT INTO lock_probe "
        "SELECT '{rev}', txid_current(), current_setting('lock_timeout')"
    )


def downgrade() -> None:
    {undo}
'''


def probe_project(ch: Chapter, target: Path) -> None:
    """The sandbox's project (alembic.ini, env.py, the blog package) with two probe revisions
    instead of the blog's history: each records its transaction id and lock_timeout."""
    shutil.copy(ch.sandbox / "alembic.ini", target / "alembic.ini")
    shutil.copytree(
        ch.sandbox / "blog", target / "blog", ignore=shutil.ignore_patterns("__pycache__")
    )
    (target / "alembic" / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(ch.sandbox / "alembic" / name, target / "alembic" / name)
    create = (
        'op.execute("CREATE TABLE lock_probe (rev text, txid bigint, lock_timeout text)")\n    '
    )
    (target / "alembic" / "versions" / "p1_probe.py").write_text(
        PROBE.format(rev="p1", down=None, create=create, undo='op.execute("DROP TABLE lock_probe")')
    )
    (target / "alembic" / "versions" / "p2_probe.py").write_text(
        PROBE.format(
            rev="p2",
            down="p1",
            create="",
            undo="op.execute(\"DELETE FROM lock_probe WHERE rev = 'p2'\")",
        )
    )


def probe_state(ch: Chapter, database: str) -> tuple[str | None, list]:
    """alembic_version and the probe's rows, from a new connection."""
    engine = create_engine(ch.url(database, admin=True), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = set(
                conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            )
            version = (
                conn.scalar(text("SELECT max(version_num) FROM alembic_version"))
                if "alembic_version" in tables
                else None
            )
            rows = (
                conn.execute(
                    text("SELECT rev, txid, lock_timeout FROM lock_probe ORDER BY rev")
                ).all()
                if "lock_probe" in tables
                else []
            )
        return version, rows
    finally:
        engine.dispose()


def ex3(answer: object, ch: Chapter | None) -> Result:
    """Run the learner's env.py for real (`alembic upgrade head`, then `downgrade base`, in a
    subprocess) on two probe revisions in a scratch database, and look from new connections."""
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    if not PER_MIGRATION.search((ch.sandbox / "alembic" / "env.py").read_text()):
        return waiting(
            "pass transaction_per_migration=True to context.configure() in "
            "alembic/env.py, keep lock_timeout for every migration, then check."
        )
    with tempfile.TemporaryDirectory() as tmp, scratch_database(ch, revision=None) as database:
        probe_project(ch, Path(tmp))
        url = ch.url(database).render_as_string(hide_password=False)
        up = run_alembic(Path(tmp), "upgrade", "head", database_url=url)
        if up.returncode != 0:
            return hint(f"`alembic upgrade head` failed with your env.py: {last_line(up)}")
        version, rows = probe_state(ch, database)
        if version != "p2" or len(rows) != 2:
            return hint(
                f"alembic ran two revisions, but a new connection finds the database at "
                f"{version or 'no revision'}: nothing was committed. Does env.py run a "
                "statement on the connection before context.configure()?"
            )
        (_, first_tx, first), (_, second_tx, second) = rows
        if first_tx == second_tx:
            return hint(
                "both revisions ran in one transaction: transaction_per_migration=True "
                "must reach context.configure() for the online run."
            )
        if (first, second) != ("500ms", "500ms"):
            why = (
                " SET LOCAL lasts until its transaction ends, and each revision now has a "
                "transaction of its own."
                if first == "500ms"
                else ""
            )
            return hint(
                f"lock_timeout was {first} in the first revision and {second} in the "
                f"second; both should be 500ms.{why}"
            )
        down = run_alembic(Path(tmp), "downgrade", "base", database_url=url)
        if down.returncode != 0:
            return hint(f"`alembic downgrade base` failed with your env.py: {last_line(down)}")
        if probe_state(ch, database) != (None, []):
            return hint(
                "`alembic downgrade base` ran, but a new connection still sees the "
                "probe revisions: the downgrade was not committed."
            )
    return correct(
        "each revision committed in a transaction of its own, both ran with "
        "lock_timeout 500ms, and the downgrade committed too."
    )


EXERCISES = {
    1: Exercise(ex1, start="Write the ALTER TABLE as a string."),
    2: Exercise(ex2, start="Measure it with locks_taken(...), then give the mode."),
    3: Exercise(ex3, start="Edit alembic/env.py, then run the check.", hands_on=True),
}
