"""`workshop check` says which notebooks pass, and shows a failure in full."""

import dataclasses
import os
import subprocess
import sys
import uuid
from pathlib import Path

import exercise_support
import nbformat
import pytest

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.course_check import check_backend, own_place
from workshop_app.workshop.settings import FIELDS, ROOT, WorkshopSettings, learner_slug


def notebook(path: Path, source: str, committed_output: str) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=committed_output)]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def learner_env(tmp_path: Path) -> dict[str, str]:
    """A learner of the test's own, with chapters open in a sandbox folder of their own."""
    return {
        **os.environ,
        "WORKSHOP_LEARNER": f"t_learner_{uuid.uuid4().hex[:6]}",
        "WORKSHOP_SANDBOX_DIR": str(tmp_path / "learner"),
    }


def workshop_check(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop_app", "check", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


def test_check_passes_a_good_notebook_and_reports_a_changed_one(tmp_path: Path) -> None:
    good = notebook(tmp_path / "good.ipynb", "print(6 * 7)", "42\n")
    changed = notebook(tmp_path / "changed.ipynb", "print('fresh output')", "committed output\n")
    result = workshop_check("-j", "2", str(good), str(changed), env=learner_env(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["good.ipynb", "pass"] for line in lines)
    assert any(line.split()[:2] == ["changed.ipynb", "FAIL"] for line in lines)
    assert "===== changed.ipynb =====" in result.stdout
    assert "print('fresh output')" in result.stdout  # the failing cell, in full
    assert "fresh output" in result.stdout and "committed output" in result.stdout
    assert lines[-1].startswith("1 passed, 1 failed in ")


def test_checks_kernels_keep_out_of_the_learners_ipython_and_jupyter_folders(
    tmp_path: Path,
) -> None:
    """The check's kernels write their cells to an IPython history and their connection files
    to a runtime folder: their own, not the learner's (whose history would fill with them)."""
    ipython, runtime = tmp_path / "ipython", tmp_path / "runtime"
    env = {**learner_env(tmp_path), "IPYTHONDIR": str(ipython), "JUPYTER_RUNTIME_DIR": str(runtime)}
    marker = f"print('{uuid.uuid4().hex}')"
    probe = notebook(tmp_path / "probe.ipynb", f"{marker}\nprint(6 * 7)", "")
    result = workshop_check(str(probe), env=env)
    assert "probe.ipynb" in result.stdout  # it ran (and failed on purpose: output differs)
    assert "42" in result.stdout
    assert not ipython.exists(), sorted(ipython.rglob("*"))
    assert not runtime.exists() or not any(runtime.iterdir()), sorted(runtime.iterdir())


def test_check_leaves_the_learners_open_chapters_alone(backend: Backend, tmp_path: Path) -> None:
    env = learner_env(tmp_path)
    learner = dataclasses.replace(backend, learner=learner_slug(env["WORKSHOP_LEARNER"]))
    try:
        for chapter in ("01", "04"):  # the learner has these open in JupyterLab
            reset = subprocess.run(
                [sys.executable, "-m", "workshop_app", "reset", chapter],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            assert reset.returncode == 0, reset.stderr
        sandbox = tmp_path / "learner"
        for chapter in ("ch01", "ch04"):
            (sandbox / chapter / "my-work.txt").write_text("the learner's work")
        with learner.connect(learner.name("ch04_blog")) as conn:
            conn.execute("DELETE FROM posts")
        role_password = "SELECT rolpassword FROM pg_authid WHERE rolname = %s"
        with learner.connect() as conn:
            before = conn.execute(role_password, [learner.name("ch04_blog_user")]).fetchone()

        # Chapter 01, and a notebook that sets up chapter 04 (databases, role, password).
        setup_04 = notebook(
            tmp_path / "setup-04.ipynb",
            'from workshop_app.workshop.kit import setup\nch = setup("04")',
            "Chapter 04 is ready. Sandbox: ./sandbox/ch04. Databases: ws_<learner>_ch04_blog\n",
        )
        result = workshop_check("-j", "2", "01", str(setup_04), env=env)
        assert result.returncode == 0, result.stdout + result.stderr

        for chapter in ("ch01", "ch04"):
            assert (sandbox / chapter / "my-work.txt").exists(), chapter
        with learner.connect(learner.name("ch04_blog")) as conn:
            assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 0
        with learner.connect() as conn:
            after = conn.execute(role_password, [learner.name("ch04_blog_user")]).fetchone()
        assert after == before  # the learner's connection still works
    finally:
        exercise_support.drop_learner(learner)  # the check's databases too


def test_a_second_check_at_the_same_time_says_one_is_running(tmp_path: Path) -> None:
    env = learner_env(tmp_path)
    slow = notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(15)\nprint('done')", "done\n")
    first = subprocess.Popen(
        [sys.executable, "-m", "workshop_app", "check", str(slow)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith("Running 1 notebooks")  # it holds the lock
        second = workshop_check(str(slow), env=env)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "Traceback" not in second.stderr
        assert "workshop: Another `workshop check` is running" in second.stderr
        assert "Fix: wait until it finishes" in second.stderr
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, out + err
    finally:
        if first.poll() is None:
            first.kill()


def test_learners_on_one_hub_each_get_a_check_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """On JupyterHub every server runs as `jovyan`: the check's learner comes from the learner
    the course uses (JUPYTERHUB_USER here), not from the OS user."""
    monkeypatch.delenv("WORKSHOP_LEARNER", raising=False)
    learners = []
    for user in ("t_hub_ann", "t_hub_bob"):
        monkeypatch.setenv("JUPYTERHUB_USER", user)
        with own_place(choose_backend()) as place:
            learners.append(place["WORKSHOP_CHECK_OF"])
    assert learners == ["t_hub_ann", "t_hub_bob"]


def test_a_learner_named_like_someones_check_is_not_that_check(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ann's check must never reset another learner's chapters, whatever that learner is
    called: `ann-check`, or the very slug Ann's check uses."""
    monkeypatch.delenv("WORKSHOP_CHECK_OF", raising=False)
    ann = dataclasses.replace(backend, learner=learner_slug("t_ann"))
    with own_place(ann) as place:  # the settings the check gives its kernels
        given = {k.lower(): v for k, v in place.items() if k.lower() in FIELDS}
    check_slug = WorkshopSettings(_env_file=None, **given).learner()
    assert check_slug == check_backend(ann).learner
    for name in ("t_ann-check", "t_ann_check", check_slug, f"{check_slug}-check"):
        someone = WorkshopSettings(_env_file=None, workshop_learner=name).learner()
        assert someone != check_slug, name
    assert (
        check_backend(ann).learner
        != check_backend(dataclasses.replace(ann, learner="t_bob")).learner
    )


def made_with(prefix: str, backend: Backend) -> list[str]:
    """Databases and roles named with this prefix, read from a new connection."""
    query = (
        "SELECT datname FROM pg_database WHERE starts_with(datname, %(p)s) UNION ALL "
        "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %(p)s) ORDER BY 1"
    )
    with backend.connect() as conn:
        return [r[0] for r in conn.execute(query, {"p": prefix}).fetchall()]


def test_cleanup_drops_what_the_learners_check_made_and_no_one_elses(
    backend: Backend, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    env = {**os.environ, "WORKSHOP_LEARNER": f"t{tag}ann", "WORKSHOP_SANDBOX_DIR": str(tmp_path)}
    ann = dataclasses.replace(backend, learner=learner_slug(env["WORKSHOP_LEARNER"]))
    others = [  # learners whose names start alike, with their own checks' databases
        dataclasses.replace(backend, learner=learner_slug(f"t{tag}{name}"))
        for name in ("ann-marie", "ann_check")
    ]
    try:
        for other in others:
            for learner in (other, check_backend(other)):
                learner.create_database("ch02_blog")
        check = workshop_check("02", env=env)
        assert check.returncode == 0, check.stdout + check.stderr
        left = made_with(check_backend(ann).prefix, backend)
        assert left, "the check made no databases: nothing to test"

        cleanup = subprocess.run(
            [sys.executable, "-m", "workshop_app", "db", "cleanup", "--yes"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
        assert made_with(check_backend(ann).prefix, backend) == []
        for name in left:
            assert name in cleanup.stdout  # listed
        for other in others:
            for learner in (other, check_backend(other)):
                assert made_with(learner.prefix, backend) == [learner.name("ch02_blog")]
    finally:
        for learner in (ann, *others):
            exercise_support.drop_learner(learner)  # their checks' too
