"""Helpers the tests share (fixtures stay in conftest.py): servers, connections, the Jupyter API."""

import json
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class AdminServer:
    """A server as a class shares it: URLs of its superuser and of a least-privileged admin
    (LOGIN CREATEDB CREATEROLE, no superuser), both with passwords."""

    superuser_url: str
    admin_url: str


LEAST_ADMIN = "CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}"


def add_least_admin(superuser_url: str, name: str, password: str) -> str:
    from psycopg import sql

    with connect(superuser_url.replace("+psycopg", "")) as conn:
        conn.execute(sql.SQL(LEAST_ADMIN).format(sql.Identifier(name), sql.Literal(password)))
    return superuser_url.replace("postgresql+psycopg://", "", 1).split("@", 1)[1]


PG15_SUPERUSER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def connect(url_or_conninfo: str, **kw: object) -> psycopg.Connection:
    return psycopg.connect(url_or_conninfo, autocommit=True, connect_timeout=5, **kw)


def api(base: str, path: str, token: str, method: str = "GET") -> dict:
    """A call to the Jupyter server's REST API."""
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
        data=b"{}" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


@dataclass(frozen=True)
class Lab:
    base: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the folder it serves
    env: dict[str, str]  # its environment: settings, workspace, sandbox, learner of its own
    output: list[str]  # what `make lab` printed so far, a line an item
