"""Benchmarks: `python -m benchmarks.<name>`. They time what the tools run, so numpy's BLAS
is held to one thread here too, as pose.entry does for the tools, before numpy loads."""
from pose.entry import single_threaded_blas

single_threaded_blas()
