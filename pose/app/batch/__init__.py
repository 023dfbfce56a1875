"""Many videos in one run of the video tool (see driver for the whole story)."""
