"""A chapter reset from a terminal while its notebook is open: the next cell says to run the
chapter's setup again, instead of failing on a deleted folder or an old password."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

MESSAGE = (
    "Chapter 01 was reset from outside this notebook (workshop reset). "
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
    """Run a cell; what it printed (stdout and stderr) and its error, if any."""
    shown: list[str] = []

    def collect(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            shown.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            shown.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

    client.execute_interactive(code, output_hook=collect, timeout=120)
    return "".join(shown)


def test_a_cell_after_an_outside_reset_says_to_run_setup_again(
    kernel: BlockingKernelClient, env: dict[str, str]
) -> None:
    first = run(kernel, 'from workshop_app.workshop.kit import setup\nch = setup("01")')
    assert first.startswith("Chapter 01 is ready."), first
    assert run(kernel, "print('working')") == "working\n"

    reset = subprocess.run(
        [sys.executable, "-m", "workshop_app", "reset", "01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reset.returncode == 0, reset.stderr

    after = run(kernel, "import os\nprint(sorted(os.listdir('.')))")
    assert MESSAGE in after, after

    again = run(kernel, 'ch = setup("01")')
    assert MESSAGE not in again and again.startswith("Chapter 01 is ready."), again
    assert run(kernel, "print('working')") == "working\n"
