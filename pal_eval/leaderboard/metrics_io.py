"""Read the metric JSONs of ``pal-eval evaluate`` as one flat ``{name: value}`` mapping.

The three formats (issue 3; all values are fractions in [0, 1]):

* detection: ``{"tiou_thresholds": [...], "mAP": [...], "average_mAP": x, "ap_per_class": {}}``
  gives ``average_mAP`` and ``mAP@<t>`` for every threshold ``t``;
* proposals: ``{"tiou_thresholds": [...], "AR@1": .., ..., "AUC": .., "curve": {...}}``
  gives ``AR@<n>`` and ``AUC``;
* grounding: ``{"R@1,IoU=0.5": .., ..., "mIoU": ..}`` gives every number as is.

Any other top-level number (e.g. ``GMACs_per_video`` written by
``benchmarks/table1_clip_number.py``) is kept under its own name, so leaderboards and
regression baselines address every metric by one name.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping

from pal_eval.errors import InputError
from pal_eval.io import read_json

#: keys that hold structure rather than a headline number
_STRUCTURED_KEYS = ('tiou_thresholds', 'mAP', 'ap_per_class', 'curve')


def threshold_name(prefix: str, threshold: float) -> str:
    """Name of a per-threshold metric, with the threshold written the short way.

    Examples:
        >>> threshold_name('mAP', 0.5), threshold_name('mAP', 0.75000000001)
        ('mAP@0.5', 'mAP@0.75')
    """
    return f'{prefix}@{round(float(threshold), 6):g}'


def flatten_metrics(metrics: Mapping, path: str | os.PathLike = '<metrics>') -> dict[str, float]:
    """Flatten one metric JSON object into ``{metric name: float}``.

    Args:
        metrics: The parsed JSON object.
        path: Its file, named in errors.

    Returns:
        Headline metrics by name (``average_mAP``, ``mAP@0.5``, ``AR@100``, ``AUC``,
        ``R@1,IoU=0.5``, ``mIoU``, ...).

    Raises:
        InputError: not an object, a value that is not a finite number, or ``mAP`` and
            ``tiou_thresholds`` of different lengths.

    Examples:
        >>> flatten_metrics({'tiou_thresholds': [0.5, 0.75], 'mAP': [0.4, 0.2],
        ...                  'average_mAP': 0.3})
        {'average_mAP': 0.3, 'mAP@0.5': 0.4, 'mAP@0.75': 0.2}
    """
    if not isinstance(metrics, Mapping):
        raise InputError(path, 'expected a JSON object of metrics')
    flat: dict[str, float] = {}
    for name, value in metrics.items():
        if name in _STRUCTURED_KEYS or isinstance(value, (Mapping, list)):
            continue
        flat[str(name)] = _finite(value, path, str(name))
    if 'mAP' in metrics:
        thresholds = metrics.get('tiou_thresholds')
        per_threshold = metrics['mAP']
        if not isinstance(thresholds, list) or not isinstance(per_threshold, list) or \
                len(thresholds) != len(per_threshold):
            raise InputError(path, 'needs "tiou_thresholds" and "mAP" lists of equal length',
                             field='mAP')
        for threshold, value in zip(thresholds, per_threshold):
            flat[threshold_name('mAP', _finite(threshold, path, 'tiou_thresholds'))] = \
                _finite(value, path, 'mAP')
    return flat


def load_metrics(path: str | os.PathLike) -> dict[str, float]:
    """Read and flatten one metric JSON file (see :func:`flatten_metrics`)."""
    return flatten_metrics(read_json(path), path)


def _finite(value, path, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise InputError(path, f'expected a finite number, got {value!r}', field=field)
    return float(value)
