"""The course in JupyterLab, in a real browser: chapter 00's Run All through the UI, everything
OK; every chapter saved by JupyterLab still passes `workshop check`.

Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them; no browser is ever
downloaded). The screenshot is kept in tests/artifacts/. JupyterLab serves a folder of the
test's own (the `jupyterlab` fixture): nothing here touches notebooks/.
"""

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers import Lab, api
from nbval.plugin import coalesce_streams, get_sanitize_patterns

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.settings import ROOT, chapter_notebooks

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PROMPTS = ".jp-CodeCell .jp-InputPrompt"  # [n]: once run, [*]: while queued
SCREENSHOT = ROOT / "tests" / "artifacts" / "jupyterlab-chapter-00.png"
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1100",
        f"--user-data-dir={tmp_path}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_notebook(browser, lab: Lab, name: str):
    """Open a notebook of the lab's root folder, alone (?reset: no tabs restored); wait for its
    kernel. Returns a WebDriverWait."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{lab.base}/lab/tree/{name}?reset&token={lab.token}")
    wait = WebDriverWait(browser, 90)
    wait.until(
        lambda d: (
            "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget").text
            or d.find_elements(By.XPATH, '//*[contains(text(), "Idle")]')
        )
    )
    return wait


def click_menu(wait, *labels: str) -> None:
    from selenium.webdriver.common.by import By

    for label in labels:
        item = wait.until(
            lambda d, label=label: next(
                iter(
                    d.find_elements(
                        By.XPATH,
                        f'//*[contains(@class, "lm-") and normalize-space(text())="{label}"]',
                    )
                ),
                None,
            )
        )
        item.click()


def test_chapter_00_runs_all_cells_in_jupyterlab_and_reports_everything_ok(
    backend: Backend,
    jupyterlab: Lab,
    browser,
) -> None:
    from selenium.webdriver.common.by import By

    # Chapter 00 without its committed outputs, so that whatever shows was computed now.
    nb = json.loads((ROOT / "notebooks" / "00-start-here.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (jupyterlab.root / "browser-00.ipynb").write_text(json.dumps(nb))

    wait = open_notebook(browser, jupyterlab, "browser-00.ipynb")
    click_menu(wait, "Run", "Run All Cells")
    outputs = ".jp-Notebook .jp-OutputArea-output"
    wait.until(
        lambda d: (
            "All checks OK." in " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, outputs))
            or "FAILED:" in " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, outputs))
        )
    )
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jp-RenderedSVG")) == 1)

    shown = browser.find_elements(By.CSS_SELECTOR, outputs)
    texts = [e.text for e in shown]
    for no in browser.find_elements(By.XPATH, '//button[normalize-space(.)="No"]'):
        no.click()  # JupyterLab's "notify about Jupyter news?" prompt
    browser.execute_script("arguments[0].scrollIntoView();", shown[0])
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    table = texts[0]
    assert "Jupyter kernel" in table and "server reachable" in table
    assert "FAIL" not in table, table
    assert "All checks OK." in texts
    errors = browser.find_elements(
        By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    )
    assert not errors, [e.text for e in errors]
    assert not browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output.jp-mod-error")


def comparable(path: Path) -> list[list[object]]:
    """A notebook's outputs as nbval compares them: streams merged, sanitized, without metadata
    and execution counts; none for the cells nbval does not compare (NBVAL_IGNORE_OUTPUT)."""
    patterns = get_sanitize_patterns((ROOT / "notebooks" / "nbval_sanitize.cfg").read_text())

    def clean(value: object) -> object:
        if isinstance(value, str):
            for regex, replace in patterns:
                value = re.sub(regex, replace, value)
        return value

    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return [
        [
            {
                k: {m: clean(v) for m, v in out.get("data", {}).items()}
                if k == "data"
                else clean(v)
                for k, v in out.items()
                if k not in ("metadata", "execution_count")
            }
            for out in coalesce_streams(cell.outputs)
        ]
        for cell in cells
        if "NBVAL_IGNORE_OUTPUT" not in cell.source
    ]


def save(browser, lab: Lab, wait, name: str) -> None:
    """JupyterLab's own File > Save Notebook; then its kernel is shut down."""
    saved = lab.root / name
    before = saved.stat().st_mtime_ns
    click_menu(wait, "File", "Save Notebook")
    deadline = time.monotonic() + 30
    while saved.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, f"JupyterLab did not save {name}"
        time.sleep(0.2)
    time.sleep(0.5)
    for session in api(lab.base, "/api/sessions", lab.token):
        api(lab.base, f"/api/sessions/{session['id']}", lab.token, "DELETE")


def test_chapters_saved_by_jupyterlab_still_pass_the_check(
    backend: Backend,
    jupyterlab: Lab,
    browser,
) -> None:
    """JupyterLab keeps the \\r\\n of `!` commands' output in a notebook it opens, but writes
    what a cell prints as it runs with \\n. A chapter a learner ran and saved must still pass:
    kit writes \\n, the sanitize file maps the committed \\r\\n."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chapters = chapter_notebooks()
    for chapter in chapters:  # copies in the lab's own folder: notebooks/ is never changed
        shutil.copy(chapter, jupyterlab.root / chapter.name)
    many_shell_commands = [c for c in chapters if c.name[:2] in ("03", "04")]
    for chapter in chapters:
        wait = open_notebook(browser, jupyterlab, chapter.name)
        if chapter in many_shell_commands:  # run by JupyterLab's kernel, as a learner does
            click_menu(wait, "Run", "Run All Cells")
            WebDriverWait(browser, 400).until(
                lambda d: all(
                    re.fullmatch(r"\[\d+\]:", p.text.strip())
                    for p in d.find_elements(By.CSS_SELECTOR, PROMPTS)
                )
            )
        save(browser, jupyterlab, wait, chapter.name)
        saved = jupyterlab.root / chapter.name
        assert comparable(saved) == comparable(chapter), chapter.name

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "workshop_app",
            "check",
            "-j",
            "2",
            *[str(jupyterlab.root / c.name) for c in many_shell_commands],
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=jupyterlab.env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("2 passed, 0 failed")
