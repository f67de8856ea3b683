"""`!` commands in a chapter run in IPython's pseudo-terminal as the kit sets it up: wide, and
let go of as soon as they end, without losing output or exit statuses."""

import pytest
from IPython.utils._process_posix import ProcessHandler

from workshop_app.workshop.output import wide_terminal_for_shell_commands


@pytest.fixture(scope="module")
def shell() -> ProcessHandler:
    wide_terminal_for_shell_commands()  # what setup() does in a chapter's kernel
    return ProcessHandler()


def test_commands_see_a_wide_terminal(shell: ProcessHandler, capfd: pytest.CaptureFixture) -> None:
    assert shell.system("stty size") == 0
    assert capfd.readouterr().out.split() == ["24", "400"]


def test_every_exit_status_is_kept(shell: ProcessHandler) -> None:
    assert [shell.system(f"exit {n}") for n in range(6)] == [0, 1, 2, 3, 4, 5]


def test_a_command_that_closes_its_output_before_it_exits_is_waited_for(
    shell: ProcessHandler,
) -> None:
    # The terminal reaches its end first; the command is neither killed nor its status lost.
    assert shell.system("exec >/dev/null 2>&1; sleep 0.3; exit 7") == 7


def test_long_output_arrives_whole(shell: ProcessHandler, capfd: pytest.CaptureFixture) -> None:
    assert shell.system("seq 1 20000") == 0
    lines = capfd.readouterr().out.split()
    assert len(lines) == 20000
    assert lines[-1] == "20000"
