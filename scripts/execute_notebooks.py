"""Re-execute chapters in place, so that their committed outputs are fresh.

    .venv/bin/python scripts/execute_notebooks.py [notebooks/03-*.ipynb ...]

Without arguments: every numbered chapter. Run after changing a chapter or what it uses;
`make test` (nbval) then compares new runs with these outputs. Prints one line per notebook.
"""

import html
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from workshop_app.workshop.backend import current
from workshop_app.workshop.output import machine_paths, replacer
from workshop_app.workshop.settings import chapter_notebooks

TIMEOUT_S = 120


def run(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Execute a chapter in a fresh kernel, from its own folder; the result and its seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # when each cell last ran: a diff of every line, for nothing
        cell.metadata.pop("execution", None)
    started = time.perf_counter()
    NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    # A command's output arrives in as many pieces as reads happened to return; one piece per
    # stream keeps the committed file's diffs about the output, not its timing.
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    return nb, time.perf_counter() - started


def without_machine_paths(nb: nbformat.NotebookNode) -> None:
    """This machine's folders, in outputs the chapters do not scrub themselves (00's doctor
    table), as a chapter's own output shows them: `<course>`, `<server>`, ..."""
    paths = machine_paths(current())
    scrub = replacer(paths)
    scrub_html = replacer({path: html.escape(name) for path, name in paths.items()})
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out.text = scrub(out.text)
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    out.data[mime] = (scrub_html if mime == "text/html" else scrub)(value)


def execute(path: Path) -> float:
    """Execute in place: the new outputs become the committed ones."""
    nb, seconds = run(path)
    without_machine_paths(nb)
    nbformat.write(nb, path)
    return seconds


def execute_copy(path: Path) -> float:
    """Execute without writing anything back (for timing)."""
    return run(path)[1]


def main(args: list[str]) -> None:
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    for name in ("WORKSHOP_DATABASE_URL", "DATABASE_URL"):  # committed outputs: default server
        os.environ.pop(name, None)
    paths = [Path(a).resolve() for a in args] or chapter_notebooks()
    for path in paths:
        print(f"{path.name:45} {execute(path):5.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
