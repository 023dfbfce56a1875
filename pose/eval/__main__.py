"""python -m pose.eval: get-hpe-eval."""
import sys

from pose.entry import evaluate

sys.exit(evaluate())
