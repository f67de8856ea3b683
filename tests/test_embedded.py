"""The embedded server: started on demand, shared, recovered after crashes, safe as root.

Each test runs its own throw-away server, so it can kill it without disturbing the others.
"""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from helpers import connect

from workshop_app.workshop.embedded import SYSTEM_USER, EmbeddedServer, is_root
from workshop_app.workshop.settings import ROOT
from workshop_app.workshop.urls import libpq_conninfo


def admin(server: EmbeddedServer, dbname: str = "postgres") -> psycopg.Connection:
    return connect(libpq_conninfo(server.admin_url(), dbname=dbname))


def postmasters(server: EmbeddedServer) -> list[psutil.Process]:
    """Server processes of this data folder whose parent is not one of them."""
    procs = server.processes()
    pids = {p.pid for p in procs}
    return [p for p in procs if p.ppid() not in pids]


def test_first_start_creates_a_postgresql_18_that_listens_on_a_private_socket_only(
    embedded_home: Path,
) -> None:
    server = EmbeddedServer(embedded_home)
    assert server.start() is True
    with admin(server) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "UTC"
    sock = server.socket_dir / ".s.PGSQL.5432"
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(server.socket_dir.stat().st_mode) == 0o700


def test_roles_with_a_password_must_give_it(embedded_home: Path) -> None:
    server = EmbeddedServer(embedded_home)
    server.start()
    with admin(server) as conn:
        conn.execute("CREATE ROLE blog_user LOGIN PASSWORD 's3cret'")
    as_user = libpq_conninfo(server.admin_url(), user="blog_user")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        connect(as_user)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(as_user, password="wrong")
    with connect(as_user, password="s3cret") as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "blog_user"


def test_a_running_server_is_reused_and_stop_stops_it(embedded_home: Path) -> None:
    server = EmbeddedServer(embedded_home)
    server.start()
    pid = server.status().pid
    started = time.perf_counter()
    assert EmbeddedServer(embedded_home).start() is False  # another handle attaches
    assert time.perf_counter() - started < 1
    assert server.status().pid == pid
    assert server.stop() is True
    assert server.status().running is False
    assert server.stop() is False
    assert server.start() is True  # warm start keeps the data folder
    assert server.status().running


def test_two_processes_starting_at_once_get_one_server(embedded_home: Path) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from workshop_app.workshop.embedded import EmbeddedServer as S;"
        "s = S(Path(sys.argv[1])); s.start(); print(s.status().pid)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(embedded_home)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    server = EmbeddedServer(embedded_home)
    assert pids == {str(server.status().pid)}
    assert len(postmasters(server)) == 1


def test_start_recovers_after_the_server_was_killed(embedded_home: Path) -> None:
    server = EmbeddedServer(embedded_home)
    server.start()
    with admin(server) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    os.kill(server.status().pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(p.pid) for p in postmasters(server)], timeout=5)
    assert server.status().running is False
    assert (server.data / "postmaster.pid").exists()  # left behind by the crash

    assert server.start() is True
    with admin(server) as conn:
        assert conn.execute("SELECT answer FROM kept").fetchone()[0] == 42


def test_start_ignores_a_stale_pid_file_that_names_a_live_unrelated_process(
    embedded_home: Path,
) -> None:
    server = EmbeddedServer(embedded_home)
    server.start()
    server.stop()
    # A pid file from long ago, whose pid now belongs to another program (here: this test).
    stale = f"{os.getpid()}\n{server.data}\n0\n5432\n\n\n\nready\n"
    (server.data / "postmaster.pid").write_text(stale)
    assert server.status().running is False
    assert server.start() is True
    assert server.status().pid != os.getpid()


def test_with_a_port_it_also_listens_on_localhost_and_asks_for_passwords_there(
    embedded_home: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = EmbeddedServer(embedded_home, port=port)
    server.start()
    with admin(server) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres")


def parent_modes(path: Path) -> dict[Path, int]:
    return {p: p.stat().st_mode for p in path.resolve().parents}


def test_starting_as_root_leaves_the_checkout_and_environment_folders_alone(
    embedded_home: Path,
) -> None:
    watched = {**parent_modes(ROOT / "workshop_app"), **parent_modes(Path(sys.executable))}
    watched[Path.home()] = Path.home().stat().st_mode
    server = EmbeddedServer(embedded_home)
    server.start()
    assert {p: p.stat().st_mode for p in watched} == watched
    owner = psutil.Process(server.status().pid).username()
    expected = SYSTEM_USER if is_root() else psutil.Process().username()
    assert owner == expected
