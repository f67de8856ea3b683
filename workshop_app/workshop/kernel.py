"""Changes a chapter makes to the process it runs in (the notebook's kernel): which commands
`!` finds, which app modules are imported, and a watch for a reset from outside."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from workshop_app.workshop.chapter import Chapter


def use_this_python_first() -> None:
    """`!alembic` and `!workshop` in a cell run this environment's commands, activated or not."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def no_cached_bytecode() -> None:
    """Chapters rewrite the app's files, then run `!alembic`, several times a second. Python
    reuses a module's cached bytecode (`__pycache__`) while the file's mtime, in whole seconds,
    and its size are unchanged: an edit that keeps the size, within the same second, would run
    the old code. This kernel and the commands it starts write no cached bytecode, so none of
    the sandbox's can be stale (the installed packages keep theirs)."""
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def forget(package: str) -> None:
    """Drop an imported package so the next import reads its files again."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


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


_watched: dict[str, object] = {}  # the chapter set up in this kernel: number, sandbox, fd


class ResetFromOutside(Exception):
    """The chapter's sandbox was replaced since setup: a cell would fail on a deleted folder or
    an old password."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]  # IPython shows this instead of a traceback


def watch_for_outside_reset(ch: Chapter) -> None:
    """Before each cell, notice that the sandbox was replaced since setup (`workshop reset` from
    a terminal): the kernel's cwd is gone and the role has a new password. The cell then does
    not run; one line says what to do, and Run All stops there."""
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
    if _stop_if_reset not in ip.input_transformers_post:
        # IPython transforms a cell before it runs it; an error there means it never runs.
        ip.input_transformers_post.append(_stop_if_reset)


def _stop_if_reset(lines: list[str]) -> list[str]:
    if any("setup(" in line for line in lines):
        return lines  # the learner is doing what the message asks
    try:
        same = os.path.samestat(os.fstat(_watched["fd"]), os.stat(_watched["sandbox"]))
    except (KeyError, OSError):
        same = "fd" not in _watched
    if not same:
        raise ResetFromOutside(
            f"Chapter {_watched['number']} was reset from outside this notebook (workshop "
            "reset). Run the chapter's first cell (setup) again."
        )
    return lines
