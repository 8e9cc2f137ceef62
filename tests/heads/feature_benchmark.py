"""A tiny two-class feature benchmark shared by the BMN and G-TAD tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_benchmark(root: Path, *, seed: int, signal: float, num_train: int = 8,
                         num_val: int = 4, dim: int = 16) -> None:
    """Write ``root/features`` (one feature every 0.5 s) and ``root/anet.json``.

    Class 'a' adds ``signal`` to the first half of the channels during its action,
    class 'b' to the second half; videos alternate a / b, the first ``num_train`` are
    the training subset, the rest validation.
    """
    from pal_eval.data.features import write_video_features
    from pal_eval.io import write_json

    rng = np.random.default_rng(seed)
    database = {}
    for i in range(num_train + num_val):
        video_id, length = f'v{i:02d}', int(rng.integers(40, 60))
        label = 'ab'[i % 2]
        start = int(rng.integers(2, length // 2))
        end = int(rng.integers(start + 6, length - 2))
        features = rng.normal(0, 0.3, size=(length, dim)).astype(np.float32)
        channels = slice(0, dim // 2) if label == 'a' else slice(dim // 2, dim)
        features[start:end, channels] += signal
        write_video_features(root / 'features', video_id, features,
                             0.5 * np.arange(length) + 0.25, duration=0.5 * length)
        database[video_id] = dict(
            subset='training' if i < num_train else 'validation', duration=0.5 * length,
            annotations=[dict(segment=[0.5 * start, 0.5 * end], label=label)])
    taxonomy = [dict(nodeId=0, nodeName='Root', parentId=None, parentName=None)] + [
        dict(nodeId=j + 1, nodeName=name, parentId=0, parentName='Root')
        for j, name in enumerate('ab')]
    write_json(root / 'anet.json', dict(version='VERSION 1.3', taxonomy=taxonomy,
                                        database=database))
