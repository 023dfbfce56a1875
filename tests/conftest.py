import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip cleanly without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """One folder of narrow random-weight models shared by the whole run."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def pose_warnings(caplog):
    """The warnings the package logged (logger "pose") so far in this test, as text."""
    caplog.set_level(logging.WARNING, logger="pose")
    return lambda: [r.getMessage() for r in caplog.records if r.name.startswith("pose")]
