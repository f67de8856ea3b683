"""Putting a chapter back to its start (STARTS in chapters.py), quickly.

The sandbox's files are written every time (they are cheap); the databases are cloned from
templates (templates.py) when they exist and built and saved as templates when they do not. A
reset drops only databases the course made for this learner (prefix and marker, backend.py).
"""

import shutil
from pathlib import Path

from workshop_app.workshop.backend import Backend, current
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.chapters import STARTS, course_names
from workshop_app.workshop.sandbox import sandboxes
from workshop_app.workshop.servers import stop_leftovers
from workshop_app.workshop.templates import clone_templates, drop_databases, save_templates


def reset(
    number: str, backend: Backend | None = None, root: Path | None = None
) -> tuple[Chapter, bool, list[str]]:
    """Chapter `number` back to its start: sandbox folder and databases, nothing else.
    Returns the chapter, whether its databases came from templates, and what was dropped.
    Tests name their own backend (learner) and sandbox root; notebooks and `workshop reset`
    use the defaults."""
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
