"""Optional on-screen windows (--display).

The seed called cv2.imshow + waitKey(0) unconditionally, which blocks batch runs and
aborts on machines without a display (Qt exits the process when it cannot connect).
Windows are opened only when asked for and when a display is reachable; otherwise one
warning and the run goes on without them.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Dict

import cv2
import numpy as np

log = logging.getLogger("pose")
QUIT_KEYS = (ord("q"), 27)  # q, Esc


def display_available() -> bool:
    """Whether a window can be opened. On Linux that needs an X or Wayland display;
    checking first matters because Qt aborts the process rather than raise."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class Viewer:
    """Shows images in named windows when enabled and possible; a no-op otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and self._check()

    def _check(self) -> bool:
        if display_available():
            return True
        log.warning("--display: no display available (DISPLAY is not set); not showing windows")
        return False

    def _show(self, windows: Dict[str, np.ndarray]) -> bool:
        try:
            for title, image in windows.items():
                cv2.imshow(title, image)
            return True
        except cv2.error as exc:
            log.warning(f"--display: cannot open a window ({str(exc).strip().splitlines()[-1]}); "
                      "not showing windows")
            self.enabled = False
            return False

    def show_and_wait(self, windows: Dict[str, np.ndarray]) -> None:
        """Show and wait for a key (images); q or Esc stops showing later images."""
        if self.enabled and self._show(windows):
            if (cv2.waitKey(0) & 0xFF) in QUIT_KEYS:
                self.close()

    def show(self, windows: Dict[str, np.ndarray]) -> bool:
        """Show without waiting (video); False when the user pressed q or Esc."""
        if self.enabled and self._show(windows):
            return (cv2.waitKey(1) & 0xFF) not in QUIT_KEYS
        return True

    def close(self) -> None:
        if self.enabled:
            self.enabled = False
            try:
                cv2.destroyAllWindows()
            except cv2.error:
                pass
