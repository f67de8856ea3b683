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
from workshop_app.workshop.places import unwritable, wsl_windows_drive

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


MOVE_TO_LINUX = (
    "move the course into your Linux home (in WSL: `cd ~ && git clone <the course's URL>`, then "
    "`make lab` there), or set WORKSHOP_DATA_DIR=~/.workshop-pg in .env"
)


def check_places(
    backend: Backend, proc_version: str | None = None, mounts: str | None = None
) -> Iterator[Check]:
    """Folders the course writes: the chapters' sandbox, the embedded server's data (not on a
    Windows drive under WSL). `proc_version` and `mounts`: that text, for tests."""
    from workshop_app.workshop.sandbox import sandboxes

    if backend.server is not None:
        home = backend.server.home
        drive = wsl_windows_drive(home, proc_version, mounts)
        blocked = unwritable(home)
        if drive:
            yield Check(
                "data folder",
                False,
                f"{home} is on the Windows drive {drive} (WSL): "
                "PostgreSQL cannot keep its data private there",
                MOVE_TO_LINUX + ".",
            )
        elif blocked:
            yield Check(
                "data folder",
                False,
                f"cannot write to {blocked}",
                "set WORKSHOP_DATA_DIR in .env to a folder of yours, e.g. ~/.workshop-pg.",
            )
        else:
            yield Check("data folder", True, str(home))
    sandbox = sandboxes()
    blocked = unwritable(sandbox)
    if blocked:
        yield Check(
            "sandbox folder",
            False,
            f"cannot write to {blocked}",
            "copy the course into a folder of yours, or set WORKSHOP_SANDBOX_DIR to one "
            "(e.g. ~/workshop-sandbox) in the environment JupyterLab starts from.",
        )
    else:
        yield Check("sandbox folder", True, str(sandbox))


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
        places = list(check_places(backend))
        checks.extend(places)
        if any(c.item == "data folder" and not c.ok for c in places):
            checks.append(
                Check(
                    "server reachable",
                    False,
                    "not started: see the data folder",
                    "the fix of the data folder above.",
                )
            )
        else:
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
