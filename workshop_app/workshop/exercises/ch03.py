"""Chapter 03: Alembic and the empty first migration."""

from pathlib import Path

from sqlalchemy import inspect, text

from workshop_app.workshop.alembic_runner import upgrade
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.compare import schema_of
from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint, waiting

# The story's posts (chapters.SEED_SQL): prod must still have every one of them.
POSTS = {"Hello, blog", "Why SQLite?", "Kernel news"}


def sandbox_head(sandbox: Path) -> tuple[str | None, str]:
    """The head revision of the sandbox's history, or None and why there is none."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    ini = sandbox / "alembic.ini"
    if not ini.exists():
        return None, "there is no alembic.ini in the sandbox: run the chapter's cells first."
    try:
        heads = ScriptDirectory.from_config(Config(str(ini))).get_heads()
    except Exception as err:
        return None, f"Alembic cannot read your history ({type(err).__name__})."
    if len(heads) != 1:
        return None, f"your history has {len(heads)} heads; it should have exactly one."
    return heads[0], ""


def initial_schema(ch: Chapter) -> dict[str, object]:
    """What the initial migration creates: the course's 0001 on a throw-away database."""
    short = f"ch{ch.number}_check_0001"
    engine = ch.engine(ch.backend.create_database(short), admin=True)
    try:
        with engine.connect() as conn:
            upgrade(conn, "0001")
            conn.commit()
        return schema_of(engine)
    finally:
        engine.dispose()
        ch.backend.drop_database(short)


def ex1(answer: object, ch: Chapter | None) -> Result:
    """Hands-on: bring `prod` (tables from create_all, with posts) under Alembic, keeping them."""
    assert ch is not None
    engine = ch.engine("prod", admin=True)  # a new connection: what is really there now
    try:
        tables = set(inspect(engine).get_table_names())
        missing = {"users", "posts"} - tables
        if missing:
            return hint(
                f"prod has no {' and no '.join(sorted(missing))} table any more: "
                "tables were dropped. Run the notebook again from the top to get prod "
                "back, then record its revision without running the migration."
            )
        with engine.connect() as conn:
            titles = set(conn.scalars(text("SELECT title FROM posts")))
            versions = (
                list(conn.scalars(text("SELECT version_num FROM alembic_version")))
                if "alembic_version" in tables
                else None
            )
        schema = schema_of(engine)
    finally:
        engine.dispose()
    lost = POSTS - titles
    if lost:
        return hint(
            f"prod lost {len(lost)} of its {len(POSTS)} posts ({', '.join(sorted(lost))}): "
            "the rows must survive. Run the notebook again from the top to get them "
            "back; this time run nothing that drops or recreates tables."
        )
    if versions is None:
        return waiting(
            "prod still has no alembic_version table: Alembic has never run there "
            "(a failed upgrade leaves nothing behind). Point DATABASE_URL at prod."
        )
    if not versions:
        return hint(
            "prod has an alembic_version table, but it records no revision: to "
            "Alembic prod is still empty, and the next upgrade would create the tables "
            "again."
        )
    head, why = sandbox_head(ch.sandbox)
    if head is None:
        return hint(why)
    if versions != [head]:
        return hint(
            f"prod records {', '.join(versions)}, but the head of your history "
            "(alembic/versions) is another revision: Alembic would run the wrong "
            "migrations there."
        )
    schema.pop("alembic_version", None)
    expected = initial_schema(ch)
    expected.pop("alembic_version", None)
    if schema != expected:
        differ = sorted(t for t in set(schema) | set(expected) if schema.get(t) != expected.get(t))
        return hint(
            f"prod records {head}, but its {', '.join(differ)} differ from what the "
            "initial migration creates (columns, keys or indexes changed)."
        )
    return correct(
        f"prod records {head}, the head of your history; all {len(POSTS)} posts are "
        "still there, and its tables are exactly what the initial migration creates. "
        "From now on it takes migrations like any database."
    )


def ex2(answer: object, ch: Chapter | None) -> Result:
    """How many tables `fresh` has after `alembic upgrade head`, now that 0001 creates them: it
    recorded the empty 0001 earlier, so the upgrade runs nothing."""
    assert ch is not None, "this check needs the chapter: check(..., ch)"
    engine = ch.engine("fresh", admin=True)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
            recorded = (
                list(conn.scalars(text("SELECT version_num FROM alembic_version")))
                if conn.scalar(text("SELECT to_regclass('public.alembic_version') IS NOT NULL"))
                else []
            )
    finally:
        engine.dispose()
    given = str(answer).strip()
    if not given.isdigit():
        return hint("answer with a number: the tables fresh has, besides alembic_version.")
    if not recorded:
        return hint(
            "fresh records no revision: run the chapter's cells from the top (the empty 0001 "
            "ran there), then alembic upgrade head against fresh, and ask it again."
        )
    if int(given) != len(tables):
        return hint(
            f"not what fresh has now. Run `alembic upgrade head` with DATABASE_URL pointing at "
            f'fresh, then ask it from a new connection (ch.tables("fresh")). It records '
            f"{', '.join(recorded)} in alembic_version: which revisions does upgrade then run?"
        )
    if tables:
        return correct(f"fresh has {len(tables)} tables now (you rebuilt its history).")
    return correct(
        "none: fresh records 0001 as applied, so upgrade runs nothing, whatever 0001 now "
        "contains. Only `alembic stamp base` (or a new database) and an upgrade repair it: "
        "an empty migration also poisons every database it ran on."
    )


EXERCISES = {
    1: Exercise(
        ex1,
        start="Bring prod under Alembic with an alembic command in a cell or a "
        "terminal (DATABASE_URL pointing at prod), then run this cell again.",
        hands_on=True,
    ),
    2: Exercise(ex2, start="Upgrade fresh, then count its tables besides alembic_version."),
}
