"""The workshop's own settings: given values, then the environment, then the checkout's .env."""

from pathlib import Path

import pytest

from workshop_app.workshop.errors import WorkshopError
from workshop_app.workshop.settings import WorkshopSettings


def test_the_environment_wins_over_env_file_and_empty_means_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "WORKSHOP_LEARNER=from_file\nWORKSHOP_PG_PORT=55432\nWORKSHOP_DATA_DIR=~/pgdata\n"
        "JUPYTERHUB_USER=\n"
    )
    for name in ("WORKSHOP_LEARNER", "WORKSHOP_PG_PORT", "WORKSHOP_DATA_DIR", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    from_file = WorkshopSettings(env_file)
    assert from_file.workshop_learner == "from_file" and from_file.workshop_pg_port == 55432
    assert from_file.workshop_data_dir == Path.home() / "pgdata"
    assert from_file.jupyterhub_user is None
    monkeypatch.setenv("WORKSHOP_LEARNER", "from_env")
    assert WorkshopSettings(env_file).workshop_learner == "from_env"
    given = WorkshopSettings(env_file, workshop_learner="given")
    assert given.workshop_learner == "given"
    assert WorkshopSettings(None).workshop_pg_port is None  # no file read


def test_a_port_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_PG_PORT", "5432x")
    with pytest.raises(WorkshopError, match="WORKSHOP_PG_PORT='5432x' is not a number"):
        WorkshopSettings(None)


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(TypeError, match="workshop_lerner"):
        WorkshopSettings(None, workshop_lerner="x")
