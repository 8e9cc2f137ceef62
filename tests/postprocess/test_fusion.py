"""Video-level class fusion: products and top-k classes, by hand."""
from __future__ import annotations

import numpy as np

from pal_eval.postprocess.fusion import fuse_proposals_with_classes

TAXONOMY = ['jump', 'run', 'swim']


def test_fusion_products_and_top_k():
    segments = np.array([[0.0, 1.0], [2.0, 5.0]])
    seg, scores, labels = fuse_proposals_with_classes(
        segments, np.array([0.5, 0.25]), np.array([0.1, 0.6, 0.3]), TAXONOMY, top_k_classes=2)
    assert labels == ['run', 'run', 'swim', 'swim']
    np.testing.assert_allclose(scores, [0.3, 0.15, 0.15, 0.075])
    np.testing.assert_array_equal(seg, np.vstack([segments, segments]))
