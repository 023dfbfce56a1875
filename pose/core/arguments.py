"""What the three tools share about their command lines: usage errors in one line, and
numbers checked to be finite and in the option's range.

Every numeric option of get_hpe_image, get_hpe_video and getModels.sh goes through
parse_int / parse_float (argparse turns their ValueError into a usage error, exit 2).
float() accepts "nan", "inf" and "1e999", and a NaN passes every comparison-based range
check, so each value is checked for being finite first. No third-party imports:
getModels.sh runs without OpenCV.
"""
from __future__ import annotations

import argparse
import math
from typing import Callable, NoReturn, Optional

from pose.core.errors import EXIT_USAGE


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (its default prints the whole
    usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")

def argument_type(parse: Callable[[str], object], name: str, keep_text: bool = False) -> Callable[[str], object]:
    """An argparse type that calls the owning module's parser: its ValueError becomes
    argparse's one-line usage error (`keep_text`: hand on the text once it is checked)."""
    def convert(text: str) -> object:
        try:
            value = parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text if keep_text else value
    convert.__name__ = name
    return convert


# The largest count any option takes: OpenCV holds frame numbers in 32-bit ints, and no
# count beyond it (frames, people, every Nth frame) can mean anything.
MAX_COUNT = 2**31 - 1


def parse_int(text: str, low: int, high: Optional[int] = MAX_COUNT) -> int:
    """A whole number in [low, high]; ValueError with a one-line reason otherwise."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise ValueError(f"must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {high}, got {value}")
    return value


def parse_float(text: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False,
                unit: str = "") -> float:
    """A finite number in the range [low, high] ('open' ends exclude the bound); -0 is 0."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        raise ValueError(f"must be {'more than' if low_open else 'at least'} {low:g}{unit} and "
                         f"{'less than' if high_open else 'at most'} {high:g}{unit}, got {str(text).strip()}")
    return value + 0.0  # -0.0 + 0.0 is 0.0: "-0" prints as 0 from here on
