#!/usr/bin/env python3
"""Body keypoints of every person in a video: python get_hpe_video.py --help"""
import sys

from pose.entry import run

if __name__ == "__main__":
    sys.exit(run("video"))
