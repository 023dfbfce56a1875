"""Moved into the package (the tools' --demo uses it): pose.families.openpose.demo.inverses."""
from pose.families.openpose.demo.inverses import *  # noqa: F401,F403
