"""Where checks try things without touching the chapter: a scratch database of the chapter's
own role, and the real `alembic` command run in a subprocess, as a learner's terminal runs it."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.chapters import migrate

BIN = Path(sys.executable).parent  # this environment's commands: alembic, squawk


@contextmanager
def scratch_database(ch: Chapter, *, revision: str | None = "head") -> Iterator[str]:
    """A database owned by the chapter's role, dropped afterwards. With `revision`, it is built
    from the course's reviewed history (up to that revision, with the story's users and posts),
    never copied from the chapter's own database: nothing a check runs there reaches the
    chapter. Yields the database's full name."""
    short = f"ch{ch.number}_scratch_{uuid.uuid4().hex[:6]}"
    name = ch.backend.create_database(short, owner=ch.role)
    try:
        if revision is not None:
            migrate(ch, revision, name)
        yield name
    finally:
        ch.backend.drop_database(short)


def run_alembic(
    cwd: Path,
    *args: str,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`alembic ARGS` in `cwd` with this environment's alembic, as a learner's terminal there
    runs it: the app reads its URL from ./.env unless `database_url` is given (the workshop's
    process's DATABASE_URL, if any, never leaks in); `env` adds variables (PGTZ)."""
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base |= {"PYTHONHASHSEED": "0", "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", "")}
    if database_url is not None:
        base["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(BIN / "alembic"), *args],
        cwd=cwd,
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {result.returncode}"
