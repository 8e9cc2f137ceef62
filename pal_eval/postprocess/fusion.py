"""Detections from class-agnostic proposals by video-level classification fusion.

The protocol of BMN/BSN/G-TAD on ActivityNet v1.3: each video gets its top-k classes
(default 2) from a video-level classifier, and every proposal becomes one detection per
such class with ``score = proposal score x class score``. Pure numpy: where the class
scores come from (a published score file, the built-in classifier) is the heads'
business (:mod:`heads.classifiers`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ['fuse_proposals_with_classes']


def fuse_proposals_with_classes(segments: np.ndarray, scores: np.ndarray,
                                class_scores: np.ndarray, taxonomy: Sequence[str], *,
                                top_k_classes: int = 2
                                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Turn one video's proposals into detections with its top-k video-level classes.

    Args:
        segments: Proposals ``[K, 2]`` (seconds).
        scores: Proposal scores ``[K]``.
        class_scores: The video's class scores ``[num_classes]`` in taxonomy order.
        taxonomy: Class names.
        top_k_classes: How many classes per video (2 in BMN/G-TAD's ActivityNet protocol).

    Returns:
        ``(segments [K*k, 2], scores [K*k], labels)``: for each top class (best first),
        every proposal with score ``proposal score x class score``.

    Examples:
        >>> seg, sc, lab = fuse_proposals_with_classes(
        ...     np.array([[0., 1.]]), np.array([.5]), np.array([.2, .8]), ['a', 'b'])
        >>> sc.tolist(), lab
        ([0.4, 0.1], ['b', 'a'])
    """
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    class_scores = np.asarray(class_scores, dtype=np.float64).reshape(-1)
    top = np.argsort(-class_scores, kind='stable')[:top_k_classes]
    fused_segments = np.tile(segments, (len(top), 1))
    fused_scores = (class_scores[top][:, None] * scores[None, :]).reshape(-1)
    labels = [taxonomy[c] for c in top for _ in range(len(scores))]
    return fused_segments, fused_scores, labels
