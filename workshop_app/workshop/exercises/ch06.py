"""Chapter 06: timezones."""

import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    correct,
    hint,
    refused,
    rolled_back,
    statements,
    waiting,
)
from workshop_app.workshop.exercises.scratch import last_line, run_alembic, scratch_database


def ex1(answer: object, ch: Chapter | None) -> Result:
    """The instant *in UTC*: the same instant at another offset is not what was asked."""
    expected = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
    try:
        value = answer if isinstance(answer, datetime) else datetime.fromisoformat(str(answer))
    except ValueError:
        return hint("give a datetime, or ISO text such as 2026-01-01T00:00:00+00:00.")
    offset = value.utcoffset()
    if offset is None:
        return hint("that is a naive datetime: which instant is it? Give it a time zone.")
    if value != expected:
        return hint(
            f"{value.isoformat()} is {abs(value - expected)} "
            f"{'after' if value > expected else 'before'} the post's instant."
        )
    if offset != timedelta(0):
        return hint(
            f"that is the right instant, but at {value.isoformat()[-6:]}: in UTC its "
            "utcoffset() is zero. Convert it with .astimezone(UTC)."
        )
    return correct("09:30 at -05:00 is 14:30 UTC: the same instant, written in UTC.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    """The downgrade of a column of Paris wall times: in a New York session, timestamptz back
    to the Paris wall times, in winter and in summer."""
    alter = f"ALTER TABLE legacy ALTER COLUMN created_at TYPE timestamp USING {answer}"
    if len(statements(alter)) != 1:
        return hint(
            "give one SQL expression, the part after USING: no `;` and no statements of "
            "its own (a migration's transaction is Alembic's to begin and commit)."
        )
    with rolled_back(ch) as conn:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        conn.exec_driver_sql(
            "CREATE TEMP TABLE legacy (id int, created_at timestamptz) ON COMMIT DROP;"
            "INSERT INTO legacy VALUES (1, '2026-01-05 08:00+00'), (2, '2026-07-01 10:00+00')"
        )
        try:
            conn.exec_driver_sql(alter)
        except Exception as err:
            return refused(err)
        values = dict(conn.execute(text("SELECT id, created_at FROM legacy")).all())
    expected = {1: datetime(2026, 1, 5, 9, 0), 2: datetime(2026, 7, 1, 12, 0)}
    for id_, season, utc in ((1, "winter", "08:00"), (2, "summer", "10:00")):
        if values.get(id_) != expected[id_]:
            got = f"the wall time {values[id_]:%H:%M}" if values.get(id_) else "empty"
            return hint(
                f"the {season} post, {utc} UTC, came back as {got}, not the Paris "
                f"wall time {expected[id_]:%H:%M}: a timestamptz becomes the wall "
                "time of which zone? Name it (a fixed offset ignores summer "
                "time)."
            )
    return correct(
        "each instant back to its Paris wall time, summer and winter, in any "
        "session: AT TIME ZONE works both ways."
    )


# The story's posts (chapters.SEED_SQL), as instants.
SEED = {
    1: datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    2: datetime(2026, 2, 10, 18, 30, tzinfo=UTC),
    3: datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
}

STAGING_SQL = {
    "type": "SELECT data_type FROM information_schema.columns "
    "WHERE table_schema = 'public' AND table_name = 'posts' AND column_name = 'date_posted'",
    "version": "SELECT string_agg(version_num, ', ') FROM alembic_version",
    # A table that was never rewritten still has the file it was created with.
    "rewritten": "SELECT relfilenode <> oid FROM pg_class WHERE oid = 'public.posts'::regclass",
}


def heads(ch: Chapter) -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(Config(str(ch.sandbox / "alembic.ini"))).get_heads())


def in_new_york(ch: Chapter) -> str:
    """Run the sandbox's migrations on a scratch copy of staging as the chapter started (the
    course's 0002, date_posted a legacy timestamp of UTC wall times) from a New York session:
    upgrade, then downgrade. What went wrong, or "" when nothing did."""
    with scratch_database(ch, revision="head") as name:
        engine = ch.engine(name, admin=True)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
                conn.execute(text("ALTER TABLE posts ALTER COLUMN date_posted TYPE timestamp"))
            url = ch.url(name).render_as_string(hide_password=False)
            for step in (("upgrade", "head"), ("downgrade", "0002")):
                run = new_york_alembic(ch, url, *step)
                if run.returncode != 0:
                    return f"`alembic {' '.join(step)}` failed: {last_line(run)}"
                with engine.connect() as conn:
                    found = {k: conn.scalar(text(sql)) for k, sql in STAGING_SQL.items()}
                    rows = dict(conn.execute(text("SELECT id, date_posted FROM posts")).all())
                if step[0] == "upgrade":
                    for id_, instant in SEED.items():
                        if rows.get(id_) != instant:
                            return (
                                f"post {id_}, written at {instant:%H:%M} UTC, reads "
                                f"{rows[id_].astimezone(UTC):%H:%M} UTC after the upgrade: "
                                "the wall times were read in the session's time zone. "
                                "Make the migration itself say which zone they are "
                                "in."
                            )
                    what = "upgrade"
                else:
                    for id_, instant in SEED.items():
                        if rows.get(id_) != instant.replace(tzinfo=None):
                            return (
                                f"after the downgrade post {id_} reads {rows[id_]}, not "
                                f"its UTC wall time {instant:%Y-%m-%d %H:%M}."
                            )
                    what = "downgrade"
                if found["rewritten"]:
                    return f"the {what} rewrote posts."
        finally:
            engine.dispose()
    return ""


def new_york_alembic(ch: Chapter, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`alembic ARGS` in the sandbox, as a developer whose libpq session is in New York."""
    return run_alembic(ch.sandbox, *args, database_url=url, env={"PGTZ": "America/New_York"})


def ex3(answer: object, ch: Chapter | None) -> Result:
    """Hands-on: staging converted by a migration, every instant kept, no table rewrite."""
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    engine = ch.engine("staging", admin=True)  # a new connection: what is committed
    try:
        with engine.connect() as conn:
            found = {k: conn.scalar(text(sql)) for k, sql in STAGING_SQL.items()}
            rows = dict(conn.execute(text("SELECT id, date_posted FROM posts")).all())
    finally:
        engine.dispose()
    legacy, version = found["type"] == "timestamp without time zone", found["version"]
    if legacy and version == "0002":
        return waiting(
            "staging is at 0002 with the legacy column: write the migration, "
            "then run it on staging from a New York session."
        )
    if found["type"] != "timestamp with time zone":
        return hint(
            f"staging's posts.date_posted is {found['type']}, with alembic_version "
            f"at {version}: it should be timestamp with time zone."
        )
    if version == "0002":
        return hint(
            "the column is converted but alembic_version still says 0002: make "
            "the change with a migration and `alembic upgrade`, so the history "
            "knows."
        )
    if set(rows) != set(SEED):
        return hint(f"staging had posts {sorted(SEED)}; it now has {sorted(rows)}.")
    for id_, instant in SEED.items():
        if rows[id_] != instant:
            moved = rows[id_] - instant
            sign = "+" if moved > timedelta(0) else "-"
            return hint(
                f"post {id_} was written at {instant:%Y-%m-%d %H:%M} UTC and now "
                f"reads {rows[id_].astimezone(UTC):%H:%M} UTC ({sign}{abs(moved)}): "
                "the wall times were read in the session's time zone, not as "
                "UTC."
            )
    if version not in heads(ch):
        return hint(
            f"staging is at {version}, not at the head of your history "
            f"({', '.join(sorted(heads(ch)))})."
        )
    if found["rewritten"]:
        return hint(
            "every instant is right, but posts was rewritten (it has a new file, see "
            "pg_relation_filenode): a USING clause always rewrites. Which conversion "
            "above was metadata only, and how can the migration make sure of it, "
            "whatever PGTZ says?"
        )
    problem = in_new_york(ch)
    if problem:
        return hint(
            f"staging is right, but your migration, run on a scratch copy of staging from "
            f"a New York session (PGTZ=America/New_York): {problem}"
        )
    return correct(
        f"timestamptz, every instant kept, staging at {version}, and posts kept "
        "its file: metadata only, from a New York session too."
    )


EXERCISES = {
    1: Exercise(ex1, start="Give a datetime with tzinfo, or ISO text."),
    2: Exercise(ex2, start="Write the downgrade's USING expression as a string."),
    3: Exercise(
        ex3,
        start="Edit alembic/versions/0003_date_posted_as_timestamptz.py, then upgrade staging.",
        hands_on=True,
    ),
}
