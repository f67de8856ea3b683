"""A chapter's starting state, and putting a chapter back to it quickly.

A chapter starts from files in its sandbox (written every time: they are cheap) and from
databases with content (a migrated schema, the story's rows). The databases are built once and
kept as PostgreSQL template databases; a reset clones them with `CREATE DATABASE ... TEMPLATE`.
Templates are named after a digest of the code and migrations they were built from, so any
change to those rebuilds them. Everything carries the learner's prefix and marker (see
backend.py); a reset drops only such databases, and `workshop db cleanup` removes templates too.
"""

import hashlib
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from workshop_app.workshop.backend import Backend, current
from workshop_app.workshop.kit import Chapter, sandboxes
from workshop_app.workshop.servers import stop_leftovers
from workshop_app.workshop.settings import ROOT


@dataclass(frozen=True)
class Start:
    """Where the story stands when a chapter begins."""

    postgres: bool = True
    databases: tuple[str, ...] = ("blog",)
    create: bool = True  # False: the lesson creates its role and database itself
    special_password: bool = False  # one that must be URL-encoded (chapter 03's trap)
    by_hand: tuple[str, ...] = ()  # databases and roles the lesson creates itself (unmarked)
    files: Callable[[Chapter], None] = lambda ch: None  # the sandbox's files
    data: Callable[[Chapter], None] = lambda ch: None  # the databases' content

    def password(self) -> str:
        return secrets.token_urlsafe(12) + ("@%:/" if self.special_password else "")


@cache
def digest() -> str:
    """What templates are built from: the app, the workshop's code, the migrations."""
    sources = sorted([*(ROOT / "workshop_app").rglob("*.py"), *(ROOT / "alembic").rglob("*.py"),
                      ROOT / "alembic.ini"])  # fmt: skip
    h = hashlib.sha256()
    for path in sources:
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:8]


def course_names(backend: Backend, number: str | None = None) -> list[str]:
    """Full names of the databases and roles the chapters make (all, or chapter `number`'s),
    including those a notebook creates by hand and so carry no marker (chapter 02)."""
    from workshop_app.workshop.chapters import STARTS

    names = []
    for n, start in STARTS.items():
        if start.postgres and number in (None, n):
            names += [backend.name(f"ch{n}_{short}") for short in start.databases]
            names += [backend.name(f"ch{n}_{name}") for name in ("blog_user", *start.by_hand)]
    return names


def reset(
    number: str, backend: Backend | None = None, root: Path | None = None
) -> tuple[Chapter, bool, list[str]]:
    """Chapter `number` back to its start: sandbox folder and databases, nothing else.
    Returns the chapter, whether its databases came from templates, and what was dropped.
    Tests name their own backend (learner) and sandbox root; notebooks and `workshop reset`
    use the defaults."""
    from workshop_app.workshop.chapters import STARTS

    start = STARTS[number]
    backend = backend or current()
    sandbox = (root or sandboxes()) / f"ch{number}"
    stop_leftovers(sandbox)  # app servers an earlier run started there (servers.py)
    shutil.rmtree(sandbox, ignore_errors=True)
    sandbox.mkdir(parents=True, mode=0o700)
    sandbox.chmod(0o700)  # its .env holds passwords; mkdir's mode is reduced by the umask only
    ch = Chapter(number, backend, sandbox)
    cloned, dropped = False, []
    if start.postgres:
        backend.ensure_running()
        dropped = drop_databases(backend, f"ch{number}_", course_names(backend, number))
        ch.role, ch.password = backend.name(f"ch{number}_blog_user"), start.password()
        ch.databases = {short: backend.name(f"ch{number}_{short}") for short in start.databases}
        if start.create:
            backend.set_role(f"ch{number}_blog_user", ch.password, timezone="UTC")
        else:
            backend.drop_role(f"ch{number}_blog_user")
    start.files(ch)
    if start.postgres and start.create:
        cloned = clone_templates(ch)
        if not cloned:
            for short in start.databases:
                backend.create_database(f"ch{number}_{short}", owner=ch.role)
            start.data(ch)
            save_templates(ch)
    return ch, cloned, dropped


def drop_databases(backend: Backend, prefix: str, known: list[str] | None = None) -> list[str]:
    """Drop the databases the course made for the learner (see Backend.owned) whose names,
    after the learner's prefix, start with `prefix`. Returns their names."""
    dropped = [n for n in backend.owned(known or [])[0] if n.startswith(backend.name(prefix))]
    for name in dropped:
        backend.drop_database(name.removeprefix(backend.prefix))
    return dropped


def template_prefix(ch: Chapter) -> str:
    return f"tpl_ch{ch.number}_"


def clone_templates(ch: Chapter) -> bool:
    backend, suffix = ch.backend, f"_{digest()}"
    prefix = backend.name(template_prefix(ch))
    templates = [n for n in backend.owned()[0] if n.startswith(prefix) and n.endswith(suffix)]
    shorts = {n.removeprefix(prefix).removesuffix(suffix): n for n in templates}
    if not templates or not set(ch.databases) <= set(shorts):
        return False

    def clone(short: str) -> str:
        return backend.create_database(f"ch{ch.number}_{short}", owner=ch.role,
                                       template=shorts[short])  # fmt: skip

    # Each clone copies files and waits on I/O: clone the chapter's databases side by side.
    with ThreadPoolExecutor(max_workers=len(shorts)) as pool:
        ch.databases.update(zip(shorts, pool.map(clone, shorts), strict=True))
    return True


def save_templates(ch: Chapter) -> None:
    drop_databases(ch.backend, template_prefix(ch))  # stale ones, built from older code
    for short, name in ch.databases.items():
        ch.backend.create_database(f"{template_prefix(ch)}{short}_{digest()}", template=name)
