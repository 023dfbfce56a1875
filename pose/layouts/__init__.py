"""Every keypoint layout, as data (pose.core.layout.Layout), by name: OpenPose's COCO-18,
MPI-15, BODY_25, hand (21) and face (70), and COCO-17, Halpe-26, BlazePose-33 and
COCO-WholeBody-133 for the families to come."""
from typing import Dict

from pose.core.layout import Layout
from pose.layouts.blazepose33 import BLAZEPOSE33
from pose.layouts.body25 import BODY25
from pose.layouts.coco17 import COCO17
from pose.layouts.coco18 import COCO18
from pose.layouts.face70 import FACE70
from pose.layouts.halpe26 import HALPE26
from pose.layouts.hand21 import HAND21
from pose.layouts.mpi15 import MPI15
from pose.layouts.wholebody133 import WHOLEBODY133

LAYOUTS: Dict[str, Layout] = {layout.name: layout for layout in (
    COCO18, MPI15, BODY25, HAND21, FACE70, COCO17, HALPE26, BLAZEPOSE33, WHOLEBODY133)}

__all__ = ["BLAZEPOSE33", "BODY25", "COCO17", "COCO18", "FACE70", "HALPE26", "HAND21", "LAYOUTS", "MPI15", "WHOLEBODY133"]
