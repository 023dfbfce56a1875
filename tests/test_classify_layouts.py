"""Classification reads semantic joints, not OpenPose's names: the annotated COCO people
get the same labels in COCO-17 (no neck, no mid-hip: derived from both sides), COCO-18
and BODY_25."""
from pose.analysis.classify import classify
from pose.core.person import Person
from pose.families.openpose.spec import MODELS
from pose.layouts import COCO17
from tests.support.annotations import COCO17_TO, convert

# BODY_25 from COCO-17 alone: the whole-body file's feet would tell BODY_25 more.
BODY25_FROM_COCO17 = COCO17_TO["BODY_25"][:19] + [None] * 6


def _labels(pc):
    return pc.gesture, pc.posture


def test_the_annotated_people_get_the_same_labels_in_coco17_coco18_and_body25(samples):
    coco = [im for im in samples if im.source == "coco"]
    people = [(p17, p18) for im in coco for p17, p18 in zip(im.people["COCO17"], im.people["COCO"])]
    assert len(people) >= 10
    known = 0
    for p17, p18 in people:
        p25 = convert(p17[:, :2], p17[:, 2] > 0, BODY25_FROM_COCO17)
        labels = {_labels(classify(Person(kp, 1.0), layout))
                  for kp, layout in ((p17, COCO17), (p18, MODELS["COCO"]), (p25, MODELS["BODY_25"]))}
        assert len(labels) == 1, labels
        known += "unknown" not in labels.pop()
    assert known >= 3  # the rules decide for some people, not only "unknown" everywhere
