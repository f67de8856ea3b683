"""`make wheelhouse`: every wheel the course installs, for Linux, macOS and Windows, in one folder.

A room without internet then installs from it (a USB stick, a shared folder):
`make lab` uses ./wheelhouse on its own when it holds wheels (see the Makefile), or by hand
`pip install --no-index --find-links wheelhouse -c constraints.txt -e .`.

constraints.txt is a universal lock (every platform's pins, with markers). pip evaluates markers
against the machine it runs on, not the target, so this script evaluates each line's marker for
each target itself and has pip download exactly the pinned set, `--no-deps --only-binary=:all:`.

    python scripts/wheelhouse.py [--out DIR] [--targets linux-x86_64 ...] [--pythons 3.11 ...]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from workshop_app.workshop.settings import ROOT


@dataclass(frozen=True)
class Target:
    platforms: tuple[str, ...]  # pip's --platform tags, most compatible first
    markers: dict[str, str]  # the marker environment of that platform


def _linux(arch: str) -> Target:
    # The oldest glibc first: pip prefers the first tag, so laptops with older systems work.
    tags = ("manylinux2014", "manylinux_2_27", "manylinux_2_28", "manylinux_2_31", "manylinux_2_34")
    return Target(
        tuple(f"{t}_{arch}" for t in tags),
        {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": arch,
        },
    )


def _macos(tag: str, arch: str) -> Target:  # pip expands macosx_N to every older macOS
    return Target(
        (tag,),
        {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": arch,
        },
    )


TARGETS = {
    "linux-x86_64": _linux("x86_64"),
    "linux-aarch64": _linux("aarch64"),
    "macos-arm64": _macos("macosx_14_0_arm64", "arm64"),
    "macos-x86_64": _macos("macosx_13_0_x86_64", "x86_64"),
    "windows-amd64": Target(
        ("win_amd64",),
        {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": "AMD64",
        },
    ),
}
PYTHONS = ("3.11", "3.12", "3.13")
# Installing the course itself (`pip install -e .` builds it) needs these too, offline.
TOOLS = ("pip", "setuptools>=69")


def pins(target: Target, python_full: str, constraints: Path) -> list[str]:
    """The `name==version` lines of the lock that apply on this target and Python version."""
    env = {
        **target.markers,
        "python_version": python_full.rsplit(".", 1)[0],
        "python_full_version": python_full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    found = []
    for line in constraints.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                found.append(f"{req.name}{req.specifier}")
    return found


def pip_download(reqs: list[str], options: list[str], out: Path) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as file:
        file.write("\n".join(reqs) + "\n")
        file.flush()
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                *options,
                "--dest",
                str(out),
                "-r",
                file.name,
            ],
            capture_output=True,
            text=True,
        )


def download(reqs: list[str], target: Target, python: str, out: Path) -> list[str]:
    """The target's wheels into `out`. A pin with no wheel for it gets its source archive
    instead (installing it there then needs a compiler); those are returned."""
    platforms = [arg for tag in target.platforms for arg in ("--platform", tag)]
    options = [
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python,
        *platforms,
    ]
    sdists: list[str] = []
    while True:
        done = pip_download(reqs, options, out)
        if done.returncode == 0:
            return sdists
        missing = re.search(r"No matching distribution found for (\S+)", done.stderr)
        if not missing or missing[1] not in reqs:
            sys.exit(f"wheelhouse: pip download failed:\n{done.stderr}")
        reqs = [r for r in reqs if r != missing[1]]
        if pip_download([missing[1]], ["--no-binary=:all:"], out).returncode != 0:
            sys.exit(f"wheelhouse: {missing[1]} has neither a wheel nor a source archive")
        sdists.append(missing[1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "wheelhouse")
    p.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS))
    p.add_argument("--pythons", nargs="+", default=list(PYTHONS))
    p.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    from_source: dict[str, set[str]] = {}
    for name in args.targets:
        for python in args.pythons:
            print(f"wheelhouse: {name}, Python {python} ...", flush=True)
            # A lock may pin differently before and after a patch release (soupsieve, 3.11.5).
            for patch in (0, 99):
                reqs = pins(TARGETS[name], f"{python}.{patch}", args.constraints)
                sdists = download([*reqs, *TOOLS], TARGETS[name], f"{python}.{patch}", args.out)
                for req in sdists:
                    from_source.setdefault(req, set()).add(f"{name} {python}")
    wheels = sorted(args.out.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(
        f"wheelhouse: {len(wheels)} wheels, {size:.0f} MiB in {args.out}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    for req, where in sorted(from_source.items()):
        print(
            f"wheelhouse: no wheel of {req} for {', '.join(sorted(where))}: its source "
            f"archive is there instead (installing it needs a C compiler)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
