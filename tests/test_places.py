"""The doctor names the folders the course cannot use: a WSL checkout on a Windows drive (where
PostgreSQL cannot keep its data private) and folders it cannot write. The inputs the check reads
(/proc/version, /proc/mounts) are passed as text, as WSL 1 and 2 write them."""

import os
from pathlib import Path

import pytest

from workshop_app.workshop.backend import choose_backend
from workshop_app.workshop.doctor import check_places, report
from workshop_app.workshop.embedded import is_root
from workshop_app.workshop.places import is_wsl, unwritable, windows_drive, wsl_windows_drive
from workshop_app.workshop.settings import WorkshopSettings

WSL2_VERSION = (
    "Linux version 5.15.167.4-microsoft-standard-WSL2 (root@f9c826d3017f) (gcc (GCC) 11.2.0, "
    "GNU ld (GNU Binutils) 2.37) #1 SMP Tue Nov 5 00:21:55 UTC 2024"
)
WSL1_VERSION = "Linux version 4.4.0-22621-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0)"
DEBIAN_VERSION = "Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian)"
WSL2_MOUNTS = """\
/dev/sdc / ext4 rw,relatime,discard,errors=remount-ro,data=ordered 0 0
none /mnt/wslg tmpfs rw,relatime 0 0
C:\\134 /mnt/c 9p rw,noatime,dirsync,aname=drvfs;path=C:\\;uid=1000;gid=1000;symlinkroot=/mnt/,mmap,access=client,msize=65536,trans=fd,rfd=5,wfd=5 0 0
D:\\134 /mnt/d\\040drive 9p rw,noatime,aname=drvfs;path=D:\\;uid=1000 0 0
/dev/sdd /mnt/c/linux-disk ext4 rw,relatime 0 0
"""  # noqa: E501 - a real line is that long
WSL1_MOUNTS = """\
rootfs / lxfs rw,noatime 0 0
C: /mnt/c drvfs rw,noatime,uid=1000,gid=1000,case=off 0 0
"""


def test_wsl_is_told_from_its_kernel_name() -> None:
    assert is_wsl(WSL2_VERSION) and is_wsl(WSL1_VERSION)
    assert not is_wsl(DEBIAN_VERSION) and not is_wsl("")


def test_a_windows_drive_is_found_by_its_mount_whatever_its_name() -> None:
    c = "/mnt/c/Users/ada/course/.workshop/postgres"
    assert windows_drive(Path(c), WSL2_MOUNTS) == "/mnt/c"
    assert windows_drive(Path(c), WSL1_MOUNTS) == "/mnt/c"
    assert windows_drive(Path("/mnt/d drive/course"), WSL2_MOUNTS) == "/mnt/d drive"
    assert windows_drive(Path("/home/ada/course/.workshop/postgres"), WSL2_MOUNTS) is None
    assert windows_drive(Path("/mnt/c/linux-disk/course"), WSL2_MOUNTS) is None  # innermost
    assert windows_drive(Path("/mnt/wslg/x"), WSL2_MOUNTS) is None
    # Without /proc/mounts: WSL's default place for drives.
    assert windows_drive(Path(c), "") == "/mnt/c"
    assert windows_drive(Path("/mnt/data/course"), "") is None


def test_only_under_wsl_does_a_mnt_folder_count_as_a_windows_drive() -> None:
    path = Path("/mnt/c/Users/ada/course")
    assert wsl_windows_drive(path, WSL2_VERSION, WSL2_MOUNTS) == "/mnt/c"
    assert wsl_windows_drive(path, DEBIAN_VERSION, WSL1_MOUNTS) is None
    assert wsl_windows_drive(Path.home(), WSL2_VERSION, WSL2_MOUNTS) is None


def embedded_with_data_in(folder: Path):
    return choose_backend(
        WorkshopSettings(workshop_database_url=None, database_url=None, workshop_data_dir=folder)
    )


def test_doctor_says_a_wsl_checkout_on_a_windows_drive_cannot_hold_data_and_what_to_do() -> None:
    backend = embedded_with_data_in(Path("/mnt/c/Users/ada/course/.workshop/postgres"))
    checks = list(check_places(backend, WSL2_VERSION, WSL2_MOUNTS))
    (data,) = [c for c in checks if c.item == "data folder"]
    assert not data.ok
    assert (
        "/mnt/c/Users/ada/course/.workshop/postgres is on the Windows drive /mnt/c" in data.detail
    )
    assert "Linux home" in data.fix and "WORKSHOP_DATA_DIR=~/.workshop-pg" in data.fix
    assert "FAIL  data folder" in report(checks)
    # The same folder on Linux (no WSL), or the data in the Linux home: no complaint.
    (linux,) = [
        c for c in check_places(backend, DEBIAN_VERSION, WSL2_MOUNTS) if c.item == "data folder"
    ]
    assert "Windows" not in linux.detail  # (a user may not write /mnt: that it may say)
    home = embedded_with_data_in(Path.home() / ".workshop-pg")
    assert all(c.ok for c in check_places(home, WSL2_VERSION, WSL2_MOUNTS))


def test_doctor_leaves_the_data_folder_alone_for_a_server_from_database_url() -> None:
    url = "postgresql+psycopg://ada@db.example.com/postgres"
    backend = choose_backend(WorkshopSettings(workshop_database_url=url))
    items = [c.item for c in check_places(backend, WSL2_VERSION, WSL2_MOUNTS)]
    assert items == ["sandbox folder"]


@pytest.mark.skipif(is_root(), reason="root may write anywhere; CI's last step runs as a user")
def test_doctor_names_folders_it_cannot_write(tmp_path: Path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert unwritable(locked / "a" / "b") == locked
        assert unwritable(tmp_path / "free" / "b") is None
        monkeypatch.setenv("WORKSHOP_SANDBOX_DIR", str(locked / "sandbox"))
        backend = embedded_with_data_in(locked / "pg")
        checks = {c.item: c for c in check_places(backend, DEBIAN_VERSION, "")}
        assert not checks["data folder"].ok and "WORKSHOP_DATA_DIR" in checks["data folder"].fix
        assert checks["data folder"].detail == f"cannot write to {locked}"
        assert not checks["sandbox folder"].ok
        assert "WORKSHOP_SANDBOX_DIR" in checks["sandbox folder"].fix
    finally:
        locked.chmod(0o700)


def test_this_machine_reads_its_own_proc_files_without_failing() -> None:
    """No injected text: the doctor reads /proc itself (here: not WSL, or not on a drive)."""
    here = Path(__file__).resolve()
    wsl = is_wsl(Path("/proc/version").read_text()) if os.path.exists("/proc/version") else False
    assert (wsl_windows_drive(here) is not None) == (wsl and str(here).startswith("/mnt/"))
