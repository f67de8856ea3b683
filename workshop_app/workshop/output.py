"""Stable, readable output: no absolute path of your machine, no line ends or line breaks that
depend on the terminal."""

import os
import re
import sys
from collections.abc import Callable
from urllib.parse import quote

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.settings import ROOT


def machine_paths(backend: Backend) -> dict[str, str]:
    """Paths of this machine that outputs would show, and what to show instead."""
    paths = {str(ROOT): "<course>", sys.prefix: "<python>"}
    if backend.server is not None:
        socket_dir = str(backend.server.socket_dir)
        paths |= {
            socket_dir: "<socket>",
            quote(socket_dir, safe=""): "<socket>",
            str(backend.server.home): "<server>",
        }
    return paths


def volatile_paths(ch: Chapter) -> dict[str, str]:
    """A chapter's: the machine's paths, and its sandbox (the `!` commands' folder) as `.`."""
    return {str(ch.sandbox): ".", **machine_paths(ch.backend)}


def replacer(replacements: dict[str, str]) -> Callable[[str], str]:
    """A function that replaces each key found in a text by its value, the longest key first
    (a path, before the folder it is in)."""
    pattern = re.compile("|".join(map(re.escape, sorted(replacements, key=len, reverse=True))))
    return lambda text: pattern.sub(lambda m: replacements[m[0]], text)


class _Scrubbed:
    """Wraps the notebook's stdout/stderr: machine-specific paths become short stable names, and
    the CR LF line ends of `!` commands (they run in a terminal) become LF, as JupyterLab saves
    them."""

    def __init__(self, stream: object, replacements: dict[str, str]) -> None:
        self._stream = stream
        self._replace = replacer(replacements)
        self._cr = ""  # a CR that ended the last chunk: its LF may start the next one

    def write(self, s: str) -> int:
        s, self._cr = self._cr + s, ""
        if s.endswith("\r"):
            s, self._cr = s[:-1], "\r"
        s = s.replace("\r\n", "\n")
        return self._stream.write(self._replace(s))

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
    """`!` commands run in a pseudo-terminal (pexpect): make it `columns` wide, and let go of
    a finished command at once. ptyprocess sleeps 0.1 s when it closes a terminal, to give a
    child time to exit; IPython has already waited for the child by then (it reads to the end
    of the output, then reaps it), so the sleep only made every `!` command 0.1 s slower."""
    try:
        import pexpect
        import ptyprocess
    except ImportError:  # not on Windows; IPython runs commands without a terminal there
        return
    if getattr(pexpect.spawn, "_workshop_wide", False):
        return

    class ReapedFirst(ptyprocess.PtyProcess):
        def close(self, force: bool = True) -> None:
            if self.terminated:  # exited and reaped: nothing to wait for
                self.delayafterclose = 0
            super().close(force)

    class WideSpawn(pexpect.spawn):
        _workshop_wide = True

        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("dimensions", (24, columns))
            super().__init__(*args, **kwargs)

        def _spawnpty(self, args: list[str], **kwargs: object) -> ptyprocess.PtyProcess:
            return ReapedFirst.spawn(args, **kwargs)

    pexpect.spawn = WideSpawn
