"""Moved into the package (the tools' --demo uses it): pose.families.openpose.demo.oracle."""
from pose.families.openpose.demo.oracle import *  # noqa: F401,F403
