#!/usr/bin/env python3
"""Body keypoints of every person in a video: python get_hpe_video.py --help"""
import sys

try:
    from pose.cli import video_main
except ImportError as exc:  # a missing package or system library: one line, not a traceback
    print(f"get_hpe_video.py: error: {exc} (install the requirements: pip install -r requirements.txt)",
          file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(video_main())
