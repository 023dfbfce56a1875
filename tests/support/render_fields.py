"""Moved into the package (the tools' --demo uses it): pose.families.openpose.demo.fields."""
from pose.families.openpose.demo.fields import *  # noqa: F401,F403
