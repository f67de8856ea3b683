"""One kind of error for everything a learner can get wrong: a problem and its fix."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg


class WorkshopError(Exception):
    """Shown to the learner as two lines, never as a traceback."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}\n  Fix: {self.fix}"


def explain_connect_error(
    err: psycopg.OperationalError, where: str, *, server_log: Path | None = None
) -> WorkshopError:
    """Turn libpq's message into one problem and one fix. `where` names the server, masked;
    `server_log` is the embedded server's log (None: a server from WORKSHOP_DATABASE_URL)."""
    msg = str(err).strip()
    if m := re.search(r'password authentication failed for user "([^"]+)"', msg):
        return WorkshopError(
            f'PostgreSQL at {where} rejected the password for role "{m[1]}".',
            "correct the password in WORKSHOP_DATABASE_URL (in .env or the environment); "
            "URL-encode special characters, e.g. @ as %40 and % as %25.",
        )
    if "no password supplied" in msg:
        return WorkshopError(
            f"PostgreSQL at {where} asks for a password and the URL has none.",
            "put it in the URL: postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE.",
        )
    if "server does not support SSL" in msg:
        return WorkshopError(
            f"PostgreSQL at {where} does not offer SSL (TLS), and the URL's sslmode requires it.",
            "for a server without TLS (a local one), remove sslmode from WORKSHOP_DATABASE_URL "
            "or set sslmode=prefer; else use the host and port where the server offers TLS.",
        )
    if m := re.search(r'database "([^"]+)" does not exist', msg):
        return WorkshopError(
            f'Database "{m[1]}" does not exist on {where}.',
            f"create it (createdb {m[1]}) or name an existing database in the URL, "
            "e.g. .../postgres.",
        )
    if m := re.search(r'role "([^"]+)" does not exist', msg):
        return WorkshopError(
            f'Role "{m[1]}" does not exist on {where}.',
            "use a role that exists in the URL (the server's admin role, often postgres), "
            "or create it first.",
        )
    if ("Connection refused" in msg or "No such file or directory" in msg) and server_log:
        return WorkshopError(
            "The embedded PostgreSQL is not running (nothing answers on its socket).",
            f"start it with `workshop db start`; if it does not start, its log is {server_log}.",
        )
    if "Connection refused" in msg or "No such file or directory" in msg:
        return WorkshopError(
            f"Nothing accepts connections at {where} (connection refused).",
            "start that server (docker compose up -d, or your own) and check host and port "
            "in WORKSHOP_DATABASE_URL.",
        )
    if "could not translate host name" in msg or "Name or service not known" in msg:
        return WorkshopError(
            f"The host name in {where} does not resolve.",
            "use 127.0.0.1 or localhost from your machine; a compose service name such as "
            "'db' only resolves inside other containers.",
        )
    if "timeout expired" in msg:
        return WorkshopError(
            f"No answer from {where} within the connect timeout.",
            "check the host and port, and that a firewall or VPN does not block them.",
        )
    first = msg.splitlines()[0] if msg else type(err).__name__
    return WorkshopError(
        f"Cannot connect to PostgreSQL at {where}: {first}",
        "run `workshop doctor` for a full check of your setup.",
    )


# ----- errors a chapter shows on purpose, as one line

QUOTED_URL = re.compile(r"'[a-z0-9+]+://[^']*'")


@contextlib.contextmanager
def expect_error(*kinds: type[BaseException]) -> Iterator[None]:
    """Run a step that is meant to fail; show its error as one readable line and go on."""
    catch: tuple[type[BaseException], ...] = kinds or (Exception,)
    try:
        yield
    except catch as err:
        print(error_line(err))
    else:
        raise AssertionError("this step was expected to fail, and it did not")


def error_line(err: BaseException) -> str:
    """`ErrorType: message`, from the driver's own error when SQLAlchemy wraps one; without
    libpq's "connection to server at ... failed:" preamble and without URLs."""
    err = getattr(err, "orig", None) or err
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    message = re.sub(r"^(connection failed: )?connection to server .*? failed: ", "", message)
    message = QUOTED_URL.sub("'<DATABASE_URL>'", message)
    return f"{type(err).__name__}: {message}"
