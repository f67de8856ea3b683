"""A chapter reset from a terminal while its notebook is open: the next cell says to run the
chapter's setup again, instead of failing on a deleted folder or an old password."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import exercise_support
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel
from test_cli import workshop

from workshop_app.workshop.backend import choose_backend
from workshop_app.workshop.settings import WorkshopSettings

MESSAGE = (
    "Chapter {} was reset from outside this notebook (workshop reset). "
    "Run the chapter's first cell (setup) again."
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "WORKSHOP_SANDBOX_DIR": str(tmp_path),
        "WORKSHOP_LEARNER": f"t_outside_{uuid.uuid4().hex[:6]}",
    }


@pytest.fixture
def kernel(env: dict[str, str], tmp_path: Path) -> Iterator[BlockingKernelClient]:
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str) -> str:
    """Run a cell; what it showed: printed text, and an error's traceback as the learner sees it
    (ending in "[status: error]")."""
    shown: list[str] = []

    def collect(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            shown.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            shown.append("\n".join(msg["content"]["traceback"]) + "\n")

    reply = client.execute_interactive(code, output_hook=collect, timeout=120)
    if reply["content"]["status"] == "error":
        shown.append("[status: error]")
    return "".join(shown)


def workshop_reset(number: str, env: dict[str, str]) -> None:
    reset = workshop("reset", number, env=env)
    assert reset.returncode == 0, reset.stderr


def test_a_cell_after_an_outside_reset_says_to_run_setup_again(
    kernel: BlockingKernelClient, env: dict[str, str]
) -> None:
    first = run(kernel, 'from workshop_app.workshop.kit import setup\nch = setup("01")')
    assert first.startswith("Chapter 01 is ready."), first
    assert run(kernel, "print('working')") == "working\n"

    workshop_reset("01", env)
    # The cell does not run (it would list a deleted folder, and `!` says "getcwd: cannot
    # access parent directories"): one line instead, and an error, so Run All stops.
    after = run(kernel, "import os\nprint(sorted(os.listdir('.')))\n!ls")
    assert after == MESSAGE.format("01") + "\n[status: error]", after

    again = run(kernel, 'ch = setup("01")')
    assert MESSAGE.format("01") not in again and again.startswith("Chapter 01 is ready."), again
    assert run(kernel, "print('working')") == "working\n"


@pytest.mark.db
def test_alembic_after_an_outside_reset_never_meets_the_old_folder_or_password(
    kernel: BlockingKernelClient, env: dict[str, str]
) -> None:
    """Chapter 04's role gets a new password on reset, its sandbox a new folder: `!alembic`
    in the old folder would fail on both."""
    try:
        first = run(kernel, 'from workshop_app.workshop.kit import setup\nch = setup("04")')
        assert first.startswith("Chapter 04 is ready."), first
        query = "!alembic current 2>&1 | tail -n 1"
        assert run(kernel, query) == "0001 (head)\n"

        workshop_reset("04", env)
        assert run(kernel, query) == MESSAGE.format("04") + "\n[status: error]"

        assert run(kernel, 'ch = setup("04")').startswith("Chapter 04 is ready.")
        assert run(kernel, query) == "0001 (head)\n"
    finally:  # chapter 04 made a role and databases for this test's learner
        learner = WorkshopSettings(workshop_learner=env["WORKSHOP_LEARNER"])
        exercise_support.drop_learner(choose_backend(learner))
