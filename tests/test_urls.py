"""The workshop's own URLs (DbUrl) read and print exactly as SQLAlchemy's do, and its libpq
keyword strings mean to libpq what the URL says; the commands start without either library."""

import subprocess
import sys

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workshop_app.workshop.urls import DbUrl, libpq_conninfo

URLS = [
    "postgresql+psycopg://postgres@/postgres?host=%2Fvar%2Flib%2Fws%20x%2Frun",
    "postgresql+psycopg://ws_anne__ch03_blog_user:a%40%25%3A%2Fb@127.0.0.1:5432/ws_anne__ch03",
    "postgresql+psycopg://u:p+q%20r@[::1]:6543/db%20name?sslmode=require",
    "postgresql://u@h/db?options=-c%20statement_timeout%3D5s&application_name=a+b",
    "postgresql://h:5432",
    "postgresql://u:pw@h/d?x=1&x=2&y=",
    "postgres://%C3%BCber:%E2%82%AC@h/d",
    "postgresql+psycopg://",
    "sqlite:///./blog.db",
]


@pytest.mark.parametrize("text", URLS)
def test_a_url_reads_and_prints_as_sqlalchemy_reads_and_prints_it(text: str) -> None:
    ours, theirs = DbUrl.parse(text), make_url(text)
    parts = ("drivername", "username", "password", "host", "port", "database")
    assert {p: getattr(ours, p) for p in parts} == {p: getattr(theirs, p) for p in parts}
    assert dict(ours.query) == dict(theirs.query)
    for hide in (True, False):
        assert ours.render_as_string(hide) == theirs.render_as_string(hide)
    assert ours.to_sqlalchemy() == theirs
    assert str(ours) == str(theirs)
    changed = {"database": "other", "username": "x y", "password": "p@ss", "port": None}  # kept
    assert str(ours.set(**changed)) == str(theirs.set(**changed))


def test_a_url_that_is_not_one_is_refused_as_sqlalchemy_refuses_it() -> None:
    for text in ("not a url", "postgresql://h:notaport/db"):
        with pytest.raises(ValueError):
            DbUrl.parse(text)
        with pytest.raises((ArgumentError, ValueError)):  # ValueError: int() of the port
            make_url(text)


@pytest.mark.parametrize("text", URLS[:4])
def test_the_libpq_keyword_string_says_what_psycopg_would(text: str) -> None:
    url = DbUrl.parse(text)
    ours = conninfo_to_dict(libpq_conninfo(url))
    assert ours == conninfo_to_dict(make_conninfo(**ours))
    assert ours.get("password") == url.password
    assert ours.get("user") == url.username
    assert ours.get("dbname") == url.database
    assert ours["connect_timeout"] == "5"
    for key, value in url.query.items():
        assert ours[key] == value


def test_quotes_and_backslashes_in_a_value_survive() -> None:
    for password in ("it's", "back\\slash", "\\'", " lead", ""):
        url = DbUrl("postgresql", "u", password, "h")
        assert conninfo_to_dict(libpq_conninfo(url))["password"] == password


def test_db_url_imports_neither_sqlalchemy_nor_psycopg() -> None:
    """`workshop db url` has to start quickly; importing either takes longer than it may."""
    code = (
        "import sys; from workshop_app.workshop.cli import main; main(['db', 'url']); "
        "print(sorted(m for m in ('sqlalchemy', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "[]"
