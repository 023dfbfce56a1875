#!/usr/bin/env python3
"""Body keypoints of every person in images: python get_hpe_image.py --help"""
import sys

try:
    from pose.cli import image_main
except ImportError as exc:  # a missing package or system library: one line, not a traceback
    print(f"get_hpe_image.py: error: {exc} (install the requirements: pip install -r requirements.txt)",
          file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(image_main())
