"""`workshop doctor`: is this machine ready for the course? A check a line, failures with a fix."""

import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

from workshop_app.workshop.backend import Backend, choose_backend
from workshop_app.workshop.errors import WorkshopError

DISTRIBUTION = "pg-alembic-workshop"
MIN_PYTHON = (3, 11)
REINSTALL = "run `make lab` again (it reinstalls the virtual environment's packages)."


@dataclass(frozen=True)
class Check:
    item: str
    ok: bool
    detail: str
    fix: str = ""


def required_packages() -> list[str]:
    """Our dependency names, read from the installed package metadata (pyproject.toml)."""
    reqs = [r for r in requires(DISTRIBUTION) or [] if "extra ==" not in r]
    return [re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0] for r in reqs]


def check_python() -> Check:
    current = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= MIN_PYTHON
    return Check("Python", ok, current, "" if ok else "install Python 3.11 or newer.")


def check_packages() -> Iterator[Check]:
    for name in required_packages():
        try:
            yield Check(name, True, version(name))
        except PackageNotFoundError:
            yield Check(name, False, "not installed", REINSTALL)


def check_server(backend: Backend) -> Iterator[Check]:
    try:
        backend.ensure_running()
    except WorkshopError as err:
        yield Check("server reachable", False, err.problem, err.fix)
        return
    yield Check("server reachable", True, "yes")
    yield Check("server version", True, backend.server_version())
    # What chapters do: a role, a database it owns; then both dropped. A random name, so two
    # checks at once (two kernels) do not collide.
    probe = f"doctor_{secrets.token_hex(4)}"
    item = "create a role and a database it owns"
    try:
        role, _ = backend.create_role(probe)
        try:
            name = backend.create_database(probe, owner=role)
            backend.drop_database(probe)
        finally:
            backend.drop_role(probe)
        yield Check(item, True, f"{name} owned by {role}, created and dropped")
    except Exception as err:
        yield Check(
            item,
            False,
            str(err).splitlines()[0],
            "the role in WORKSHOP_DATABASE_URL needs LOGIN CREATEDB CREATEROLE (ALTER ROLE ... "
            "CREATEDB CREATEROLE; see docs/instructor-guide.md), or remove WORKSHOP_DATABASE_URL "
            "to use the embedded server.",
        )


def check_kernel() -> Check:
    """The notebooks' kernel `python3` must run this very environment."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("Jupyter kernel", False, "no kernel named python3", REINSTALL)
    exe = spec.argv[0]
    if exe in ("python", "python3") or Path(exe).resolve() == Path(sys.executable).resolve():
        return Check("Jupyter kernel", True, "python3 (this environment)")
    return Check(
        "Jupyter kernel",
        False,
        f"python3 runs {exe}, another environment",
        f"remove that kernel (jupyter kernelspec remove python3) or start JupyterLab with "
        f"`make lab`, which uses {sys.executable}.",
    )


def run_checks(backend: Backend | None = None) -> list[Check]:
    checks = [check_python(), *check_packages()]
    try:
        backend = backend or choose_backend()
    except WorkshopError as err:
        checks.append(Check("backend", False, err.problem, err.fix))
    else:
        checks.append(Check("backend", True, backend.describe()))
        checks.append(Check("learner prefix", True, backend.prefix))
        checks.extend(check_server(backend))
    checks.append(check_kernel())
    return checks


def report(checks: list[Check]) -> str:
    width = max(len(c.item) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{'OK' if c.ok else 'FAIL':4}  {c.item:{width}}  {c.detail}")
        if c.fix:
            lines.append(f"{'':4}  {'':{width}}  fix: {c.fix}")
    failed = sum(not c.ok for c in checks)
    lines.append(f"\n{len(checks) - failed} OK, {failed} FAIL")
    return "\n".join(lines)
