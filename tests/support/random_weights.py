"""Random weights of the exact architectures, for tests and benchmarks (the real
weights can never be downloaded where the project is tested)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np

from pose.runtime.caffemodel import write_caffemodel


def random_weights(layers: Sequence, seed: int = 0) -> Dict[str, List[np.ndarray]]:
    """Seeded He-initialised weights and small biases for every convolution, and a
    negative slope per channel for every PReLU.

    He scaling keeps activations of the ~100-layer ReLU stack in a sane range, so the
    random nets produce finite, non-trivial outputs for every stage cut. A PReLU passes
    (1 + slope²) times the variance a ReLU would, compounding over BODY_25's ~100 of
    them, so its slopes stay small; nets without PReLU draw exactly what they always did.
    """
    rng = np.random.default_rng(seed)
    channels = {"image": 3}
    out: Dict[str, List[np.ndarray]] = {}
    for layer in layers:
        if layer.type == "Convolution":
            cin = channels[layer.bottoms[0]]
            fan_in = cin * layer.kernel * layer.kernel
            w = rng.standard_normal((layer.num_output, cin, layer.kernel, layer.kernel), dtype=np.float32)
            w *= np.float32(np.sqrt(2.0 / fan_in))
            b = rng.uniform(-0.05, 0.05, layer.num_output).astype(np.float32)
            out[layer.name] = [w, b]
            channels[layer.top] = layer.num_output
        elif layer.type == "PReLU":
            # Caffe's blob for a per-channel PReLU: shape [channels].
            out[layer.name] = [rng.uniform(0.05, 0.25, channels[layer.bottoms[0]]).astype(np.float32)]
            channels[layer.top] = channels[layer.bottoms[0]]
        elif layer.type == "Concat":
            channels[layer.top] = sum(channels[b] for b in layer.bottoms)
        else:
            channels[layer.top] = channels[layer.bottoms[0]]
    return out


def write_random_caffemodel(path: Union[str, Path], layers: Sequence, seed: int = 0) -> Path:
    """A .caffemodel with random weights for every convolution and PReLU of `layers`."""
    weights = random_weights(layers, seed)
    return write_caffemodel(path, ((l.name, l.type, l.bottoms, (l.top,), weights[l.name])
                                   for l in layers if l.name in weights))
