"""Which PostgreSQL the course uses, and the two connections derived from that one choice.

- `DATABASE_URL` (environment, then `.env`): any server. The URL's role must be able to create
  databases, and roles for the chapters that teach them. It is the *admin* connection.
- otherwise the embedded server (see embedded.py); its admin is `postgres` on a private socket.

From the admin connection the workshop derives, per learner, the databases and roles it creates:
every name starts with `ws_<learner>_` (WORKSHOP_LEARNER, default the OS user name), so learners
who share one server never collide, and `cleanup()` touches only the caller's own. An *app*
connection is the same server with such a role and its password, and one database.
"""

import re
import secrets
from dataclasses import dataclass
from functools import cache

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from workshop_app.workshop.embedded import EmbeddedServer, default_home
from workshop_app.workshop.errors import explain_connect_error
from workshop_app.workshop.settings import ROOT, WorkshopSettings
from workshop_app.workshop.urls import libpq_conninfo, parse_database_url, show, where

NAME = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Backend:
    kind: str  # "embedded" or "url"
    source: str  # for people: where the choice came from
    admin_url: URL
    learner: str
    server: EmbeddedServer | None = None

    # ----- naming

    @property
    def prefix(self) -> str:
        return f"ws_{self.learner}_"

    def name(self, short: str) -> str:
        """The learner's own name for a database or role, e.g. `ch03` → `ws_alice_ch03`."""
        if not NAME.match(short):
            raise ValueError(f"names are lowercase letters, digits and _: {short!r}")
        return self.prefix + short

    def url(self, database: str, user: str | None = None, password: str | None = None) -> URL:
        """A URL on this server for a database (full name), as admin or as a given role."""
        url = self.admin_url.set(database=database)
        return url.set(username=user, password=password) if user else url

    def describe(self) -> str:
        """For people: where the server came from; a URL only when the learner gave one."""
        if self.server is not None:
            return f"{self.source} (private socket; `workshop db status` shows where)"
        return f"{self.source}: {show(self.admin_url)}"

    # ----- the server

    def ensure_running(self) -> None:
        """Start the embedded server if needed; then prove the admin connection works."""
        if self.server is not None:
            self.server.start()
        with self.connect():
            pass

    def connect(self, database: str | None = None) -> psycopg.Connection:
        url = self.admin_url if database is None else self.url(database)
        try:
            return psycopg.connect(libpq_conninfo(url), autocommit=True)
        except psycopg.OperationalError as err:
            raise explain_connect_error(err, where(url)) from None

    def server_version(self) -> str:
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    # ----- databases and roles, always the learner's own

    def create_database(
        self, short: str, *, owner: str | None = None, template: str | None = None
    ) -> str:
        """(Re)create the learner's database `short`; returns its full name."""
        name = self.name(short)
        self.drop_database(short)
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            query += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)
        return name

    def drop_database(self, short: str) -> None:
        name = self.name(short)
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))  # fmt: skip

    def create_role(self, short: str, password: str | None = None) -> tuple[str, str]:
        """The learner's login role `short` with a password (generated unless given)."""
        password = password or secrets.token_urlsafe(12)
        return self.set_role(short, password), password

    def set_role(self, short: str, password: str, *, timezone: str | None = None) -> str:
        """Create the learner's login role `short`, or give the existing one a new password
        (it may own tables in template databases, so it is kept rather than recreated)."""
        name = self.name(short)
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = sql.SQL("ALTER" if exists else "CREATE")
            conn.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                verb, sql.Identifier(name), sql.Literal(password)))  # fmt: skip
            if timezone:
                conn.execute(sql.SQL("ALTER ROLE {} SET timezone TO {}").format(
                    sql.Identifier(name), sql.Literal(timezone)))  # fmt: skip
        return name

    def drop_role(self, short: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name(short))))

    def owned(self) -> tuple[list[str], list[str]]:
        """This learner's databases and roles on the server."""
        pattern = self.prefix.replace("_", r"\_") + "%"
        with self.connect() as conn:
            dbs = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (pattern,)
            ).fetchall()
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY 1", (pattern,)
            ).fetchall()
        return [r[0] for r in dbs], [r[0] for r in roles]

    def cleanup(self) -> tuple[list[str], list[str]]:
        """Drop every database and role of this learner, and nothing else."""
        dbs, roles = self.owned()
        with self.connect() as conn:
            for db in dbs:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(db)))  # fmt: skip
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        return dbs, roles


def choose_backend(settings: WorkshopSettings | None = None) -> Backend:
    """The backend the settings name: DATABASE_URL if set, else the embedded server."""
    settings = settings or WorkshopSettings()
    learner = settings.learner()
    if settings.database_url:
        url = parse_database_url(settings.database_url)
        return Backend("url", f"DATABASE_URL from {settings.database_url_source()}", url, learner)
    home = default_home(ROOT, settings.workshop_data_dir)
    server = EmbeddedServer(home, settings.workshop_pg_port)
    return Backend("embedded", "embedded PostgreSQL", server.admin_url(), learner, server)


@cache
def current() -> Backend:
    """The backend of this process, chosen once. Notebooks and tests start from here."""
    return choose_backend()
