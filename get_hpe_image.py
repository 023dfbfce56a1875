#!/usr/bin/env python3
"""Body keypoints of every person in images: python get_hpe_image.py --help"""
import sys

from pose.cli import image_main

if __name__ == "__main__":
    sys.exit(image_main())
