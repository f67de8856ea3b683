"""Template databases: a chapter's databases with content, built once and cloned on reset.

A reset clones them with `CREATE DATABASE ... TEMPLATE`. Templates are named after a digest of
the code and migrations they were built from, so any change to those rebuilds them. They carry
the learner's prefix and marker (see backend.py); `workshop db cleanup` removes them too.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.settings import ROOT


@cache
def digest() -> str:
    """What templates are built from: the app, the workshop's code, the migrations."""
    sources = sorted(
        [
            *(ROOT / "workshop_app").rglob("*.py"),
            *(ROOT / "alembic").rglob("*.py"),
            ROOT / "alembic.ini",
        ]
    )
    h = hashlib.sha256()
    for path in sources:
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:8]


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
        return backend.create_database(
            f"ch{ch.number}_{short}", owner=ch.role, template=shorts[short]
        )

    # Each clone copies files and waits on I/O: clone the chapter's databases side by side.
    with ThreadPoolExecutor(max_workers=len(shorts)) as pool:
        ch.databases.update(zip(shorts, pool.map(clone, shorts), strict=True))
    return True


def save_templates(ch: Chapter) -> None:
    drop_databases(ch.backend, template_prefix(ch))  # stale ones, built from older code
    for short, name in ch.databases.items():
        ch.backend.create_database(f"{template_prefix(ch)}{short}_{digest()}", template=name)
