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


def test_environment_yml_lists_the_same_packages_and_ranges_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(split(r) for r in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed: dict[str, str] = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e") or item.split(">")[0].split("=")[0] in ("python", "pip"):
                continue
            name, spec = split(item)
            listed[name] = spec
    assert listed == wanted  # conda-forge uses the same names (extras like [binary] dropped)
    assert "conda-forge" in env["channels"]
    assert any(isinstance(d, dict) and "-e ." in d["pip"] for d in env["dependencies"])


def test_constraints_pin_every_direct_dependency() -> None:
    pinned = {
        split(line)[0]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {split(r)[0] for r in project["dependencies"]} <= pinned


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
