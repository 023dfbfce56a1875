"""What people are doing: pose classes per frame (classify) and identities and smoothed
labels through a video (track)."""
from pose.analysis.classify import classify, classify_people
from pose.analysis.track import Tracker

__all__ = ["Tracker", "classify", "classify_people"]
