"""The one way the workshop runs Alembic in its own process: the course's reviewed history
(alembic/ at the repository root) on a connection it hands over.

A learner's `!alembic` runs as a command instead (exercises/scratch.py runs it for checks).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from workshop_app.workshop.kernel import app_modules_kept
from workshop_app.workshop.settings import ROOT

if TYPE_CHECKING:  # imported when used: `workshop reset` starts without Alembic
    from alembic.config import Config
    from sqlalchemy import Connection


def course_config(
    connection: Connection | None = None,
    *,
    script_location: Path | None = None,
    output: io.StringIO | None = None,
) -> Config:
    """The repository's alembic.ini, driving `connection` (env.py takes it from
    config.attributes) and leaving the process's logging alone."""
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"), output_buffer=output)
    cfg.attributes["configure_logger"] = False
    if connection is not None:
        cfg.attributes["connection"] = connection
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    return cfg


def upgrade(connection: Connection, revision: str) -> None:
    """Upgrade the connection's database to `revision`, inside the connection's transaction
    (the caller commits). env.py imports the app, which reads its DATABASE_URL on import: it
    gets the connection's own URL, and the process's app modules are left as they were."""
    from unittest import mock

    from alembic import command

    url = connection.engine.url.render_as_string(hide_password=False)
    with mock.patch.dict(os.environ, {"DATABASE_URL": url}), app_modules_kept():
        command.upgrade(course_config(connection), revision)
