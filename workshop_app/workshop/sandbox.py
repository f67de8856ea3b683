"""A chapter's folder (notebooks/sandbox/chNN, ignored by git) and the private files in it."""

import os
from pathlib import Path

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.settings import ROOT


def sandboxes() -> Path:
    """Where chapters write their files: notebooks/sandbox (WORKSHOP_SANDBOX_DIR overrides)."""
    return Path(os.environ.get("WORKSHOP_SANDBOX_DIR") or ROOT / "notebooks" / "sandbox")


def write_env(ch: Chapter, which: str = "blog") -> None:
    """The sandbox's .env, as a learner writes it: the app role's URL, password URL-encoded."""
    url = ch.server_url(which).render_as_string(hide_password=False)
    write_private(ch.sandbox / ".env", f"DATABASE_URL={url}\n")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600): a .env holds a role's password."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    path.chmod(0o600)  # also when it existed before
