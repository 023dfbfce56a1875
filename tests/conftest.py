import functools
import logging
import shutil
import subprocess
import sys
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


def _tmpfs(mount, options: str):
    mount.mkdir()
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("needs Linux mount")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs: a disk that fills up. Needs root (or CAP_SYS_ADMIN); else skipped."""
    yield from _tmpfs(tmp_path / "small", "size=64k")


@pytest.fixture
def read_only_dir(tmp_path):
    """A read-only tmpfs (root ignores a folder's permission bits, not a read-only mount)."""
    yield from _tmpfs(tmp_path / "ro", "ro,size=64k")


@pytest.fixture
def read_only_coco(tmp_path, coco):
    """--proto/--weights of the narrow COCO net on a read-only mount (a shared install)."""
    mount = tmp_path / "weights"
    for _ in _tmpfs(mount, "size=16m"):
        copies = [shutil.copy(Path(coco[i]), mount) for i in (1, 3)]
        r = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot remount read-only: {r.stderr.strip()}")
        yield ["--proto", copies[0], "--weights", copies[1]]


@pytest.fixture(scope="session")
def coco(model_dir):
    """--proto/--weights of a narrow random COCO net (tests that need no accuracy)."""
    from pose.families.openpose.spec import MODELS
    from tests.support.cli_tools import model_args
    from tests.support.nets import write_model
    return model_args(*write_model(model_dir, MODELS["COCO"]))
