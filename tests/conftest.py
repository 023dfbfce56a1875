import functools
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


@functools.lru_cache(maxsize=1)
def _annotated(root: Path):
    from tests.support.annotations import load_all
    return load_all(root)


@pytest.fixture
def samples(shared_dir):
    """Every annotated image of ../shared/annotations, loaded once per run (shared_dir is
    function-scoped, so the cache is here)."""
    return _annotated(shared_dir / "annotations")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """One folder of narrow random-weight models shared by the whole run."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def pose_warnings(caplog):
    """The warnings the package logged (logger "pose") so far in this test, as text."""
    caplog.set_level(logging.WARNING, logger="pose")
    return lambda: [r.getMessage() for r in caplog.records if r.name.startswith("pose")]


@pytest.fixture(scope="session")
def blazepose_models() -> Path:
    """BlazePose's real weights (both files, SHA-256 checked), fetched once from the
    mediapipe 0.10.21 wheel with pip into the models folder (pose/blazepose in a checkout:
    what ./getModels.sh blazepose fills) and kept there for later runs. Skipped with the
    reason only where pip cannot fetch the wheel."""
    from pose.families.blazepose import weights

    try:
        files = weights.ensure(weights.default_dir(), sources=("wheel",))
    except weights.WeightsError as exc:
        pytest.skip(f"BlazePose weights unavailable (pip could not fetch the mediapipe wheel): {exc}")
    return files["detector"].parent
