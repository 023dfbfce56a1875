"""OpenPose's face: the 68 landmarks of the iBUG 300-W layout, then the two pupils; "R" is
the person's right, on the image's left for a face looking at the camera."""
from pose.core.layout import Layout, chain

KEYPOINTS = (tuple(f"Jaw{k}" for k in range(17)) + tuple(f"RBrow{k}" for k in range(5))
             + tuple(f"LBrow{k}" for k in range(5)) + tuple(f"NoseBridge{k}" for k in range(4))
             + tuple(f"Nostrils{k}" for k in range(5)) + tuple(f"REye{k}" for k in range(6))
             + tuple(f"LEye{k}" for k in range(6)) + tuple(f"OuterLip{k}" for k in range(12))
             + tuple(f"InnerLip{k}" for k in range(8)) + ("RPupil", "LPupil"))
# OpenPose's FACE_PAIRS_RENDER: jaw, brows, nose bridge and nostrils open; eyes and lips closed.
IBUG68_BONES = (chain(0, 16) + chain(17, 21) + chain(22, 26) + chain(27, 30) + chain(31, 35)
                + chain(36, 41, True) + chain(42, 47, True) + chain(48, 59, True) + chain(60, 67, True))
COLORS_RGB = ((255, 255, 255),) * len(KEYPOINTS)  # FACE_COLORS_RENDER: all white

FACE70 = Layout("FACE", KEYPOINTS, IBUG68_BONES, COLORS_RGB)
