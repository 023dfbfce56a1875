"""What batch workers tell the driver, one type per kind of news. The same records travel
through a thread's queue, a process's queue (so they pickle) and back from Ray actors;
`index` is the worker's number in its pool."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Union

# How often a worker tells the progress bar about frames done.
FRAME_REPORT_S = 0.25
# For workers to finish their frame and exit before they are ended.
SHUTDOWN_WAIT_S = 10


@dataclass(frozen=True)
class Ready:
    """The worker loaded its model: the tools' first line and the load's warnings."""

    index: int
    label: str
    warnings: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fatal:
    """The worker could not load its model: the whole batch stops with this error."""

    index: int
    message: str
    exit_code: int


@dataclass(frozen=True)
class Frames:
    """`count` more frames done since the last report (for the progress bar)."""

    index: int
    count: int


@dataclass(frozen=True)
class Done:
    """A video ended: its record (status done, failed, busy or cancelled)."""

    index: int
    record: dict


@dataclass(frozen=True)
class Died:
    """The worker ended without a goodbye (killed, out of memory, a lost Ray node)."""

    index: int
    message: str


@dataclass(frozen=True)
class Exited:
    """The worker took its last video and stopped."""

    index: int


Event = Union[Ready, Fatal, Frames, Done, Died, Exited]
