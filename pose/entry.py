"""What the entry scripts and console commands run. Kept free of third-party imports so that a missing
package or system library (cv2 without libGL, say) becomes one line, not a traceback."""
import os
import sys

# The network's engine owns the cores. numpy's BLAS would start its own threads for the
# decoder's few small matrix products, and OpenBLAS keeps idle threads spinning: on 2
# cores that doubled the decoder's CPU time, taken from the network. Set before numpy
# loads; a value the user set wins.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")


def run(tool: str, prog: str = "") -> int:
    """Run get_hpe_<tool>.py ("image" or "video"), or the console command `prog`, and
    return its exit code."""
    prog = prog or f"get_hpe_{tool}.py"
    single_threaded_blas()
    try:
        from pose import cli
    except ImportError as exc:
        print(f"{prog}: error: {exc} (install the requirements: pip install -r requirements.txt)",
              file=sys.stderr)
        return 2
    return (cli.image_main if tool == "image" else cli.video_main)(prog=prog)


def image() -> int:
    """The get-hpe-image console command (pip install .)."""
    return run("image", "get-hpe-image")


def video() -> int:
    """The get-hpe-video console command."""
    return run("video", "get-hpe-video")


def models() -> int:
    """The get-hpe-models console command: getModels.sh for installed packages."""
    try:
        from pose.download.cli import main
    except ImportError as exc:
        print(f"get-hpe-models: error: {exc} (pip install opencv-hpe)", file=sys.stderr)
        return 2
    return main(prog="get-hpe-models")


def evaluate() -> int:
    """The get-hpe-eval console command (and `python -m pose.eval`): AP/AR, PCK and speed of
    any model on annotated images."""
    single_threaded_blas()
    try:
        from pose.eval.cli import main
    except ImportError as exc:
        print(f"get-hpe-eval: error: {exc} (install the requirements: pip install -r requirements.txt)", file=sys.stderr)
        return 2
    return main()
