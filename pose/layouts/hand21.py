"""A hand's 21 keypoints (OpenPose's and COCO-WholeBody's order): the wrist, then each
finger from its base to its tip; "right"/"left" hands are the person's."""
from pose.core.layout import Layout

KEYPOINTS = ("Wrist",) + tuple(f"{finger}{k}" for finger in ("Thumb", "Index", "Middle", "Ring", "Pinky")
                               for k in range(1, 5))
# OpenPose's HAND_PAIRS_RENDER: each finger from the wrist, base to tip.
BONES = tuple(pair for f in range(5) for pair in ((0, 4 * f + 1), (4 * f + 1, 4 * f + 2),
                                                   (4 * f + 2, 4 * f + 3), (4 * f + 3, 4 * f + 4)))
# OpenPose's HAND_COLORS_RENDER (RGB) per keypoint: grey wrist, then red, yellow, green,
# blue and magenta fingers, darker at the base.
COLORS_RGB = (
    (100, 100, 100),
    (100, 0, 0), (150, 0, 0), (200, 0, 0), (255, 0, 0),
    (100, 100, 0), (150, 150, 0), (200, 200, 0), (255, 255, 0),
    (0, 100, 50), (0, 150, 75), (0, 200, 100), (0, 255, 125),
    (0, 50, 100), (0, 75, 150), (0, 100, 200), (0, 125, 255),
    (100, 0, 100), (150, 0, 150), (200, 0, 200), (255, 0, 255),
)

HAND21 = Layout("HAND", KEYPOINTS, BONES, COLORS_RGB)
