"""The workshop's own settings: environment variables first, then the checkout's `.env`."""

import getpass
import os
import re
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


def chapter_notebooks() -> list[Path]:
    """The course's chapters, in order: notebooks/NN-*.ipynb."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


class WorkshopSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    # Any PostgreSQL server, as a role that may create databases (and roles). Unset: embedded.
    database_url: str | None = None
    # Prefix for the databases and roles the workshop creates, so learners sharing a server
    # never collide. Default: the operating-system user name.
    workshop_learner: str | None = None
    # Where the embedded server keeps its data. Default: .workshop/postgres in the checkout
    # (as root: a folder under /var/lib, see embedded.py).
    workshop_data_dir: Path | None = None
    # Also listen on 127.0.0.1:PORT (for GUI tools). Default: a local socket only.
    workshop_pg_port: int | None = None

    def database_url_source(self) -> str:
        return "environment" if os.environ.get("DATABASE_URL") else ".env"

    def learner(self) -> str:
        name = self.workshop_learner or getpass.getuser()
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:20]
        return slug or "learner"
