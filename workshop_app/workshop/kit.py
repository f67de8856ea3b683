"""What every chapter's first code cell calls: `ch = setup("03")`.

It gives the chapter its own sandbox folder (notebooks/sandbox/chNN, ignored by git) and, on
the configured PostgreSQL, its own role and databases, in the chapter's starting state. Running
it again starts the chapter over. It also keeps the notebook's output stable (no absolute paths
of your machine) and shows errors as one readable line.
"""

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, NullPool, create_engine, inspect, text
from sqlalchemy.engine import URL

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.settings import ROOT


def sandboxes() -> Path:
    """Where chapters write their files: notebooks/sandbox (WORKSHOP_SANDBOX_DIR overrides)."""
    return Path(os.environ.get("WORKSHOP_SANDBOX_DIR") or ROOT / "notebooks" / "sandbox")


@dataclass
class Chapter:
    number: str
    backend: Backend
    sandbox: Path
    role: str = ""
    password: str = ""
    databases: dict[str, str] = field(default_factory=dict)  # short -> full name

    @property
    def database(self) -> str:
        return self.databases["blog"]

    def url(self, which: str = "blog", *, admin: bool = False) -> URL:
        """A URL for one of the chapter's databases, as its app role (default) or as admin."""
        name = self.databases.get(which, which)
        return self.backend.url(name) if admin else self.backend.url(name, self.role, self.password)

    def engine(self, which: str = "blog", *, admin: bool = False) -> Engine:
        return create_engine(self.url(which, admin=admin), poolclass=NullPool)

    def query(self, sql: str, which: str = "blog", **params: object) -> pd.DataFrame:
        """Run a query as admin on one of the chapter's databases; the rows as a table."""
        engine = self.engine(which, admin=True)
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql), params)
                return pd.DataFrame(result.all(), columns=list(result.keys()))
        finally:
            engine.dispose()

    def tables(self, which: str = "blog") -> pd.DataFrame:
        """The tables in the public schema with their columns: the schema at a glance."""
        return (
            self.query(TABLES_SQL, which).set_index("table") if self.databases else pd.DataFrame()
        )

    def columns(self, table: str, which: str = "blog") -> pd.DataFrame:
        return self.query(COLUMNS_SQL, which, table=table).set_index("column")


TABLES_SQL = """
SELECT c.relname AS table,
       string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r'
GROUP BY c.relname ORDER BY c.relname
"""

COLUMNS_SQL = """
SELECT column_name AS column, data_type AS type, is_nullable AS nullable,
       column_default AS server_default
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name = :table
ORDER BY ordinal_position
"""


def setup(number: str) -> Chapter:
    """Put chapter `number` in its starting state and make this notebook run inside it."""
    from workshop_app.workshop.chapters import STARTS
    from workshop_app.workshop.state import reset

    ch, _, _ = reset(number)
    # Run like a learner's terminal in the sandbox: the app reads its URL from ./.env there,
    # not from a DATABASE_URL that chose the workshop's server.
    os.environ.pop("DATABASE_URL", None)
    use_this_python_first()
    os.chdir(ch.sandbox)
    if str(ch.sandbox) not in sys.path:
        sys.path.insert(0, str(ch.sandbox))
    forget("blog")
    for module in ("main", "database", "config", "models"):  # they read the URL once, on import
        forget(f"workshop_app.{module}")
    stable_output(volatile_paths(ch))
    watch_for_outside_reset(ch)
    made = ", ".join(ch.databases.values()) if STARTS[number].create else ""
    print(f"Chapter {number} is ready. Sandbox: ./sandbox/ch{number}"
          + (f". Databases: {made}" if made else ""))  # fmt: skip
    return ch


_watched: dict[str, object] = {}  # the chapter set up in this kernel: number, sandbox, fd


def watch_for_outside_reset(ch: Chapter) -> None:
    """Before each cell, notice that the sandbox was replaced since setup (`workshop reset` from
    a terminal): the kernel's cwd is gone and the role has a new password."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    with contextlib.suppress(TypeError, OSError):
        os.close(_watched.get("fd"))  # type: ignore[arg-type]
    try:  # an open descriptor keeps the folder's inode, so a new folder never looks the same
        fd = os.open(ch.sandbox, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows cannot open a folder
        return
    _watched.update(number=ch.number, sandbox=ch.sandbox, fd=fd)
    if _warn_if_reset not in ip.events.callbacks["pre_run_cell"]:
        ip.events.register("pre_run_cell", _warn_if_reset)


def _warn_if_reset(info: object = None) -> None:
    if "setup(" in (getattr(info, "raw_cell", "") or ""):
        return  # the learner is doing what the message asks
    try:
        same = os.path.samestat(os.fstat(_watched["fd"]), os.stat(_watched["sandbox"]))
    except (KeyError, OSError):
        same = "fd" not in _watched
    if not same:
        print(f"Chapter {_watched['number']} was reset from outside this notebook (workshop "
              "reset). Run the chapter's first cell (setup) again.", file=sys.stderr)  # fmt: skip


def use_this_python_first() -> None:
    """`!alembic` and `!workshop` in a cell run this environment's commands, activated or not."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def volatile_paths(ch: Chapter) -> dict[str, str]:
    """Paths of this machine that outputs would show, and what to show instead."""
    from urllib.parse import quote

    paths = {str(ch.sandbox): ".", str(ROOT): "<course>", sys.prefix: "<python>"}
    if ch.backend.server is not None:
        socket_dir = str(ch.backend.server.socket_dir)
        paths |= {socket_dir: "<socket>", quote(socket_dir, safe=""): "<socket>",
                  str(ch.backend.server.home): "<server>"}  # fmt: skip
    return paths


def write_env(ch: Chapter, which: str = "blog") -> None:
    """The sandbox's .env, as a learner writes it: the app role's URL, password URL-encoded."""
    url = ch.url(which).render_as_string(hide_password=False)
    write_private(ch.sandbox / ".env", f"DATABASE_URL={url}\n")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600): a .env holds a role's password."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    path.chmod(0o600)  # also when it existed before


@contextlib.contextmanager
def app_modules_kept() -> Iterator[None]:
    """Run something that imports the blog app (the course's env.py does, with whatever
    DATABASE_URL it finds) and leave this process's app modules as they were: modules
    imported before come back, modules imported inside are forgotten."""

    def app_modules() -> dict[str, object]:
        return {
            name: module
            for name, module in sys.modules.items()
            if name.startswith("workshop_app.") and not name.startswith("workshop_app.workshop")
        }

    before = app_modules()
    try:
        yield
    finally:
        for name in app_modules():
            del sys.modules[name]
        sys.modules.update(before)


def forget(package: str) -> None:
    """Drop an imported package so the next import reads its files again."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


# ----- stable, readable output


class _Scrubbed:
    """Wraps the notebook's stdout/stderr: machine-specific paths become short stable names, and
    the CR LF line ends of `!` commands (they run in a terminal) become LF, as JupyterLab saves
    them."""

    def __init__(self, stream: object, replacements: dict[str, str]) -> None:
        self._stream = stream
        self._pattern = re.compile("|".join(map(re.escape, sorted(replacements, key=len,
                                                                  reverse=True))))  # fmt: skip
        self._replacements = replacements
        self._cr = ""  # a CR that ended the last chunk: its LF may start the next one

    def write(self, s: str) -> int:
        s, self._cr = self._cr + s, ""
        if s.endswith("\r"):
            s, self._cr = s[:-1], "\r"
        s = s.replace("\r\n", "\n")
        return self._stream.write(self._pattern.sub(lambda m: self._replacements[m[0]], s))

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def stable_output(replacements: dict[str, str]) -> None:
    """Scrub machine paths from what cells print, and give `!` commands a wide terminal: tools
    such as alembic wrap at the terminal's width, which made line breaks depend on how long
    the path to your checkout is."""
    wide_terminal_for_shell_commands()
    # Commands run from cells (alembic) walk sets of table names; a fixed hash seed keeps the
    # order of what they print the same from run to run.
    os.environ["PYTHONHASHSEED"] = "0"
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        stream = getattr(stream, "_stream", stream)  # set up again: replace, don't stack
        setattr(sys, name, _Scrubbed(stream, replacements))


def wide_terminal_for_shell_commands(columns: int = 400) -> None:
    try:
        import pexpect
    except ImportError:  # not on Windows; IPython runs commands without a terminal there
        return
    if getattr(pexpect.spawn, "_workshop_wide", False):
        return

    class WideSpawn(pexpect.spawn):
        _workshop_wide = True

        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("dimensions", (24, columns))
            super().__init__(*args, **kwargs)

    pexpect.spawn = WideSpawn


QUOTED_URL = re.compile(r"'[a-z0-9+]+://[^']*'")


@contextlib.contextmanager
def expect_error(*kinds: type[BaseException]) -> Iterator[None]:
    """Run a step that is meant to fail; show its error as one readable line and go on."""
    catch: tuple[type[BaseException], ...] = kinds or (Exception,)
    try:
        yield
    except catch as err:
        print(error_line(err))
    else:
        raise AssertionError("this step was expected to fail, and it did not")


def error_line(err: BaseException) -> str:
    """`ErrorType: message`, from the driver's own error when SQLAlchemy wraps one; without
    libpq's "connection to server at ... failed:" preamble and without URLs."""
    err = getattr(err, "orig", None) or err
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    message = re.sub(r"^(connection failed: )?connection to server .*? failed: ", "", message)
    message = QUOTED_URL.sub("'<DATABASE_URL>'", message)
    return f"{type(err).__name__}: {message}"


def libpq_url(url: URL) -> str:
    """The URL as psycopg and psql take it: the same, without SQLAlchemy's `+psycopg`."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def schema_of(engine: Engine) -> dict[str, object]:
    """What a reviewer compares: tables, columns, keys, uniques, indexes."""
    insp = inspect(engine)
    out: dict[str, object] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c["default"] and str(c["default"]))
                for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["name"],
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "fk": sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i["unique"]) for i in insp.get_indexes(table)
            ),
        }
    return out


def compare_with_reference(ch: Chapter, which: str = "blog", revision: str = "head") -> None:
    """Print whether one of the chapter's databases has exactly the schema that the course's
    reviewed history (alembic/ at the repository root) creates at `revision`."""
    from alembic import command
    from alembic.config import Config

    short = f"ch{ch.number}_reference"
    reference = create_engine(ch.backend.url(ch.backend.create_database(short)), poolclass=NullPool)
    try:
        with app_modules_kept(), reference.connect() as conn:
            cfg = Config(str(ROOT / "alembic.ini"))
            cfg.attributes.update(connection=conn, configure_logger=False)
            command.upgrade(cfg, revision)
            conn.commit()
        expected = schema_of(reference)
    finally:
        reference.dispose()
        ch.backend.drop_database(short)
    mine = schema_of(ch.engine(which, admin=True))
    for table in sorted(set(mine) | set(expected)):
        if mine.get(table) != expected.get(table):
            print(f"{table}:\n  yours:  {mine.get(table)}\n  course: {expected.get(table)}")
    same = mine == expected
    print(f"Same tables, columns, keys, constraints and indexes as the course's {revision}: {same}")


def show_diff(old: str | Path, new: str | Path) -> None:
    """A unified diff of two files, as `git diff` shows it (without timestamps)."""
    import difflib

    a, b = Path(old).read_text().splitlines(), Path(new).read_text().splitlines()
    for line in difflib.unified_diff(a, b, str(old), str(new), lineterm="", n=1):
        print(line)
