"""Database URLs: validate what the learner gave, mask passwords, talk to libpq.

The workshop's own URLs are `DbUrl`s, not SQLAlchemy's `URL`: importing SQLAlchemy takes longer
than a whole `workshop db url` may. A `DbUrl` parses and prints like SQLAlchemy's `URL` (tests
compare the two) and becomes one with `to_sqlalchemy()` where an engine is made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from workshop_app.workshop.errors import WorkshopError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DRIVER = "postgresql+psycopg"

# scheme://user:password@host:port/database?query, each part optional after the scheme; a host
# in [ ] is IPv6. The same grammar as SQLAlchemy's make_url.
PARTS = re.compile(
    r"(?P<drivername>[\w+]+)://"
    r"(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?"
    r"(?:/(?P<database>[^?]*))?"
    r"(?:\?(?P<query>.*))?",
    re.S,
)


@dataclass(frozen=True)
class DbUrl:
    """A database URL; its parts, as SQLAlchemy's `URL` names them."""

    drivername: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> DbUrl:
        """Parse as SQLAlchemy's make_url does; ValueError if it is not a URL."""
        m = PARTS.fullmatch(text)
        if m is None:
            raise ValueError("Could not parse a URL from the given text")
        values: dict[str, list[str]] = {}
        for key, value in parse_qsl(m["query"] or ""):
            values.setdefault(key, []).append(value)
        query = {k: v[0] if len(v) == 1 else tuple(v) for k, v in values.items()}
        username, password, database = (
            None if m[part] is None else unquote(m[part])
            for part in ("username", "password", "database")
        )
        port = int(m["port"]) if m["port"] else None
        host = m["ipv6"] or m["host"]
        return cls(m["drivername"], username, password, host, port, database, query)

    def set(self, **parts: object) -> DbUrl:
        """A copy with some parts replaced; as in SQLAlchemy, a None leaves a part as it is."""
        return replace(self, **{k: v for k, v in parts.items() if v is not None})

    def update_query_dict(self, params: Mapping[str, str]) -> DbUrl:
        return replace(self, query={**self.query, **params})

    def render_as_string(self, hide_password: bool = True) -> str:
        """The URL as text, quoted as SQLAlchemy quotes it; the password *** unless shown."""
        text = self.drivername + "://"
        if self.username is not None:
            text += quote(self.username, safe=" +")
            if self.password is not None:
                text += ":" + ("***" if hide_password else quote(self.password, safe=" +"))
            text += "@"
        if self.host is not None:
            text += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            text += f":{self.port}"
        if self.database is not None:
            text += "/" + quote(self.database, safe=" +/")
        if self.query:
            text += "?" + "&".join(
                f"{quote_plus(key)}={quote_plus(value)}"
                for key in sorted(self.query)
                for value in as_tuple(self.query[key])
            )
        return text

    def __str__(self) -> str:
        return self.render_as_string()

    def __hash__(self) -> int:
        return hash(self.render_as_string(hide_password=False))

    def to_sqlalchemy(self) -> URL:
        """The same URL as SQLAlchemy's `URL`, for an engine."""
        from sqlalchemy.engine import URL

        return URL.create(
            self.drivername,
            self.username,
            self.password,
            self.host,
            self.port,
            self.database,
            dict(self.query),
        )


EXAMPLE = "postgresql+psycopg://USER:PASSWORD@127.0.0.1:5432/postgres"


def as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def parse_database_url(raw: str, name: str = "WORKSHOP_DATABASE_URL") -> DbUrl:
    """Validate a PostgreSQL URL (the setting `name`) and use psycopg 3 as its driver."""
    check_password_encoded(raw.strip(), name)
    try:
        url = DbUrl.parse(raw.strip())
    except ValueError as err:
        raise WorkshopError(
            f"{name} is not a valid URL ({err}).",
            f"write it as {EXAMPLE}.",
        ) from None
    backend_name = url.drivername.partition("+")[0]
    if backend_name not in ("postgresql", "postgres"):
        raise WorkshopError(
            f"{name} points at {backend_name!r}, not PostgreSQL.",
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


def show(url: DbUrl | URL, *, reveal: bool = False) -> str:
    """The URL as text; the password shown as *** unless `reveal`."""
    return url.render_as_string(hide_password=not reveal)


def where(url: DbUrl | URL) -> str:
    """A short, password-free description of the server a URL points at."""
    host = url.query.get("host") or url.host or "localhost"
    return f"{host}:{url.port or 5432}" if url.host else f"socket {host}"


def libpq_conninfo(url: DbUrl | URL, **overrides: object) -> str:
    """A libpq keyword string (safe for socket paths with spaces) for psycopg and psql.
    Every query parameter of the URL (sslmode, options, application_name, ...) is kept."""
    params: dict[str, object] = {"connect_timeout": 5}
    params.update({k: ",".join(as_tuple(v)) for k, v in url.query.items()})
    fields = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    params.update({k: v for k, v in fields.items() if v is not None})
    params.update(overrides)
    return " ".join(f"{k}={conninfo_value(v)}" for k, v in params.items() if v is not None)


def conninfo_value(value: object) -> str:
    """A value in a libpq keyword string: in single quotes, its \\ and ' escaped (libpq's
    rule; psycopg's make_conninfo writes the same, but importing psycopg takes longer)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_url(url: DbUrl | URL) -> str:
    """The URL as psycopg and psql take it: the same, without SQLAlchemy's `+psycopg`."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
