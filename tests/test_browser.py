"""Chapter 00 in JupyterLab, in a real browser: Run All through the UI, everything OK.

Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them; no browser is ever
downloaded). The screenshot is kept in tests/artifacts/.
"""

import json
import shutil
from pathlib import Path

import pytest

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.settings import ROOT

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SCREENSHOT = ROOT / "tests" / "artifacts" / "jupyterlab-chapter-00.png"
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path):  # noqa: ANN201 - selenium's WebDriver
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
        options.add_argument(flag)  # fmt: skip
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_chapter_00_runs_all_cells_in_jupyterlab_and_reports_everything_ok(
    backend: Backend,
    jupyterlab: tuple[str, str],
    browser,  # noqa: ANN001
    request: pytest.FixtureRequest,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Chapter 00 without its committed outputs, so that whatever shows was computed now.
    nb = json.loads((ROOT / "notebooks" / "00-start-here.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    fresh = ROOT / "notebooks" / "sandbox" / "browser-00.ipynb"
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_text(json.dumps(nb))
    request.addfinalizer(lambda: fresh.unlink(missing_ok=True))

    base, token = jupyterlab
    # `make lab` opens chapter 00, so JupyterLab's root is the notebooks folder.
    browser.get(f"{base}/lab/tree/sandbox/browser-00.ipynb?token={token}")
    wait = WebDriverWait(browser, 90)
    wait.until(lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget")
               .text or d.find_elements(By.XPATH, '//*[contains(text(), "Idle")]'))  # fmt: skip

    def click_menu(*labels: str) -> None:
        for label in labels:
            item = wait.until(lambda d, label=label: next(iter(d.find_elements(
                By.XPATH, f'//*[contains(@class, "lm-") and normalize-space(text())="{label}"]'
            )), None))  # fmt: skip
            item.click()

    click_menu("Run", "Run All Cells")
    outputs = ".jp-Notebook .jp-OutputArea-output"
    wait.until(lambda d: "All checks OK." in " ".join(
        e.text for e in d.find_elements(By.CSS_SELECTOR, outputs)) or "FAILED:" in " ".join(
        e.text for e in d.find_elements(By.CSS_SELECTOR, outputs)))  # fmt: skip
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
