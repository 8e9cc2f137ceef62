"""Metric baselines and floors for CI: ``pal-eval check-regression`` and the end-to-end floors.

Baseline / floors YAML schema (one format for both)::

    # optional: what produced the baseline, shown in messages
    description: G-TAD on the synthetic tiny preset, seed 0
    metrics:
      average_mAP: {value: 0.412, tolerance: 0.02}   # fails when result < 0.412 - 0.02
      AR@100: {floor: 0.55}                          # fails when result < 0.55
      "R@1,IoU=0.5": 0.30                            # a bare number is a floor
      AUC: {value: 0.61, tolerance: 0.02, note: measured 0.63 on 3 seeds, margin 3 std}

Metric names are those of :func:`pal_eval.leaderboard.metrics_io.flatten_metrics`
(``average_mAP``, ``mAP@0.5``, ``AR@100``, ``AUC``, ``R@1,IoU=0.5``, ``mIoU``, ...);
values are fractions in [0, 1] like the metric JSONs. Only drops fail: a metric above its
bound passes however far it rose. A metric named in the baseline but absent from the
results fails too (a silently missing number must not look like a pass).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from pal_eval.errors import InputError
from pal_eval.io import read_yaml


@dataclass(frozen=True)
class MetricBound:
    """The lowest acceptable value of one metric.

    Attributes:
        metric: Metric name.
        minimum: The result must be >= this.
        value: The baseline value when given as ``{value, tolerance}``, else ``None``.
        tolerance: The allowed drop below ``value`` (0 for floors).
        note: Free text (how the bound was set).
    """

    metric: str
    minimum: float
    value: float | None = None
    tolerance: float = 0.0
    note: str = ''

    def describe(self) -> str:
        """``value 0.412 - tolerance 0.02`` or ``floor 0.55``."""
        if self.value is None:
            return f'floor {self.minimum:.6g}'
        return f'baseline {self.value:.6g} - tolerance {self.tolerance:.6g}'


@dataclass(frozen=True)
class RegressionFailure:
    """A metric below its bound (``result`` is ``None`` when the metric is missing)."""

    bound: MetricBound
    result: float | None

    def message(self) -> str:
        """One line naming the metric, the value and the bound."""
        if self.result is None:
            return f'{self.bound.metric}: missing from the results (expected >= ' \
                   f'{self.bound.minimum:.6g})'
        drop = self.result - (self.bound.value if self.bound.value is not None
                              else self.bound.minimum)
        return (f'{self.bound.metric}: {self.result:.6g} < {self.bound.minimum:.6g} '
                f'({self.bound.describe()}; change {drop:+.6g})')


def parse_bounds(metrics: Mapping, path: str | os.PathLike = '<baseline>') -> list[MetricBound]:
    """Turn the ``metrics`` mapping of a baseline into :class:`MetricBound` objects.

    Args:
        metrics: Metric name -> number (floor), ``{floor}`` or ``{value, tolerance}``.
        path: The file, named in errors.

    Returns:
        One bound per metric, in file order.

    Raises:
        InputError: an entry that is none of the three forms, a negative tolerance, a
            value that is not a finite number.

    Examples:
        >>> [b.minimum for b in parse_bounds({'AUC': 0.5, 'AR@100': {'floor': 0.6},
        ...                                   'average_mAP': {'value': 0.4, 'tolerance': 0.1}})]
        [0.5, 0.6, 0.30000000000000004]
    """
    if not isinstance(metrics, Mapping) or not metrics:
        raise InputError(path, 'expected a non-empty mapping metric -> bound', field='metrics')
    bounds = []
    for name, spec in metrics.items():
        name = str(name)
        field = f'metrics.{name}'
        if not isinstance(spec, Mapping):
            floor = _number(spec, path, field)
            bounds.append(MetricBound(name, floor))
            continue
        keys = set(spec) - {'note'}
        note = str(spec.get('note', ''))
        if keys == {'floor'}:
            bounds.append(MetricBound(name, _number(spec['floor'], path, f'{field}.floor'),
                                      note=note))
        elif keys == {'value', 'tolerance'}:
            value = _number(spec['value'], path, f'{field}.value')
            tolerance = _number(spec['tolerance'], path, f'{field}.tolerance')
            if tolerance < 0:
                raise InputError(path, 'must be >= 0', field=f'{field}.tolerance')
            bounds.append(MetricBound(name, value - tolerance, value, tolerance, note))
        else:
            raise InputError(path, 'expected a number (floor), {floor: x} or '
                             '{value: x, tolerance: t}', field=field)
    return bounds


def load_baseline(path: str | os.PathLike) -> list[MetricBound]:
    """Load a baseline or floors YAML file (schema in the module docstring).

    Args:
        path: The YAML file.

    Returns:
        The bounds, in file order.

    Raises:
        InputError: unreadable or malformed file (named, with the field).
    """
    data = read_yaml(path)
    if not isinstance(data, Mapping) or 'metrics' not in data:
        raise InputError(path, 'expected a mapping with a "metrics" section', field='metrics')
    return parse_bounds(data['metrics'], path)


def check_regression(results: Mapping[str, float],
                     bounds: list[MetricBound]) -> list[RegressionFailure]:
    """Every bound the results violate (an empty list means no regression).

    Args:
        results: Flat metrics (see :func:`pal_eval.leaderboard.metrics_io.flatten_metrics`).
        bounds: From :func:`load_baseline`.

    Returns:
        The failures, in the order of ``bounds``.

    Examples:
        >>> bounds = parse_bounds({'AUC': 0.5, 'AR@100': {'value': 0.7, 'tolerance': 0.05}})
        >>> [f.bound.metric for f in check_regression({'AUC': 0.49, 'AR@100': 0.66}, bounds)]
        ['AUC']
    """
    failures = []
    for bound in bounds:
        result = results.get(bound.metric)
        # A tiny slack absorbs float noise in `value - tolerance` (0.7 - 0.05 != 0.65).
        if result is None or result < bound.minimum - 1e-12:
            failures.append(RegressionFailure(bound, result))
    return failures


def _number(value, path, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise InputError(path, f'expected a finite number, got {value!r}', field=field)
    return float(value)
