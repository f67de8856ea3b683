"""Generate the course's navigation from the chapters themselves.

    .venv/bin/python scripts/build_nav.py          # rewrite what is stale
    .venv/bin/python scripts/build_nav.py --check  # exit 1 if anything is stale (a test runs this)

For every numbered chapter: a navigation line (previous / index / next) after its title and at
its end; the chapter map in 00; and notebooks/index.ipynb. Titles and "You will learn" lists
are read from each chapter's first cell, so renaming or adding a chapter updates everything.
"""

import re
import sys
from pathlib import Path

import nbformat

from workshop_app.workshop.settings import ROOT, chapter_notebooks, chapter_title

NOTEBOOKS = ROOT / "notebooks"
INDEX = NOTEBOOKS / "index.ipynb"
TAG_TOP, TAG_BOTTOM, TAG_MAP = "nav-top", "nav-bottom", "chapter-map"


def learn(nb: nbformat.NotebookNode) -> list[str]:
    """The bullets under "**You will learn**", each joined back onto one line."""
    parts = nb.cells[0].source.split("**You will learn**", 1)
    if len(parts) == 1:
        return []
    items = re.split(r"^- ", parts[1].split("\n\n", 1)[0].strip(), flags=re.M)
    return [" ".join(item.split()) for item in items if item.strip()]


def nav_line(paths: list[Path], i: int, titles: list[str]) -> str:
    parts = []
    if i > 0:
        parts.append(f"[← {titles[i - 1]}]({paths[i - 1].name})")
    parts.append("[Course index](index.ipynb)")
    if i + 1 < len(paths):
        parts.append(f"[{titles[i + 1]} →]({paths[i + 1].name})")
    return " | ".join(parts)


def chapter_map(paths: list[Path], notebooks: list[nbformat.NotebookNode]) -> str:
    lines = ["## The chapters", ""]
    for path, nb in zip(paths, notebooks, strict=True):
        lines.append(f"- **[{chapter_title(nb)}]({path.name})**")
        lines += [f"  - {item}" for item in learn(nb)]
    return "\n".join(lines)


def set_tagged(nb: nbformat.NotebookNode, tag: str, source: str, position: int) -> None:
    """Put a generated markdown cell with `tag` at `position` (replacing the old one);
    a negative position counts from the end: -1 appends, -3 goes before the last two cells."""
    nb.cells = [c for c in nb.cells if tag not in c.get("metadata", {}).get("tags", [])]
    cell = nbformat.v4.new_markdown_cell(source, metadata={"tags": [tag]}, id=tag)
    nb.cells.insert(position if position >= 0 else len(nb.cells) + position + 1, cell)


def index_notebook(
    paths: list[Path], notebooks: list[nbformat.NotebookNode]
) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    intro = (
        "# From `create_all` to PostgreSQL and Alembic\n\n"
        "A hands-on course: a FastAPI blog moves from SQLite and `Base.metadata.create_all` to "
        "PostgreSQL, with its schema managed by Alembic migrations. Start with "
        f"[{chapter_title(notebooks[0])}]({paths[0].name}); every chapter also runs on its own."
    )
    chapter_list = chapter_map(paths, notebooks)
    nb.cells = [
        nbformat.v4.new_markdown_cell(intro, id="intro"),
        nbformat.v4.new_markdown_cell(chapter_list, id="chapters"),
    ]
    return nb


def build() -> dict[Path, nbformat.NotebookNode]:
    """Every generated or updated notebook."""
    paths = chapter_notebooks()
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    titles = [chapter_title(nb) for nb in notebooks]
    out = {}
    for i, (path, nb) in enumerate(zip(paths, notebooks, strict=True)):
        line = nav_line(paths, i, titles)
        set_tagged(nb, TAG_TOP, line, 1)
        set_tagged(nb, TAG_BOTTOM, line, -1)
        if i == 0:
            set_tagged(nb, TAG_MAP, chapter_map(paths, notebooks), -3)  # before key points
        out[path] = nb
    out[INDEX] = index_notebook(paths, notebooks)
    return out


def main(check: bool) -> int:
    stale = []
    for path, nb in build().items():
        old = nbformat.writes(nbformat.read(path, as_version=4)) if path.exists() else ""
        if old != nbformat.writes(nb):
            stale.append(path.name)
            if not check:
                nbformat.write(nb, path)
    if check and stale:
        print("Stale navigation in: " + ", ".join(stale))
        print("Run: .venv/bin/python scripts/build_nav.py")
        return 1
    print(
        "Navigation "
        + ("is up to date." if not stale or check else "rewritten: " + ", ".join(stale))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
