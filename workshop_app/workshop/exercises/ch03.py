"""Chapter 03: Alembic and the empty first migration."""

import configparser

from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None
    revision = ch.query("SELECT version_num FROM alembic_version", "prod").version_num
    actual = revision.iloc[0] if len(revision) else None
    if str(answer).strip() == str(actual):
        return correct(f"the prod database is at {actual}, and still has its posts.")
    return hint("ask the database: SELECT version_num FROM alembic_version (or alembic current).")


def ex2(answer: object, ch: Chapter | None) -> Result:
    if not callable(answer):
        return hint("give a function that takes the URL and returns the text to store.")
    url = "postgresql+psycopg://blog_user:p%40ss%25word@localhost:5432/blog"
    parser = configparser.ConfigParser()  # what alembic.ini's Config uses
    parser.add_section("alembic")
    try:
        parser.set("alembic", "sqlalchemy.url", answer(url))
        back = parser.get("alembic", "sqlalchemy.url")
    except (ValueError, configparser.Error) as err:
        return hint(f"configparser still objects: {err.__class__.__name__}.")
    if back != url:
        return hint(f"it comes back as {back!r}, not the URL you stored.")
    return correct("every % doubled: configparser gives the URL back unchanged.")


EXERCISES = {
    1: Exercise(ex1, start="Ask the prod database which revision it is at."),
    2: Exercise(ex2, start="Write a function: lambda url: ..."),
}
