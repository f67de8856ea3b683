"""The workshop's own settings: environment variables first, then the checkout's `.env`."""

import getpass
import hashlib
import os
import re
import sys
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from workshop_app.workshop.errors import WorkshopError

ROOT = Path(__file__).resolve().parents[2]


FIELDS: dict[str, type] = {
    "workshop_database_url": str,
    "database_url": str,
    "workshop_learner": str,
    "workshop_check_of": str,
    "jupyterhub_user": str,
    "workshop_data_dir": Path,
    "workshop_pg_port": int,
}


def typed(key: str, kind: type, raw: object) -> object:
    """A setting's value as its kind; unset and empty are None."""
    if raw is None or raw == "":
        return None
    if kind is int and not isinstance(raw, int):
        try:
            return int(str(raw))
        except ValueError:
            raise WorkshopError(
                f"{key}={raw!r} is not a number.", f"give {key} a port number, e.g. 55432."
            ) from None
    if kind is Path:
        return Path(raw).expanduser()
    return raw


def chapter_notebooks() -> list[Path]:
    """The course's chapters, in order: notebooks/NN-*.ipynb."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def chapter_title(nb: dict, *, plain: bool = False) -> str:
    """A chapter's title: its first cell's heading (`03 · Alembic ...`), markdown or plain."""
    cell = nb["cells"][0]
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    title = source.splitlines()[0].removeprefix("# ").strip()
    return title.replace("`", "") if plain else title


class WorkshopSettings:
    """The workshop's settings: given values first, then the environment, then the checkout's
    `.env` (UPPER_CASE names; python-dotenv reads the file). The blog itself reads its settings
    with pydantic-settings, as the tutorial does; here plain reading keeps every `workshop`
    command quick to start."""

    # Any PostgreSQL server, as a role that may create databases (and roles). Unset: embedded.
    # (DATABASE_URL is the blog's own URL, as in the tutorial; see server_url for the old use.)
    workshop_database_url: str | None
    database_url: str | None  # the old spelling of WORKSHOP_DATABASE_URL
    # Prefix for the databases and roles the workshop creates, so learners sharing a server
    # never collide. Default: the room's learner when the server's URL names a room login (see
    # room.py), else the JupyterHub user, else the operating-system user name.
    workshop_learner: str | None
    # Set by `workshop check` for its kernels: the learner whose check this is (course_check.py).
    workshop_check_of: str | None
    # Set by JupyterHub for each user's server (where the OS user is often `jovyan` for all).
    jupyterhub_user: str | None
    # Where the embedded server keeps its data. Default: .workshop/postgres in the checkout
    # (as root: a folder under /var/lib, see embedded.py).
    workshop_data_dir: Path | None
    # Also listen on 127.0.0.1:PORT (for GUI tools). Default: a local socket only.
    workshop_pg_port: int | None

    def __init__(self, _env_file: Path | None = ROOT / ".env", **given: object) -> None:
        if unknown := given.keys() - FIELDS.keys():
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        from_file: dict[str, str | None] = {}
        if _env_file is not None and Path(_env_file).is_file():
            from dotenv import dotenv_values

            from_file = dotenv_values(_env_file)
        for name, kind in FIELDS.items():
            key = name.upper()
            raw = given[name] if name in given else os.environ.get(key, from_file.get(key))
            setattr(self, name, typed(key, kind, raw))

    def server_setting(self) -> tuple[str, str] | None:
        """Which setting names the workshop's server, and its URL; None: the embedded server.
        DATABASE_URL is the old spelling of WORKSHOP_DATABASE_URL."""
        for name in ("WORKSHOP_DATABASE_URL", "DATABASE_URL"):
            if value := getattr(self, name.lower()):
                return name, value
        return None

    def server_url(self) -> tuple[str, str, str] | None:
        """The server's URL, the setting's name and where it came from; None: embedded. The
        old spelling still works, with a one-line notice."""
        if (chosen := self.server_setting()) is None:
            return None
        name, value = chosen
        if name == "DATABASE_URL":
            notice_old_spelling()
        return value, name, f"{name} from {'environment' if os.environ.get(name) else '.env'}"

    def learner(self) -> str:
        if self.workshop_check_of:
            return check_slug(self.workshop_check_of)
        if self.workshop_learner:
            return learner_slug(self.workshop_learner)
        if (chosen := self.server_setting()) and (slug := room_learner(chosen[1])):
            return slug
        return learner_slug(self.jupyterhub_user or getpass.getuser())


@cache
def notice_old_spelling() -> None:
    """Once per process."""
    print(
        "Note: the workshop reads its server from WORKSHOP_DATABASE_URL now (DATABASE_URL "
        "is the blog's own); rename DATABASE_URL in your .env or environment.",
        file=sys.stderr,
    )


# `ws_` + slug + `__` + the longest short name (32, backend.NAME) fits PostgreSQL's 63 bytes.
SLUG_MAX = 24


# A room's learner logs in as `ws_room_<slug>` (room.py): the slug is theirs as it stands.
ROOM_ROLE = "ws_room_"
SLUG = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


def room_learner(database_url: str | None) -> str | None:
    """The learner's slug when the server URL's role is a room login, else None."""
    if not database_url:
        return None
    try:
        user = urlsplit(database_url.strip()).username or ""
    except ValueError:
        return None  # urls.parse_database_url names the problem
    slug = unquote(user).removeprefix(ROOM_ROLE)
    if user.startswith(ROOM_ROLE) and len(slug) <= SLUG_MAX and SLUG.match(slug):
        return slug
    return None


def learner_slug(name: str) -> str:
    """A readable slug, distinct for distinct names: `ber` → `ber`, `Über` → `uber_<hash>`.

    Lowercase ASCII letters and digits joined by single `_` (never `__`, never a trailing `_`,
    so `ws_<slug>__` ends unambiguously). Whenever the slug is not the name itself (upper
    case lowered, accents stripped, other characters replaced, cut short), 6 hex digits of the
    name's sha256 follow; a name that itself ends like that gets them too, so a kept name never
    equals a hashed one and different names never share a prefix.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if slug == name and len(slug) <= SLUG_MAX and not re.search(r"_[0-9a-f]{6}$", slug):
        return slug
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{slug[: SLUG_MAX - 7].rstrip('_') or 'learner'}_{digest}"


def check_slug(learner: str) -> str:
    """The learner slug of `learner`'s `workshop check`: `<learner>_check_<6 hex>`. No name
    gets it from learner_slug, which hashes every name ending like `_<6 hex>` again (only a
    name whose own hash is those 6 digits could: a chance of 1 in 16 million), so a check
    never touches another learner's chapters, whatever that learner is called."""
    digest = hashlib.sha256(f"workshop check\0{learner}".encode()).hexdigest()[:6]
    return f"{learner[: SLUG_MAX - 13].rstrip('_')}_check_{digest}"
