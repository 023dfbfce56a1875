"""The errors the tools turn into one line on stderr, and the exit codes they use.

Every failure a user can cause (a bad option, a missing file, a full disk) is one of
these, raised by the module that owns the rule; pose.cli prints it and exits with its
`exit_code`. Anything else is a bug.
"""
from __future__ import annotations

from typing import Optional

EXIT_OK = 0
EXIT_FAILED = 1  # an input or output problem (other inputs may have been processed)
EXIT_USAGE = 2  # a bad option value, missing or unusable model files
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), what shells report for it
EXIT_TERMINATED = 143  # SIGTERM (kill, systemd, Docker, CI)
EXIT_HANGUP = 129  # SIGHUP (the terminal closed), stopped as SIGTERM stops
EXIT_BROKEN_PIPE = 141  # stdout closed (`tool | head`), as for a tool killed by SIGPIPE


class PoseError(RuntimeError):
    """A problem the user can fix; the message is one line."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: Optional[int] = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class NetworkError(PoseError):
    """Loading or placing the network failed (files, engine, device)."""


class InputError(PoseError):
    """An input (image, video, stream) that cannot be used."""


class OutputError(PoseError):
    """An output that cannot be written."""


class UsageError(PoseError, ValueError):
    """An option or argument value the tools cannot use."""

    exit_code = EXIT_USAGE
