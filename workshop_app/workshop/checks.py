"""Exercise checks. `check("01", 2, answer)` prints a pass or a hint, never the answer.

The intended answers live in notebooks/solutions/chNN.py; `solution("01", 2)` loads one, which
is what the committed notebooks run so that their checks show a pass.
"""

import configparser
import importlib.util
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from workshop_app.workshop.kit import Chapter
from workshop_app.workshop.settings import ROOT

Result = tuple[bool, str]


def ch01_ex1(answer: object, ch: Chapter | None) -> Result:
    if str(answer).strip().lower() == "c":
        return True, "create_all skips a table that exists; it never alters one."
    return False, "look at the SQL printed after the model changed: was there a CREATE or ALTER?"


def ch01_ex2(answer: object, ch: Chapter | None) -> Result:
    """Run the learner's SQL on a SQLite database shaped like the blog before `likes`."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL);"
        "INSERT INTO posts (title) VALUES ('old one'), ('old two');"
    )
    try:
        db.executescript(str(answer))
    except sqlite3.Error as err:
        return False, f"SQLite refused it ({err}). The statement starts with ALTER TABLE posts."
    columns = {row[1]: row for row in db.execute("PRAGMA table_info(posts)")}
    if "likes" not in columns:
        return False, "after your SQL, posts still has no column named likes."
    _, _, type_, notnull, default, _ = columns["likes"]
    if not notnull:
        return False, "likes should be NOT NULL, like the model's Mapped[int]."
    values = {row[0] for row in db.execute("SELECT likes FROM posts")}
    if values != {0}:
        return False, f"the existing posts read {values}: give the column a DEFAULT of 0."
    return True, f"likes {type_} NOT NULL DEFAULT {default}; the old rows read 0."


def ch02_ex1(answer: object, ch: Chapter | None) -> Result:
    sql = str(answer)
    if ":author" not in sql:
        return False, "use a bound parameter named :author for the user name."
    if "'ada'" in sql or '"ada"' in sql:
        return False, "the name must come from the parameter, not be written into the SQL."
    assert ch is not None
    try:
        got = sorted(ch.query(sql, author="ada").iloc[:, 0])
    except Exception as err:  # noqa: BLE001 - the learner's SQL may fail in any way
        return refused(err)
    expected = sorted(ch.query(
        "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id WHERE u.username = 'ada'"
    ).title)  # fmt: skip
    if got != expected:
        return False, f"for author 'ada' it returned {got}; join posts to users on user_id."
    return True, f"posts by ada: {len(got)}; the name travelled as a parameter."


def ch02_ex2(answer: object, ch: Chapter | None) -> Result:
    try:
        url = make_url(str(answer))
    except Exception:  # noqa: BLE001
        return False, "that is not a URL SQLAlchemy can read."
    if url.password != "p@ss/w%rd" or url.host != "localhost" or url.database != "blog":
        return False, (
            f"it reads as password {url.password!r}, host {url.host!r}, database "
            f"{url.database!r}: URL-encode the password (urllib.parse.quote(..., safe=''))."
        )
    return True, "the password survives the trip through the URL."


def ch03_ex1(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None
    revision = ch.query("SELECT version_num FROM alembic_version", "prod").version_num
    actual = revision.iloc[0] if len(revision) else None
    if str(answer).strip() == str(actual):
        return True, f"the prod database is at {actual}, and still has its posts."
    return False, "ask the database: SELECT version_num FROM alembic_version (or alembic current)."


def ch03_ex2(answer: object, ch: Chapter | None) -> Result:
    if not callable(answer):
        return False, "give a function that takes the URL and returns the text to store."
    url = "postgresql+psycopg://blog_user:p%40ss%25word@localhost:5432/blog"
    parser = configparser.ConfigParser()  # what alembic.ini's Config uses
    parser.add_section("alembic")
    try:
        parser.set("alembic", "sqlalchemy.url", answer(url))
        back = parser.get("alembic", "sqlalchemy.url")
    except (ValueError, configparser.Error) as err:
        return False, f"configparser still objects: {err.__class__.__name__}."
    if back != url:
        return False, f"it comes back as {back!r}, not the URL you stored."
    return True, "every % doubled: configparser gives the URL back unchanged."


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
    return False, f"PostgreSQL refused it: {str(err).splitlines()[0]}"


def ch04_ex1(answer: object, ch: Chapter | None) -> Result:
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
        return False, "posts has no column named views after your SQL."
    if column.is_nullable == "YES":
        return False, "views may be empty: add NOT NULL."
    if values - {0}:
        return False, f"the existing posts read {sorted(values)}: the default should be 0."
    if rewrote:
        return False, "it rewrote the table: use a constant default, not a function."
    return True, "NOT NULL DEFAULT 0: metadata only, and every post reads 0."


def ch04_ex2(answer: object, ch: Chapter | None) -> Result:
    if str(answer).replace(" ", "").lower() in ("accessexclusivelock", "accessexclusive"):
        return True, "ACCESS EXCLUSIVE: not even reads get past it while it is held."
    return False, "look at the mode column of the pg_locks query in the lock section."


def ch05_ex1(answer: object, ch: Chapter | None) -> Result:
    expected = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    try:
        value = answer if isinstance(answer, datetime) else datetime.fromisoformat(str(answer))
    except ValueError:
        return False, "give a datetime, or ISO text such as 2026-01-01T00:00:00+00:00."
    if value.tzinfo is None:
        return False, "that is a naive datetime: which instant is it? Give it a time zone."
    if value != expected:
        return False, f"{value.isoformat()} is {value - expected} away from the right instant."
    return True, "12:00 at +02:00 is 10:00 UTC: the same instant, written another way."


def ch05_ex2(answer: object, ch: Chapter | None) -> Result:
    """Convert a legacy column in a session far from UTC; the instant must survive."""
    with rolled_back(ch) as conn:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        conn.exec_driver_sql(
            "CREATE TEMP TABLE legacy (created_at timestamp) ON COMMIT DROP;"
            "INSERT INTO legacy VALUES ('2026-01-05 09:00')"
        )
        try:
            conn.exec_driver_sql(
                f"ALTER TABLE legacy ALTER COLUMN created_at TYPE timestamptz USING {answer}"
            )
        except Exception as err:  # noqa: BLE001 - the learner's SQL may fail in any way
            return refused(err)
        value = conn.scalar(text("SELECT created_at FROM legacy"))
    expected = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    if value != expected:
        return False, f"09:00 UTC came out as {value.astimezone(UTC):%H:%M} UTC: say the wall " \
                      "times are UTC with AT TIME ZONE."  # fmt: skip
    return True, "the value kept its instant, whatever the session's time zone."


def ch06_ex1(answer: object, ch: Chapter | None) -> Result:
    if " ".join(str(answer).split()) == "alembic check":
        return True, "it exits non-zero when the models need a migration nobody wrote."
    return False, "one alembic command compares models and migrations without writing anything."


def ch06_ex2(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None
    merges = [p for p in (ch.sandbox / "alembic" / "versions").glob("*.py")
              if "down_revision" in p.read_text() and "merge" in p.name]  # fmt: skip
    if not merges:
        return False, "run the merge section first."
    text_ = merges[0].read_text()
    parents = set(re.findall(r"down_revision[^=]*= \(([^)]*)\)", text_)[0].replace('"', "")
                  .replace("'", "").replace(" ", "").split(",")) - {""}  # fmt: skip
    given = {str(a).strip() for a in answer} if isinstance(answer, list | tuple | set) else set()
    if given == parents:
        return True, f"the merge revision has two parents: {', '.join(sorted(parents))}."
    return False, "give the two revision ids `alembic heads` listed, as a set of strings."


CHECKS: dict[tuple[str, int], Callable[[object, Chapter | None], Result]] = {
    ("01", 1): ch01_ex1,
    ("01", 2): ch01_ex2,
    ("02", 1): ch02_ex1,
    ("02", 2): ch02_ex2,
    ("03", 1): ch03_ex1,
    ("03", 2): ch03_ex2,
    ("04", 1): ch04_ex1,
    ("04", 2): ch04_ex2,
    ("05", 1): ch05_ex1,
    ("05", 2): ch05_ex2,
    ("06", 1): ch06_ex1,
    ("06", 2): ch06_ex2,
}


def check(chapter: str, number: int, answer: object, ch: Chapter | None = None) -> None:
    ok, message = CHECKS[(chapter, number)](answer, ch)
    print(("Correct: " if ok else "Not yet: ") + message)


def solution(chapter: str, number: int) -> object:
    """The intended answer, from notebooks/solutions/chNN.py."""
    path = ROOT / "notebooks" / "solutions" / f"ch{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_ch{chapter}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f"EXERCISE_{number}")
