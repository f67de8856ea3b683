"""Chapter 02: PostgreSQL."""

import re

import psycopg
from dotenv import dotenv_values
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text
from sqlalchemy.engine import make_url

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.errors import error_line
from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    correct,
    hint,
    refused,
    rolled_back,
    waiting,
)
from workshop_app.workshop.urls import libpq_url

# Posts the check adds (and rolls back) so that a query that ignores :term, compares case
# (LIKE), or looks for the whole title cannot pass by luck.
AUTHORS = {
    "check_hopper": ["Compilers in practice", "Debugging"],
    "check_lovelace": ["Notes on the engine"],
}
ADD_AUTHOR = """
INSERT INTO users (username, email, password_hash) VALUES (:name, :email, 'x')
"""
ADD_POST = """
INSERT INTO posts (title, content, user_id, date_posted)
SELECT :title, 'checked', id, now() FROM users WHERE username = :name
"""
EXPECTED = "SELECT title FROM posts WHERE strpos(lower(title), lower(:term)) > 0"
TERMS = ["postgres", "COMPILERS", "bug", "engine", "no such words"]


def ex1(answer: object, ch: Chapter | None) -> Result:
    sql = str(answer)
    if not re.search(r":term\b", sql):
        return hint("use a bound parameter named :term for the search term.")
    if re.search(r"\{|%s|%\(", sql):
        return hint(
            "no string formatting: the term goes in only as :term, and the SQL adds the "
            "wildcards around it."
        )
    with rolled_back(ch) as conn:
        for name, titles in AUTHORS.items():
            conn.execute(text(ADD_AUTHOR), {"name": name, "email": f"{name}@example.com"})
            for title in titles:
                conn.execute(text(ADD_POST), {"name": name, "title": title})
        for term in TERMS:
            expected = sorted(conn.execute(text(EXPECTED), {"term": term}).scalars())
            try:
                with conn.begin_nested():
                    rows = conn.execute(text(sql), {"term": term}).all()
            except Exception as err:
                return refused(err)
            got = sorted(str(row[0]) for row in rows)
            if got != expected:
                return hint(
                    f"for the term {term!r} it returned {len(got)} title(s), expected "
                    f"{len(expected)}. The term is what a user typed, without wildcards: "
                    "the SQL must find it anywhere in the title, in any case."
                )
    return correct(
        f"right titles for {len(TERMS)} terms, one that matches nothing. "
        "'%' || :term || '%' keeps the term a value: the SQL text never changes."
    )


PASSWORD = "p@ss/w%rd"


def ex2(answer: object, ch: Chapter | None) -> Result:
    text_url = str(answer).strip()
    try:
        url = make_url(text_url)
    except Exception:
        return hint("that is not a URL SQLAlchemy can read.")
    if url.drivername != "postgresql+psycopg":
        return hint(
            f"it names the driver {url.drivername!r}: SQLAlchemy with psycopg 3 wants "
            "postgresql+psycopg://"
        )
    wanted = {
        "user": "blog_user",
        "password": PASSWORD,
        "host": "localhost",
        "port": "5432",
        "dbname": "blog",
    }
    sqlalchemy_reads = {
        "user": url.username,
        "password": url.password,
        "host": url.host,
        "port": str(url.port),
        "dbname": url.database,
    }
    if sqlalchemy_reads != wanted:
        return hint(
            f"SQLAlchemy reads it as {describe(sqlalchemy_reads)}. URL-encode the password."
        )
    # psql, psycopg.connect() and every other libpq client read the same text themselves.
    try:
        libpq_reads = conninfo_to_dict(text_url.replace("postgresql+psycopg://", "postgresql://"))
    except psycopg.Error as err:
        return hint(
            "SQLAlchemy reads it, but libpq (psql, psycopg.connect) refuses it: "
            f"{str(err).strip().splitlines()[0]}. A '/' in the password ends the host part "
            "for libpq: encode every special character (quote's default keeps '/')."
        )
    if libpq_reads != wanted:
        return hint(
            f"libpq (psql, psycopg.connect) reads it as {describe(libpq_reads)}: encode "
            "every special character of the password (quote's default keeps '/')."
        )
    return correct("SQLAlchemy and libpq both read the password p@ss/w%rd back from it.")


def describe(parts: dict[str, object]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in parts.items() if k != "password") + (
        ", and a different password" if parts.get("password") != PASSWORD else ""
    )


WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def reporter(ch: Chapter) -> str:
    return ch.backend.name("ch02_reporter")


def ex3(answer: object, ch: Chapter | None) -> Result:
    """A read-only role for reports: it logs in with its own password (REPORTER_URL in the
    sandbox's .env), reads posts, and may not write them."""
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    name = reporter(ch)
    with ch.backend.connect() as admin:
        role = admin.execute(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname = %s",
            (name,),
        ).fetchone()
        member_of_app = (
            role is not None
            and admin.execute("SELECT pg_has_role(%s, %s, 'USAGE')", (name, ch.role)).fetchone()[0]
        )
    env = ch.sandbox / ".env"
    value = dotenv_values(env).get("REPORTER_URL") if env.exists() else None
    if role is None and not value:
        return waiting(f"create the role {name} as the admin, then put its URL in .env.")
    if role is None:
        return hint(
            f"REPORTER_URL is in .env, but there is no role {name}: create it as the admin."
        )
    if not role[0]:
        return hint(f"{name} cannot log in: create it with LOGIN (and a password).")
    if any(role[1:]) or member_of_app:
        return hint(
            f"{name} has more than reading needs: no SUPERUSER, CREATEDB, CREATEROLE, "
            "and no membership in the app's role (it would inherit the owner's rights)."
        )
    if not value:
        return hint("the role exists; now write REPORTER_URL=... (its URL) into .env.")
    try:
        url = make_url(value)
    except Exception:
        return hint("REPORTER_URL in .env is not a URL SQLAlchemy can read.")
    if url.username != name or url.database != ch.database:
        return hint(
            f"REPORTER_URL logs in as {url.username!r} to {url.database!r}; it should be "
            f"{name!r} to the chapter's database {ch.database!r}."
        )
    try:  # a new connection, as a report tool would open it, with the password from .env
        conn = psycopg.connect(libpq_url(url), connect_timeout=10)
    except psycopg.Error as err:
        return hint(
            f"{name} could not log in with REPORTER_URL ({error_line(err)}). Is the "
            "password in the URL the role's, URL-encoded?"
        )
    with conn:
        who = conn.execute("SELECT current_user").fetchone()[0]
        try:
            count = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        except psycopg.Error as err:
            return hint(f"{who} cannot read posts ({error_line(err)}): grant it SELECT.")
        writes = conn.execute(
            "SELECT array_remove(ARRAY["
            + ", ".join(
                f"CASE WHEN has_table_privilege('posts', '{p}') THEN '{p}' END" for p in WRITES
            )
            + "], NULL)"
        ).fetchone()[0]
        if writes:
            return hint(f"{who} may {', '.join(writes)} posts: grant SELECT only.")
        others = conn.execute(
            "SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm') "
            "AND relname <> 'posts' AND has_any_column_privilege(oid, 'SELECT')"
        ).fetchone()[0]
        if others:
            return hint(
                f"{who} may also read {others} (users holds password hashes): grant SELECT "
                "on posts alone, not on every table of the schema."
            )
        try:  # the proof: a write from this connection is refused
            conn.execute(
                "INSERT INTO posts (title, content, user_id, date_posted) "
                "VALUES ('x', 'x', 0, now())"
            )
        except psycopg.errors.InsufficientPrivilege:
            pass
        except psycopg.Error as err:
            return hint(
                f"an INSERT as {who} was not refused for lack of a privilege: {error_line(err)}"
            )
        finally:
            conn.rollback()
    return correct(
        f"{who} logged in with its own password, read {count} posts, and was refused any write."
    )


EXERCISES = {
    1: Exercise(ex1, start="Write the query as a string with :term where the search term goes."),
    2: Exercise(ex2, start="Write the URL as a string."),
    3: Exercise(
        ex3,
        start="Create the role as the admin, grant it reading, write REPORTER_URL.",
        hands_on=True,
    ),
}
