"""Merging sliding-window predictions back per video."""
from __future__ import annotations

import numpy as np

from pal_eval.postprocess.windows import merge_window_predictions


def test_merge_windows_per_class():
    seg, scores, labels = merge_window_predictions(
        [np.array([[0, 10.0]]), np.array([[0, 10.0], [0, 10.0]])],
        [np.array([0.9]), np.array([0.8, 0.6])], [['a'], ['a', 'b']], sigma=0.5)
    # The duplicate 'a' decays by exp(-1 / 0.5); 'b' is another class and keeps 0.6.
    assert labels == ['a', 'b', 'a']
    np.testing.assert_allclose(scores, [0.9, 0.6, 0.8 * np.exp(-2.0)])
    assert seg.shape == (3, 2)
