"""Database URLs: validate what the learner gave, mask passwords, talk to libpq."""

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workshop_app.workshop.errors import WorkshopError

DRIVER = "postgresql+psycopg"
EXAMPLE = "postgresql+psycopg://USER:PASSWORD@127.0.0.1:5432/postgres"


def parse_database_url(raw: str) -> URL:
    """Validate a PostgreSQL URL and use psycopg 3 as its driver, whatever it named."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as err:
        raise WorkshopError(
            f"DATABASE_URL is not a valid URL ({err}).",
            f"write it as {EXAMPLE}.",
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise WorkshopError(
            f"DATABASE_URL points at {url.get_backend_name()!r}, not PostgreSQL.",
            f"this course needs PostgreSQL: {EXAMPLE}, or remove DATABASE_URL to use the "
            "embedded server.",
        )
    return url.set(drivername=DRIVER)


def show(url: URL, *, reveal: bool = False) -> str:
    """The URL as text; the password shown as *** unless `reveal`."""
    return url.render_as_string(hide_password=not reveal)


def where(url: URL) -> str:
    """A short, password-free description of the server a URL points at."""
    host = url.query.get("host") or url.host or "localhost"
    return f"{host}:{url.port or 5432}" if url.host else f"socket {host}"


def libpq_conninfo(url: URL, **overrides: object) -> str:
    """A libpq keyword string (safe for socket paths with spaces) for psycopg and psql."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, object] = {
        "host": url.host or url.query.get("host"),
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        "connect_timeout": 5,
    }
    params.update(overrides)
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})
