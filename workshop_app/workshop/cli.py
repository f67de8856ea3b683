"""The `workshop` command (also `python -m workshop_app`).

Each command imports what it needs when it runs, so `workshop --help` and `workshop db url`
start without loading pandas, Jupyter or the notebook kit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import TYPE_CHECKING

from workshop_app.workshop.errors import WorkshopError

if TYPE_CHECKING:
    from workshop_app.workshop.backend import Backend


def choose_backend() -> Backend:
    from workshop_app.workshop.backend import choose_backend as choose

    return choose()


FIRST_NOTEBOOK = "notebooks/00-start-here.ipynb"


def cmd_doctor(args: argparse.Namespace) -> int:
    from workshop_app.workshop.doctor import report, run_checks

    checks = run_checks()
    print(report(checks))
    return 0 if all(c.ok for c in checks) else 2


def cmd_db(args: argparse.Namespace) -> int:
    backend = choose_backend()
    server = backend.server
    if args.action == "start":
        if server is None:
            backend.ensure_running()
            print(f"Using {backend.describe()} (nothing to start: it runs on its own).")
        else:
            started = server.start()
            print(
                f"{'Started' if started else 'Already running:'} embedded PostgreSQL, "
                f"data in {server.data}"
            )
    elif args.action == "stop":
        if server is None:
            print("WORKSHOP_DATABASE_URL is set: the workshop does not start or stop that server.")
        else:
            print("Stopped." if server.stop() else "The embedded server was not running.")
    elif args.action == "status":
        return db_status(backend)
    elif args.action == "url":
        url = backend.admin_url if args.database is None else backend.url(args.database)
        from workshop_app.workshop.urls import show

        print(show(url, reveal=args.show_password))
    elif args.action == "psql":
        return db_psql(backend, args.args)
    elif args.action == "cleanup":
        return db_cleanup(backend, yes=args.yes)
    return 0


def db_cleanup(backend: Backend, *, yes: bool) -> int:
    """List what the course made for this learner and for their `workshop check` (a learner
    and prefix of its own, see course_check); drop it once confirmed (or --yes)."""
    from workshop_app.workshop.chapters import course_names
    from workshop_app.workshop.course_check import check_backend

    backend.ensure_running()
    check = check_backend(backend)
    dbs, roles = backend.owned(course_names(backend))
    check_dbs, check_roles = check.owned(course_names(check))
    dbs, roles = dbs + check_dbs, roles + check_roles
    prefixes = f"{backend.prefix}..., and {check.prefix}... for `workshop check`"
    if not dbs and not roles:
        print(f"Nothing to drop: no databases or roles of yours ({prefixes}).")
        return 0
    print(f"The course made these for you ({prefixes}); cleanup drops them:")
    print("\n".join([f"  database {d}" for d in dbs] + [f"  role     {r}" for r in roles]))
    if not yes:
        if not sys.stdin.isatty():
            raise WorkshopError(
                "`workshop db cleanup` asks before it drops anything, and there is no terminal "
                "to ask on.",
                "run `workshop db cleanup --yes` to drop the databases and roles listed above.",
            )
        if input("Drop them? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing dropped.")
            return 1
    backend.drop(dbs, roles)
    print(f"Dropped {len(dbs)} databases and {len(roles)} roles: {', '.join(dbs + roles)}")
    return 0


def db_status(backend: Backend) -> int:
    print(f"backend:  {backend.describe()}")
    print(f"prefix:   {backend.prefix} (your databases and roles)")
    if backend.server is not None:
        status = backend.server.status()
        print(f"data:     {status.data_dir}")
        print(f"running:  {'yes, pid ' + str(status.pid) if status.running else 'no'}")
        if not status.running:
            print("          start it with `workshop db start` (notebooks start it themselves)")
            return 1
    print(f"version:  PostgreSQL {backend.server_version()}")  # it connects, or explains why not
    return 0


def db_psql(backend: Backend, extra: list[str]) -> int:
    """The embedded server's own psql; for another server the system psql if there is one."""
    from workshop_app.workshop.embedded import wheel_bin

    backend.ensure_running()
    system = shutil.which("psql") if backend.server is None else None
    psql = system or str(wheel_bin() / "psql")
    dbname, extra = split_dbname(extra)
    database = {"dbname": dbname} if dbname else {}  # psql's -d would replace the whole conninfo
    from workshop_app.workshop.urls import libpq_conninfo

    conninfo = libpq_conninfo(backend.admin_url, connect_timeout=None, **database)
    os.execv(psql, [psql, conninfo, *extra])
    return 0  # not reached


def split_dbname(args: list[str]) -> tuple[str | None, list[str]]:
    """psql's -d NAME, -dNAME, --dbname NAME or --dbname=NAME taken out of its arguments."""
    dbname, rest, it = None, [], iter(args)
    for arg in it:
        if arg in ("-d", "--dbname"):
            dbname = next(it, None)
        elif arg.startswith("--dbname="):
            dbname = arg.split("=", 1)[1]
        elif arg.startswith("-d"):
            dbname = arg[2:]
        else:
            rest.append(arg)
    return dbname, rest


def cmd_reset(args: argparse.Namespace) -> int:
    import time

    from workshop_app.workshop.chapters import STARTS
    from workshop_app.workshop.reset import reset

    number = args.chapter.zfill(2)
    if number not in STARTS:
        chapters = ", ".join(sorted(STARTS))
        raise WorkshopError(
            f"There is no chapter {args.chapter!r}.",
            f"name one of {chapters}, e.g. `workshop reset 04`.",
        )
    started = time.perf_counter()
    ch, cloned, dropped = reset(number)
    seconds = time.perf_counter() - started
    source = "from templates" if cloned else "built, and kept as templates for next time"
    databases = f"; databases {', '.join(ch.databases.values())} ({source})" if ch.password else ""
    print(f"Chapter {number} reset in {seconds:.2f} s: sandbox {ch.sandbox}{databases}.")
    if dropped:
        print(f"Before that, dropped {', '.join(dropped)}.")
    print("In JupyterLab, restart the chapter's kernel (its first cell does this reset too).")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workshop_app.workshop.course_check import check
    from workshop_app.workshop.settings import chapter_notebooks as chapters

    if args.jobs < 1:
        raise WorkshopError(
            f"-j {args.jobs} would run no notebook at all.",
            "give -j how many notebooks to run at a time, e.g. -j 3.",
        )
    files = [a for a in args.chapters if a.endswith(".ipynb")]
    if missing := [a for a in files if not Path(a).is_file()]:
        raise WorkshopError(
            f"There is no notebook {', '.join(missing)}.",
            "name existing .ipynb files, or chapters by number, e.g. `workshop check 03 04`.",
        )
    paths = [Path(a).resolve() for a in files]
    numbers = [a.zfill(2) for a in args.chapters if not a.endswith(".ipynb")]
    known = {n.name[:2] for n in chapters()}
    if missing := [n for n in numbers if n not in known]:
        raise WorkshopError(
            f"There is no chapter {', '.join(missing)}.",
            f"name chapters by number: {', '.join(sorted(known))}.",
        )
    notebooks = paths + [n for n in chapters() if n.name[:2] in numbers or not args.chapters]
    backend = choose_backend()  # start the server once, before the kernels race to do it
    backend.ensure_running()
    return check(list(dict.fromkeys(notebooks)), args.jobs, backend)


def cmd_export(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from workshop_app.workshop.export import export
    from workshop_app.workshop.settings import ROOT

    out = Path(args.out or ROOT / "build" / "course").resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as err:
        file = next((p for p in (out, *out.parents) if p.is_file()), None)
        problem = f"{file} is a file, not a folder" if file else (err.strerror or str(err)).lower()
        raise WorkshopError(
            f"Cannot export the course to {out}: {problem}.",
            "give --out a folder you can write to (it is created if missing), "
            "e.g. --out build/course.",
        ) from None
    started = time.perf_counter()
    print(f"Exporting the course to {out} ...", flush=True)
    written = export(out)
    print(
        f"{len(written)} pages in {time.perf_counter() - started:.1f} s. "
        f"Open {out / 'index.html'} in a browser."
    )
    return 0


def cmd_room(args: argparse.Namespace) -> int:
    from workshop_app.workshop.room import cmd_room as run

    return run(args)


def cmd_lab(args: argparse.Namespace) -> int:
    backend = choose_backend()
    print(f"Starting PostgreSQL ({backend.kind}) ...", flush=True)
    backend.ensure_running()
    print(f"PostgreSQL {backend.server_version()} is ready. Starting JupyterLab ...", flush=True)
    from workshop_app.workshop.embedded import is_root
    from workshop_app.workshop.kernel import use_this_python_first
    from workshop_app.workshop.settings import ROOT

    os.chdir(ROOT)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    use_this_python_first()  # terminals and `!` commands in JupyterLab find alembic, workshop
    # Open the first chapter, unless told to serve another folder (Jupyter refuses a file to
    # open outside the folder it serves).
    other_root = any(a.startswith(("--ServerApp.root_dir", "--notebook-dir")) for a in args.args)
    argv = [*([] if other_root else [FIRST_NOTEBOOK]), *args.args]
    if is_root():  # containers and Colab run as root; JupyterLab refuses that unless told
        argv.append("--allow-root")
    from workshop_app.workshop.lab import run  # its start-up ends in one line to act on

    return run(argv, backend, None if other_root else ROOT / FIRST_NOTEBOOK)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workshop", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine for the course").set_defaults(run=cmd_doctor)

    db = sub.add_parser("db", help="the PostgreSQL server the course uses")
    db.set_defaults(run=cmd_db)
    actions = db.add_subparsers(dest="action", required=True)
    actions.add_parser("start", help="start the embedded server (if it is the backend)")
    actions.add_parser("stop", help="stop the embedded server")
    actions.add_parser("status", help="which server, running or not, its version")
    url = actions.add_parser("url", help="the admin URL, password masked")
    url.add_argument("--show-password", action="store_true", help="print the password too")
    url.add_argument("--database", help="another database on the same server")
    psql = actions.add_parser("psql", help="open psql as the admin")
    psql.add_argument("args", nargs=argparse.REMAINDER, help="passed on to psql")
    cleanup = actions.add_parser(
        "cleanup", help="drop this learner's databases and roles (their check's too)"
    )
    cleanup.add_argument("--yes", action="store_true", help="do not ask first (for scripts)")

    reset = sub.add_parser("reset", help="put one chapter back to its starting state")
    reset.add_argument("chapter", help="the chapter's number, e.g. 04")
    reset.set_defaults(run=cmd_reset)

    check = sub.add_parser("check", help="run every chapter headless and compare its outputs")
    check.add_argument("chapters", nargs="*", help="only these chapters (03 04) or notebook files")
    check.add_argument("-j", "--jobs", type=int, default=1, help="notebooks at a time")
    check.set_defaults(run=cmd_check)

    exp = sub.add_parser("export", help="the course as static HTML, readable without a server")
    exp.add_argument("--out", help="target folder (default: build/course in the checkout)")
    exp.set_defaults(run=cmd_export)

    room = sub.add_parser("room", help="instructors: one server, a login for each learner")
    room.set_defaults(run=cmd_room)
    rooms = room.add_subparsers(dest="action", required=True)
    add = rooms.add_parser("add", help="create learners' logins; keeps existing ones")
    add.add_argument("names", nargs="*", help="learners' names (e.g. their hub user names)")
    add.add_argument("--file", help="a text file of names, one a line")
    add.add_argument("--host", help="HOST[:PORT] learners connect to (default: the admin's)")
    listing = rooms.add_parser("list", help="the learners, what they made, their connections")
    drop = rooms.add_parser("drop", help="drop learners (all unless named) and what they made")
    drop.add_argument("names", nargs="*", help="only these learners")
    drop.add_argument("--yes", action="store_true", help="do not ask first (for scripts)")
    for action in (add, listing, drop):
        action.add_argument("--dir", help="the room's files (default: .workshop/room)")

    lab = sub.add_parser("lab", help="start PostgreSQL, then JupyterLab on the first chapter")
    lab.add_argument("args", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    lab.set_defaults(run=cmd_lab)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)  # psql and jupyter options pass through
    if extra and not hasattr(args, "args"):
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.args = extra + args.args
    try:
        code = args.run(args)
        sys.stdout.flush()  # a reader that went away is noticed here, not at exit
        return code
    except BrokenPipeError:  # `workshop ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush
        return 141  # as a shell tool stopped by SIGPIPE (128 + 13)
    except WorkshopError as err:
        print(f"workshop: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
