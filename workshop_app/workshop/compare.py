"""Comparing what a learner built with what the course expects: schemas and files."""

import difflib
from pathlib import Path

from sqlalchemy import Engine, inspect

from workshop_app.workshop.alembic_runner import upgrade
from workshop_app.workshop.chapter import Chapter


def schema_of(engine: Engine) -> dict[str, object]:
    """What a reviewer compares: tables, columns, keys, uniques, indexes."""
    insp = inspect(engine)
    out: dict[str, object] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c["default"] and str(c["default"]))
                for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["name"],
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "fk": sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i["unique"]) for i in insp.get_indexes(table)
            ),
        }
    return out


def compare_with_reference(ch: Chapter, which: str = "blog", revision: str = "head") -> None:
    """Print whether one of the chapter's databases has exactly the schema that the course's
    reviewed history (alembic/ at the repository root) creates at `revision`."""
    short = f"ch{ch.number}_reference"
    reference = ch.engine(ch.backend.create_database(short), admin=True)
    try:
        with reference.connect() as conn:
            upgrade(conn, revision)
            conn.commit()
        expected = schema_of(reference)
    finally:
        reference.dispose()
        ch.backend.drop_database(short)
    mine = schema_of(ch.engine(which, admin=True))
    for table in sorted(set(mine) | set(expected)):
        if mine.get(table) != expected.get(table):
            print(f"{table}:\n  yours:  {mine.get(table)}\n  course: {expected.get(table)}")
    same = mine == expected
    print(f"Same tables, columns, keys, constraints and indexes as the course's {revision}: {same}")


def show_diff(old: str | Path, new: str | Path) -> None:
    """A unified diff of two files, as `git diff` shows it (without timestamps)."""
    a, b = Path(old).read_text().splitlines(), Path(new).read_text().splitlines()
    for line in difflib.unified_diff(a, b, str(old), str(new), lineterm="", n=1):
        print(line)
