"""Model families: each a folder that turns frames into people with its own networks,
pre- and post-processing (OpenPose, RTMPose/RTMO, BlazePose). Shared machinery of the
top-down families (one crop per person) is in `pose.families.topdown`."""
