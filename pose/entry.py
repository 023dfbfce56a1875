"""What the two entry scripts run. Kept free of third-party imports so that a missing
package or system library (cv2 without libGL, say) becomes one line, not a traceback."""
import sys


def run(tool: str) -> int:
    """Run get_hpe_<tool>.py ("image" or "video") and return its exit code."""
    try:
        from pose import cli
    except ImportError as exc:
        print(f"get_hpe_{tool}.py: error: {exc} (install the requirements: pip install -r requirements.txt)",
              file=sys.stderr)
        return 2
    return cli.image_main() if tool == "image" else cli.video_main()


def image() -> int:
    """The get-hpe-image console command (pip install .)."""
    return run("image")


def video() -> int:
    """The get-hpe-video console command."""
    return run("video")


def models() -> int:
    """The get-hpe-models console command: getModels.sh for installed packages."""
    try:
        from pose.download.cli import main
    except ImportError as exc:
        print(f"get-hpe-models: error: {exc} (pip install opencv-hpe)", file=sys.stderr)
        return 2
    return main()
