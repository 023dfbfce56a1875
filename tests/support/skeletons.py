"""Moved into the package (the tools' --demo uses it): pose.families.openpose.demo.skeletons."""
from pose.families.openpose.demo.skeletons import *  # noqa: F401,F403
