"""What every chapter's checks share: the verdict, and running a learner's SQL safely."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlparse
from sqlalchemy import Connection

from workshop_app.workshop.chapter import Chapter


@dataclass(frozen=True)
class Result:
    ok: bool | None  # None: the exercise is still waiting for the learner
    message: str

    def line(self) -> str:
        verdict = {True: "Correct", False: "Not yet", None: "Waiting"}[self.ok]
        return f"{verdict}: {self.message}"


def correct(message: str) -> Result:
    return Result(True, message)


def hint(message: str) -> Result:
    return Result(False, message)


def waiting(message: str) -> Result:
    return Result(None, message)


@dataclass(frozen=True)
class Exercise:
    check: Callable[[object, Chapter | None], Result]
    start: str = ""  # how to begin, shown while the exercise waits
    hands_on: bool = False  # the learner changes the project; the check inspects it


@contextmanager
def rolled_back(ch: Chapter | None) -> Iterator[Connection]:
    """An admin connection to the chapter's database whose work is always rolled back."""
    assert ch is not None, "this check needs the chapter: check(..., ch)"
    engine = ch.engine(admin=True)
    try:
        with engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def refused(err: Exception) -> Result:
    err = getattr(err, "orig", None) or err
    return hint(f"PostgreSQL refused it: {str(err).splitlines()[0]}")


def statements(sql: str) -> list[str]:
    """The SQL statements in a text (comments alone are none), split by a real SQL parser:
    a check runs a learner's SQL only when it is the one statement asked for, so a `COMMIT`
    or a `DROP` after it never reaches the database."""
    return [s for s in sqlparse.split(sql) if sqlparse.format(s, strip_comments=True).strip()]


def code_of(source: str) -> str:
    """A Python file without its comments: roughly what runs (a comment that names a
    statement is no statement)."""
    return "\n".join(line.split("#", 1)[0] for line in source.splitlines())
