"""Solutions for chapter 04. Try the exercises first: the notebook's check gives hints.

Both exercises are hands-on: each function does what a learner does in the sandbox (edit the
model, `alembic revision --autogenerate`, review, `alembic upgrade head`)."""

import os
import subprocess
import sys
from pathlib import Path

from workshop_app.workshop.chapter import Chapter


def alembic(ch: Chapter, *args: str) -> None:
    """The real `alembic` command, in the sandbox, as a terminal there runs it."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("DATABASE_URL", None)  # the sandbox's .env says where the chapter's database is
    subprocess.run(
        [f"{bin_dir}/alembic", *args], cwd=ch.sandbox, env=env, check=True, capture_output=True
    )


def next_revision_id(ch: Chapter) -> str:
    numbers = [int(p.name[:4]) for p in (ch.sandbox / "alembic" / "versions").glob("[0-9]*.py")]
    return f"{max(numbers) + 1:04d}"


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text()
    assert source.count(old) == 1, f"{path.name} is not as the chapter left it near {old!r}"
    path.write_text(source.replace(old, new))


# 1. views: NOT NULL needs a server_default for the posts that exist; default=0 for the ORM.
def exercise_1(ch: Chapter) -> None:
    edit(
        ch.sandbox / "blog" / "models.py",
        '    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")\n',
        '    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")\n'
        '    views: Mapped[int] = mapped_column(Integer, default=0, server_default="0")\n',
    )
    alembic(
        ch,
        "revision",
        "--autogenerate",
        "--rev-id",
        next_revision_id(ch),
        "-m",
        "add views to posts",
    )
    # Review: op.add_column("posts", sa.Column("views", ..., server_default="0", nullable=False))
    alembic(ch, "upgrade", "head")


# 2. A server default on an existing column: autogenerate sees it only with
#    compare_server_default=True (the chapter turned it on in env.py). Existing rows keep NULL.
def exercise_2(ch: Chapter) -> None:
    env = ch.sandbox / "alembic" / "env.py"
    if "compare_server_default=True" not in env.read_text():
        edit(
            env,
            "        target_metadata=target_metadata,\n",
            "        target_metadata=target_metadata,\n        compare_server_default=True,\n",
        )
    edit(
        ch.sandbox / "blog" / "models.py",
        "mapped_column(String(200), default=None)",
        'mapped_column(String(200), default=None, server_default="default.jpg")',
    )
    alembic(
        ch, "revision", "--autogenerate", "--rev-id", next_revision_id(ch), "-m", "default picture"
    )
    # Review: op.alter_column("users", "image_file", ..., server_default="default.jpg", ...)
    alembic(ch, "upgrade", "head")
