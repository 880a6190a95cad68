from __future__ import annotations

from pathlib import Path

import pytest

from tariffcalc import Schedule, load_schedule

REPO = Path(__file__).resolve().parents[1]
SCHEDULE_FILE = REPO / "tariffs.yaml"


@pytest.fixture(autouse=True)
def no_user_hts_revisions(tmp_path_factory, monkeypatch):
    """Tests never read HTS revisions the developer imported into their own data folder."""
    empty = tmp_path_factory.mktemp("hts-data")
    monkeypatch.setenv("TARIFFCALC_HTS_DATA", str(empty))
    monkeypatch.setenv("TARIFFCALC_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def schedule() -> Schedule:
    return load_schedule(SCHEDULE_FILE)
