"""`workshop room`: one PostgreSQL for a class, each learner with a login role of their own.

The instructor runs it as the server's admin (WORKSHOP_DATABASE_URL, or the embedded server with
WORKSHOP_PG_PORT so learners can reach it over TCP). For each learner it creates the login role
`ws_room_<slug>` (LOGIN CREATEDB CREATEROLE, a generated password, a comment naming the learner)
and writes the one line the learner pastes into `.env`:

    WORKSHOP_DATABASE_URL=postgresql+psycopg://ws_room_<slug>:PASSWORD@HOST:PORT/postgres

With it the course works as that learner: settings.room_learner() takes the prefix `ws_<slug>__`
from the role's name, the learner's databases and roles are created by their own login (so on
PostgreSQL 16+ no other learner may alter or drop them) and closed to other roles (see
Backend.create_database). What PostgreSQL 15 cannot isolate is in docs/instructor-guide.md.

Passwords live only in the room's folder (mode 0700, files 0600): room.csv for the instructor
and one `<slug>.env` per learner. Running `add` again reads them back and keeps them.
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workshop_app.workshop.errors import WorkshopError
from workshop_app.workshop.settings import ROOM_ROLE, ROOT, learner_slug

if TYPE_CHECKING:
    import psycopg

    from workshop_app.workshop.backend import Backend
    from workshop_app.workshop.urls import DbUrl

MARKER = "Room login of learner {}, made by `workshop room add`; `workshop room drop` drops it."
FIELDS = ("name", "learner", "role", "password", "env")
DEFAULT_DIR = ROOT / ".workshop" / "room"


@dataclass(frozen=True)
class Seat:
    """One learner of the room: the name as given, its slug, login role and password."""

    name: str
    learner: str
    password: str

    @property
    def role(self) -> str:
        return ROOM_ROLE + self.learner

    def url(self, base: DbUrl) -> DbUrl:
        return base.set(username=self.role, password=self.password)

    def env_line(self, base: DbUrl, *, reveal: bool = True) -> str:
        return f"WORKSHOP_DATABASE_URL={self.url(base).render_as_string(hide_password=not reveal)}"


# ----- the room's files


def read_seats(folder: Path) -> dict[str, Seat]:
    """The room as room.csv lists it, by slug; empty when there is none yet."""
    path = folder / "room.csv"
    if not path.exists():
        return {}
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return {r["learner"]: Seat(r["name"], r["learner"], r["password"]) for r in rows}
    except (KeyError, csv.Error, UnicodeDecodeError) as err:
        raise WorkshopError(
            f"{path} is not a room file written by `workshop room add` ({err}).",
            "restore it from a copy, or give --dir another folder for a new room.",
        ) from None


def write_seats(folder: Path, seats: dict[str, Seat], base: DbUrl) -> None:
    """room.csv and one <slug>.env per learner, readable by their owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    rows = [[s.name, s.learner, s.role, s.password, s.env_line(base)] for s in seats.values()]
    private_write(folder / "room.csv", rows)
    for seat in seats.values():
        private_write(folder / f"{seat.learner}.env", seat.env_line(base) + "\n")


def private_write(path: Path, content: str | list[list[str]]) -> None:
    """Write a file as 0600 from the start (never readable by others), then move it in place."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as f:
        if isinstance(content, str):
            f.write(content)
        else:
            csv.writer(f).writerows([list(FIELDS), *content])
    os.replace(scratch, path)


def names_from(args: list[str], file: Path | None) -> list[str]:
    """Learners' names from the arguments and a file (one a line; blank lines and # skipped)."""
    names = list(args)
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise WorkshopError(
                f"Cannot read the list of learners {file}: {err}.",
                "give --file a UTF-8 text file, one name a line.",
            ) from None
        names += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not names:
        raise WorkshopError(
            "No learners named.",
            "name them: `workshop room add anne bob` or "
            "`workshop room add --file names.txt` (one a line).",
        )
    return list(dict.fromkeys(names))


# ----- the server


def learners_url(backend: Backend, host: str | None) -> DbUrl:
    """The server as learners reach it: `host` (HOST or HOST:PORT) if given, else the admin's
    host and port. The embedded server's private socket is the admin's alone."""
    url = backend.admin_url  # each seat puts its own role and password in (Seat.url)
    query = {k: v for k, v in url.query.items() if k != "host"}
    if host:
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        if port and not port.isdigit():
            raise WorkshopError(
                f"--host {host!r} is not HOST or HOST:PORT.",
                "e.g. --host db.example.org or --host 10.0.0.5:5432.",
            )
        return url.set(host=name, port=int(port) if port else url.port, query=query)
    if url.host:
        return url
    if backend.server is not None and url.port:
        return url.set(host="127.0.0.1", query=query)
    raise WorkshopError(
        "The embedded server listens on a private socket only: learners cannot reach it.",
        "set WORKSHOP_PG_PORT=5433 in .env (any free port), run `workshop db stop`, then "
        "`workshop room add ...` again: it listens on 127.0.0.1 with passwords.",
    )


def is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def room_roles(conn: psycopg.Connection) -> set[str]:
    """The slugs of the room's logins on the server (named and commented by create_login)."""
    rows = conn.execute(
        "SELECT rolname, coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles "
        "WHERE starts_with(rolname, %s)",
        (ROOM_ROLE,),
    ).fetchall()
    slugs = {role.removeprefix(ROOM_ROLE): comment for role, comment in rows}
    return {slug for slug, comment in slugs.items() if comment == MARKER.format(slug)}


def create_login(conn: psycopg.Connection, seat: Seat) -> None:
    """The learner's login: may create databases and roles, nothing more. An admin that is not
    a superuser becomes its member, to list and drop what the learner made (see drop)."""
    from psycopg import sql

    role = sql.Identifier(seat.role)
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
            role, sql.Literal(seat.password)
        )
    )
    conn.execute(
        sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(MARKER.format(seat.learner)))
    )
    if not is_superuser(conn):
        grant = sql.SQL("GRANT {} TO CURRENT_USER").format(role)
        if conn.info.server_version >= 160000:
            grant += sql.SQL(" WITH INHERIT TRUE, SET TRUE")
        conn.execute(grant)


def add(backend: Backend, names: list[str], folder: Path, host: str | None) -> list[str]:
    """Give every named learner a login; keep the existing ones and their passwords. Returns
    one line per learner for people (passwords masked)."""
    base = learners_url(backend, host)
    backend.ensure_running()
    seats = read_seats(folder)
    lines = []
    with backend.connect() as conn:
        on_server = room_roles(conn)
        taken = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
        wanted = {learner_slug(n): n for n in names}
        for slug, name in wanted.items():
            if slug in on_server and slug not in seats:
                raise WorkshopError(
                    f"Learner {name}'s login {ROOM_ROLE + slug} exists on the server, but "
                    f"{folder / 'room.csv'} has no password for it (another room folder?).",
                    "give --dir the room's folder, or `workshop room drop "
                    f"{name}` first (it drops that learner's databases too).",
                )
            if ROOM_ROLE + slug in taken and slug not in on_server:
                raise WorkshopError(
                    f"A role {ROOM_ROLE + slug} exists on the server that the room did not make.",
                    f"drop or rename it as the admin, or leave {name} out.",
                )
        for slug, name in wanted.items():
            seat = seats.get(slug) or Seat(name, slug, secrets.token_urlsafe(18))
            status = "kept" if slug in on_server else "recreated" if slug in seats else "new"
            if status != "kept":
                create_login(conn, seat)
            seats[slug] = seat
            lines.append(f"  {status:9} {seat.role:32} {seat.env_line(base, reveal=False)}")
    write_seats(folder, seats, base)
    return lines


@dataclass(frozen=True)
class Row:
    learner: str
    role: str
    on_server: bool
    in_file: bool
    databases: int
    roles: int
    connections: int


THEIRS = """
SELECT
  (SELECT count(*) FROM pg_database d WHERE starts_with(d.datname, %(prefix)s)
     AND pg_has_role(%(login)s, d.datdba, 'MEMBER')),
  (SELECT count(*) FROM pg_roles r WHERE starts_with(r.rolname, %(prefix)s)),
  (SELECT count(*) FROM pg_stat_activity a
     WHERE a.usename = %(login)s OR starts_with(a.usename, %(prefix)s))
"""


def listing(backend: Backend, folder: Path) -> list[Row]:
    backend.ensure_running()
    seats = read_seats(folder)
    with backend.connect() as conn:
        on_server = room_roles(conn)
        rows = []
        for slug in sorted(set(seats) | set(on_server)):
            login, prefix = ROOM_ROLE + slug, f"ws_{slug}__"
            counts = (0, 0, 0)
            if slug in on_server:
                counts = conn.execute(THEIRS, {"login": login, "prefix": prefix}).fetchone()
            rows.append(Row(slug, login, slug in on_server, slug in seats, *counts))
        return rows


def learner_backend(backend: Backend, slug: str) -> Backend:
    """The admin's connection acting as the learner (SET ROLE at connect): what the learner
    may drop, the admin may drop in their name, on any server version."""
    from dataclasses import replace

    options = backend.admin_url.query.get("options", "")
    options = f"{options} -c role={ROOM_ROLE + slug}".strip()
    url = backend.admin_url.update_query_dict({"options": options})
    return replace(backend, admin_url=url, learner=slug, source="room")


def drop(backend: Backend, slugs: list[str], folder: Path) -> tuple[list[str], list[str]]:
    """Drop these learners' databases and roles, then their logins; remove them from the room
    file. Returns what was dropped and what could not be (with the reason)."""
    import psycopg
    from psycopg import sql

    from workshop_app.workshop.chapters import course_names
    from workshop_app.workshop.course_check import check_backend

    seats = read_seats(folder)
    dropped, failed = [], []
    with backend.connect() as conn:
        on_server = room_roles(conn)
        for slug in slugs:
            login = ROOM_ROLE + slug
            if slug in on_server:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "usename = %s OR starts_with(usename, %s)",
                    (login, f"ws_{slug}__"),
                )
                as_learner = learner_backend(backend, slug)
                try:  # theirs, then their `workshop check`'s (a prefix of its own)
                    for who in (as_learner, check_backend(as_learner)):
                        dbs, roles = theirs(who, course_names(who), login)
                        who.drop(dbs, roles)
                        dropped += dbs + roles
                    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))
                    dropped.append(login)
                except psycopg.Error as err:
                    why = err.diag.message_detail or err.diag.message_primary or str(err)
                    failed.append(f"{login}: {why}".replace("\n", "; "))
                    continue
            seats.pop(slug, None)
    if (folder / "room.csv").exists():
        rewrite_seats(folder, seats)
        for slug in slugs:
            if slug not in seats:
                (folder / f"{slug}.env").unlink(missing_ok=True)
    return dropped, failed


def rewrite_seats(folder: Path, seats: dict[str, Seat]) -> None:
    """room.csv with these learners only, each line as it was (their URL unchanged)."""
    with (folder / "room.csv").open(newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    private_write(folder / "room.csv", [[rows[s][k] for k in FIELDS] for s in seats])


def theirs(learner: Backend, known: list[str], login: str) -> tuple[list[str], list[str]]:
    """What a learner made: the course's own (marker or known name, see Backend.owned), and
    every database and role with their prefix that their login owns or is a member of."""
    dbs, roles = learner.owned(known)
    with learner.connect() as conn:
        more_dbs = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
            "AND pg_has_role(%s, datdba, 'MEMBER')",
            (learner.prefix, login),
        ).fetchall()
        more_roles = conn.execute(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) "
            "AND pg_has_role(%s, oid, 'MEMBER')",
            (learner.prefix, login),
        ).fetchall()
    return (
        sorted({*dbs, *(r[0] for r in more_dbs)}),
        sorted({*roles, *(r[0] for r in more_roles)}),
    )


# ----- the command


def cmd_room(args: argparse.Namespace) -> int:
    from workshop_app.workshop.backend import choose_backend

    backend = choose_backend()
    folder = Path(args.dir).expanduser().resolve() if args.dir else DEFAULT_DIR
    if args.action == "add":
        names = names_from(args.names, Path(args.file) if args.file else None)
        lines = add(backend, names, folder, args.host)
        print(f"Room on {backend.describe()}: {len(lines)} learners")
        print("\n".join(lines))
        print(
            f"Each learner pastes their line into .env (the course's checkout): "
            f"{folder}/<learner>.env holds it; {folder / 'room.csv'} lists all "
            "(both readable by you only)."
        )
        return 0
    if args.action == "list":
        rows = listing(backend, folder)
        if not rows:
            print(f"No room: no learners in {folder / 'room.csv'} nor logins on the server.")
            return 0
        print(
            f"{'learner':26} {'role':34} {'server':6} {'file':4} {'dbs':>4} {'roles':>5} "
            f"{'conns':>5}"
        )
        for r in rows:
            print(
                f"{r.learner:26} {r.role:34} {'yes' if r.on_server else 'NO':6} "
                f"{'yes' if r.in_file else 'NO':4} {r.databases:4} {r.roles:5} "
                f"{r.connections:5}"
            )
        return 0
    return drop_command(backend, folder, args.names, yes=args.yes)


def drop_command(backend: Backend, folder: Path, names: list[str], *, yes: bool) -> int:
    rows = listing(backend, folder)
    everyone = {r.learner for r in rows}
    slugs = [learner_slug(n) if learner_slug(n) in everyone else n for n in names] or sorted(
        everyone
    )
    if missing := [s for s in slugs if s not in everyone]:
        raise WorkshopError(
            f"Not in the room: {', '.join(missing)}.", "`workshop room list` shows who is."
        )
    if not slugs:
        print("No room to drop.")
        return 0
    print(
        f"`workshop room drop` drops these learners' logins, databases and roles "
        f"({len(slugs)}): {', '.join(slugs)}"
    )
    if not yes:
        if not sys.stdin.isatty():
            raise WorkshopError(
                "`workshop room drop` asks before it drops anything, and there is no terminal "
                "to ask on.",
                "run `workshop room drop --yes` to drop the learners listed above.",
            )
        if input("Drop them? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing dropped.")
            return 1
    dropped, failed = drop(backend, slugs, folder)
    print(f"Dropped {len(dropped)} logins, databases and roles.")
    if failed:
        print(
            "Could not drop (they own objects the course did not make; drop or reassign "
            "them as the admin, then run this again):\n  " + "\n  ".join(failed)
        )
        return 2
    return 0
