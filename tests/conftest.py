from __future__ import annotations

from pathlib import Path

import pytest

from tariffcalc import Schedule, load_schedule

REPO = Path(__file__).resolve().parents[1]
SCHEDULE_FILE = REPO / "tariffs.yaml"


@pytest.fixture(scope="session")
def schedule() -> Schedule:
    return load_schedule(SCHEDULE_FILE)
