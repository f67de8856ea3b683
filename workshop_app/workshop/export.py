"""`workshop export`: the course as static HTML that opens from disk, for a projector or a phone.

Every chapter and the index, with their committed outputs (diagrams are inline SVG), links
between notebooks pointing at the HTML pages. No server and no network needed to read it.
"""

import re
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from workshop_app.workshop.errors import WorkshopError
from workshop_app.workshop.settings import ROOT, chapter_notebooks, chapter_title

NOTEBOOK_LINK = re.compile(r'href="([^"#:]+)\.ipynb(#[^"]*)?"')


def pages() -> list[Path]:
    return [ROOT / "notebooks" / "index.ipynb", *chapter_notebooks()]


def export(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    written = []
    for notebook in pages():
        started = time.perf_counter()
        nb = nbformat.read(notebook, as_version=4)
        html, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": chapter_title(nb, plain=True)}}
        )
        html = NOTEBOOK_LINK.sub(lambda m: f'href="{m[1]}.html{m[2] or ""}"', html)
        page = out / f"{notebook.stem}.html"
        try:
            page.write_text(html)
        except OSError as err:  # e.g. a folder or a read-only file where the page goes
            raise WorkshopError(
                f"Cannot export the course to {out}: cannot write {page} "
                f"({(err.strerror or str(err)).lower()}).",
                f"remove {page} or make it writable, or give --out another folder.",
            ) from None
        written.append(page)
        print(f"  {page.name:45} {time.perf_counter() - started:4.1f} s", flush=True)
    return written
