"""Database URLs: validate what the learner gave, mask passwords, talk to libpq."""

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workshop_app.workshop.errors import WorkshopError

DRIVER = "postgresql+psycopg"
EXAMPLE = "postgresql+psycopg://USER:PASSWORD@127.0.0.1:5432/postgres"


def parse_database_url(raw: str, name: str = "WORKSHOP_DATABASE_URL") -> URL:
    """Validate a PostgreSQL URL (the setting `name`) and use psycopg 3 as its driver."""
    check_password_encoded(raw.strip(), name)
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as err:
        raise WorkshopError(
            f"{name} is not a valid URL ({err}).",
            f"write it as {EXAMPLE}.",
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise WorkshopError(
            f"{name} points at {url.get_backend_name()!r}, not PostgreSQL.",
            f"this course needs PostgreSQL: {EXAMPLE}, or remove {name} to use the "
            "embedded server.",
        )
    return url.set(drivername=DRIVER)


# In a URL's password these end a part (@ / ? #) or start an escape (% not followed by 2 hex).
UNENCODED = re.compile(r"[@/?#]|%(?![0-9A-Fa-f]{2})")


def check_password_encoded(raw: str, name: str = "WORKSHOP_DATABASE_URL") -> None:
    """Refuse a password that is not URL-encoded, naming the fix without showing it."""
    _, sep, rest = raw.partition("://")
    if not sep or "@" not in rest:
        return
    userinfo, _, server = rest.rpartition("@")  # a host never holds "@": the last one ends it
    user, colon, password = userinfo.partition(":")
    if colon and UNENCODED.search(password):
        raise WorkshopError(
            f"The password in {name} needs URL-encoding: it holds characters such as "
            "@ : / % that end a part of a URL.",
            'encode it, e.g. python -c "import urllib.parse; print(urllib.parse.quote('
            f"input('password: '), safe=''))\", and put the result in place of *** in "
            f"{DRIVER}://{user}:***@{server}",
        )


def show(url: URL, *, reveal: bool = False) -> str:
    """The URL as text; the password shown as *** unless `reveal`."""
    return url.render_as_string(hide_password=not reveal)


def where(url: URL) -> str:
    """A short, password-free description of the server a URL points at."""
    host = url.query.get("host") or url.host or "localhost"
    return f"{host}:{url.port or 5432}" if url.host else f"socket {host}"


def libpq_conninfo(url: URL, **overrides: object) -> str:
    """A libpq keyword string (safe for socket paths with spaces) for psycopg and psql.
    Every query parameter of the URL (sslmode, options, application_name, ...) is kept."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, object] = {"connect_timeout": 5}
    params.update({k: ",".join(v) if isinstance(v, tuple) else v for k, v in url.query.items()})
    fields = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    params.update({k: v for k, v in fields.items() if v is not None})
    params.update(overrides)
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def libpq_url(url: URL) -> str:
    """The URL as psycopg and psql take it: the same, without SQLAlchemy's `+psycopg`."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
