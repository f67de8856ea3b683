"""Can the course write where it wants to? Two traps the doctor names before a chapter hits them.

- **WSL**: a checkout under /mnt/c lives on a Windows drive (DrvFs). PostgreSQL refuses a data
  folder whose permissions it cannot make private (0700), and DrvFs cannot, so the embedded
  server would fail there with `initdb`'s permission error.
- **Read-only folders**: when a hub, Binder or VS Code started JupyterLab, the checkout may be
  somebody else's; the chapters write their sandbox and the embedded server its data.

Everything here reads plain text (/proc/version, /proc/mounts), so tests pass their own.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


def read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def is_wsl(proc_version: str) -> bool:
    """WSL 1 and 2 kernels name Microsoft in /proc/version ("...-microsoft-standard-WSL2")."""
    return bool(re.search(r"microsoft|wsl", proc_version, flags=re.I))


@dataclass(frozen=True)
class Mount:
    point: PurePosixPath
    fstype: str
    options: str


def parse_mounts(text: str) -> list[Mount]:
    """/proc/mounts: device, mount point (spaces as \\040), type, options, ..."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[1])
            found.append(Mount(PurePosixPath(point), fields[2], fields[3]))
    return found


def windows_drive(path: Path, mounts: str) -> str | None:
    """The Windows drive's mount point that holds `path`, or None. WSL 1 mounts drives as
    `drvfs`, WSL 2 as `9p` with `aname=drvfs`; without mount information, /mnt/<letter>."""
    target = PurePosixPath(os.path.abspath(path))
    holders = [m for m in parse_mounts(mounts) if target.is_relative_to(m.point)]
    if holders:
        mount = max(holders, key=lambda m: len(m.point.parts))  # the innermost mount
        drvfs = mount.fstype == "drvfs" or (mount.fstype == "9p" and "drvfs" in mount.options)
        return str(mount.point) if drvfs else None
    letter = re.match(r"^/mnt/[a-zA-Z](?=/|$)", str(target))
    return letter[0] if letter else None


def wsl_windows_drive(
    path: Path, proc_version: str | None = None, mounts: str | None = None
) -> str | None:
    """Under WSL, the Windows drive holding `path` (None elsewhere, or on a Linux folder)."""
    if not is_wsl(read("/proc/version") if proc_version is None else proc_version):
        return None
    return windows_drive(path, read("/proc/mounts") if mounts is None else mounts)


def unwritable(path: Path) -> Path | None:
    """The folder that keeps `path` from being created or written, or None if it can be:
    `path` itself when it exists, else its nearest existing parent."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    return None if os.access(existing, os.W_OK | os.X_OK) else existing
