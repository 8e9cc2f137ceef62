"""Small vectorised helpers shared by the evaluators (ids to codes, pairs within groups)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pal_eval.errors import PalEvalError

__all__ = ['codes_in', 'pairs_within_groups', 'check_thresholds']


def codes_in(values: np.ndarray, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 if absent), hashing each distinct value once.

    Examples:
        >>> codes_in(np.array(['b', 'z', 'b'], dtype=object), pd.Index(['a', 'b'])).tolist()
        [1, -1, 1]
    """
    codes, uniques = pd.factorize(values, sort=False)
    positions = index.get_indexer(uniques)
    return np.where(codes >= 0, positions[codes], -1)


def pairs_within_groups(item_group: np.ndarray, member_start: np.ndarray,
                        member_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (item, member) index pair of the same group, without a Python loop.

    Args:
        item_group: ``[N]`` group of each item (-1: none).
        member_start: ``[G]`` first member of each group (members sorted by group).
        member_count: ``[G]`` number of members of each group.

    Returns:
        ``(item, member)`` int arrays, items in increasing order, members in group order.

    Examples:
        >>> items, members = pairs_within_groups(np.array([1, -1, 0]), np.array([0, 2]),
        ...                                      np.array([2, 1]))
        >>> items.tolist(), members.tolist()
        ([0, 2, 2], [2, 0, 1])
    """
    items = np.flatnonzero(item_group >= 0)
    counts = member_count[item_group[items]]
    pair_item = np.repeat(items, counts)
    run_start = np.repeat(np.cumsum(counts) - counts, counts)
    offset = np.arange(pair_item.size) - run_start
    pair_member = np.repeat(member_start[item_group[items]], counts) + offset
    return pair_item, pair_member


def check_thresholds(tiou_thresholds: Sequence[float]) -> np.ndarray:
    """tIoU thresholds as float64, all in (0, 1]; raises :class:`PalEvalError` otherwise."""
    thresholds = np.asarray(list(tiou_thresholds), dtype=np.float64).reshape(-1)
    if thresholds.size == 0 or not np.all((thresholds > 0) & (thresholds <= 1)):
        raise PalEvalError(f'tIoU thresholds must be in (0, 1], got {thresholds.tolist()}')
    return thresholds
