"""Which PostgreSQL the course uses, and the two connections derived from that one choice.

- `WORKSHOP_DATABASE_URL` (environment, then `.env`): any server. The URL's role must be able
  to create databases, and roles for the chapters that teach them. It is the *admin* connection.
- otherwise the embedded server (see embedded.py); its admin is `postgres` on a private socket.

From the admin connection the workshop derives, per learner, the databases and roles it creates:
every name starts with `ws_<learner>__` (the slug of WORKSHOP_LEARNER, default the OS user name;
no slug contains `__`), so learners who share one server never collide. Each carries a comment
naming the learner (MARKER), and `owned()` / `cleanup()` touch only objects with both: what the
course made for the caller. An *app* connection is the same server with such a role and its
password, and one database.

In a room (room.py) the admin connection is the learner's own login role `ws_room_<slug>`,
and the databases the course makes are closed to other roles (no CONNECT for PUBLIC).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from workshop_app.workshop.embedded import EmbeddedServer, default_home, wheel_bin
from workshop_app.workshop.errors import WorkshopError, explain_connect_error
from workshop_app.workshop.settings import ROOM_ROLE, ROOT, WorkshopSettings
from workshop_app.workshop.urls import DbUrl, libpq_conninfo, parse_database_url, show, where

if TYPE_CHECKING:  # psycopg is imported where a connection is made: `db url` starts quicker
    import psycopg

NAME = re.compile(r"^[a-z0-9_]{1,32}$")  # after the prefix; settings.SLUG_MAX counts on 32
MARKER = "Made by the pg-alembic-workshop course for learner {}; `workshop db cleanup` drops it."


@dataclass(frozen=True)
class Backend:
    kind: str  # "embedded" or "url"
    source: str  # for people: where the choice came from
    admin_url: DbUrl
    learner: str
    server: EmbeddedServer | None = None

    # ----- naming

    @property
    def prefix(self) -> str:
        return f"ws_{self.learner}__"

    @property
    def marker(self) -> str:
        """The comment on every database and role the course makes for this learner."""
        return MARKER.format(self.learner)

    @property
    def in_room(self) -> bool:
        """True when this learner connects with their room login (see room.py)."""
        return self.admin_url.username == ROOM_ROLE + self.learner

    def name(self, short: str) -> str:
        """The learner's own name for a database or role, e.g. `ch03` → `ws_alice_ch03`."""
        if not NAME.match(short):
            raise ValueError(f"names are lowercase letters, digits and _: {short!r}")
        return self.prefix + short

    def url(self, database: str, user: str | None = None, password: str | None = None) -> DbUrl:
        """A URL on this server for a database (full name), as admin or as a given role.
        It keeps the admin URL's query parameters (sslmode, options, ...)."""
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
        """An admin connection. On PostgreSQL 16+ a role it creates, even by hand (chapter 02),
        is granted to the admin with SET and INHERIT, so it can own databases (see set_role)."""
        import psycopg

        url = self.admin_url if database is None else self.url(database)
        log = self.server.log if self.server is not None else None
        try:
            conn = psycopg.connect(libpq_conninfo(url), autocommit=True)
        except psycopg.OperationalError as err:
            raise explain_connect_error(err, where(url), server_log=log) from None
        if conn.info.server_version >= 160000:
            conn.execute("SET createrole_self_grant = 'set, inherit'")
        return conn

    def server_version(self) -> str:
        """Asked with psql first: it starts quicker than psycopg imports (`workshop db status`).
        When psql cannot answer, psycopg asks, and explains a failure as for any connection."""
        if version := psql_value(self.admin_url, "SHOW server_version"):
            return version
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    # ----- databases and roles, always the learner's own

    def create_database(
        self, short: str, *, owner: str | None = None, template: str | None = None
    ) -> str:
        """(Re)create the learner's database `short`; returns its full name."""
        from psycopg import sql

        name = self.name(short)
        self.drop_database(short)
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            query += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(self.marker)
                )
            )
            if self.in_room:  # other learners may not connect; the owner's members still may
                conn.execute(
                    sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(
                        sql.Identifier(name)
                    )
                )
        return name

    def drop_database(self, short: str) -> None:
        from psycopg import sql

        name = self.name(short)
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def create_role(self, short: str, password: str | None = None) -> tuple[str, str]:
        """The learner's login role `short` with a password (generated unless given)."""
        password = password or secrets.token_urlsafe(12)
        return self.set_role(short, password), password

    def set_role(self, short: str, password: str, *, timezone: str | None = None) -> str:
        """Create the learner's login role `short`, or give the existing one a new password
        (it may own tables in template databases, so it is kept rather than recreated).

        An admin that is not a superuser (LOGIN CREATEDB CREATEROLE) becomes a member of the
        role: to create databases it owns (16+: SET), to read, copy and drop them (INHERIT).
        """
        from psycopg import sql

        name = self.name(short)
        role = sql.Identifier(name)
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = sql.SQL("ALTER" if exists else "CREATE")
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(verb, role, sql.Literal(password))
            )
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(self.marker)))
            superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            if not conn.execute(superuser).fetchone()[0]:
                grant = sql.SQL("GRANT {} TO CURRENT_USER").format(role)
                if conn.info.server_version >= 160000:
                    grant += sql.SQL(" WITH INHERIT TRUE, SET TRUE")
                conn.execute(grant)
            if timezone:
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET timezone TO {}").format(role, sql.Literal(timezone))
                )
        return name

    def drop_role(self, short: str) -> None:
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.name(short))))

    def owned(self, known: Iterable[str] = ()) -> tuple[list[str], list[str]]:
        """The databases and roles the course made for this learner: named with the learner's
        prefix and carrying the learner's marker, or one of the `known` full names (those the
        notebooks create by hand, see state.course_names)."""
        args = {"prefix": self.prefix, "marker": self.marker, "known": list(known)}
        with self.connect() as conn:
            dbs = conn.execute(
                OWNED.format(name="datname", view="pg_database", catalog="pg_database"), args
            )
            roles = conn.execute(
                OWNED.format(name="rolname", view="pg_roles", catalog="pg_authid"), args
            )
            return [r[0] for r in dbs.fetchall()], [r[0] for r in roles.fetchall()]

    def cleanup(self, known: Iterable[str] = ()) -> tuple[list[str], list[str]]:
        """Drop what the course made for this learner (see owned), and nothing else."""
        dbs, roles = self.owned(known)
        self.drop(dbs, roles)
        return dbs, roles

    def drop(self, dbs: list[str], roles: list[str]) -> None:
        from psycopg import sql

        with self.connect() as conn:
            for db in dbs:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))
                )
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def psql_value(url: DbUrl, query: str) -> str | None:
    """One value from the server, through the embedded wheel's psql; None if it fails. The
    password goes in psql's environment, not on its command line."""
    try:
        psql = wheel_bin() / "psql"
        env = {**os.environ, "PGPASSWORD": url.password} if url.password else None
        done = subprocess.run(
            [psql, "-XAtq", "-c", query, libpq_conninfo(url, password=None)],
            env=env,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (WorkshopError, OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# pg_authid is not readable by everyone; pg_roles (a view of it) is, with the same oids.
OWNED = """
SELECT {name} FROM {view} t
WHERE starts_with({name}, %(prefix)s)
  AND (shobj_description(t.oid, '{catalog}') = %(marker)s OR {name} = ANY(%(known)s))
ORDER BY 1
"""


def choose_backend(settings: WorkshopSettings | None = None) -> Backend:
    """The backend the settings name: WORKSHOP_DATABASE_URL if set, else the embedded server."""
    settings = settings or WorkshopSettings()
    learner = settings.learner()
    if chosen := settings.server_url():
        raw, name, source = chosen
        return Backend("url", source, parse_database_url(raw, name), learner)
    home = default_home(ROOT, settings.workshop_data_dir)
    server = EmbeddedServer(home, settings.workshop_pg_port)
    return Backend("embedded", "embedded PostgreSQL", server.admin_url(), learner, server)


@cache
def current() -> Backend:
    """The backend of this process, chosen once. Notebooks and tests start from here."""
    return choose_backend()
