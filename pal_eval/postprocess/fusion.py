"""Detections from class-agnostic proposals by video-level classification fusion.

The protocol of BMN/BSN/G-TAD on ActivityNet v1.3: each video gets its top-k classes
(default 2) from a video-level classifier, and every proposal becomes one detection per
such class with ``score = proposal score x class score``
(:func:`fuse_proposals_with_classes`). The synthetic benchmark's protocol gives every
proposal its own top classes instead (:func:`fuse_proposals_with_proposal_classes`).
Pure numpy: where the class scores come from (a published score file, the built-in
classifiers) is the heads' business (:mod:`heads.classifiers`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ['fuse_proposals_with_classes', 'fuse_proposals_with_proposal_classes']


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


def fuse_proposals_with_proposal_classes(segments: np.ndarray, scores: np.ndarray,
                                         class_scores: np.ndarray, taxonomy: Sequence[str],
                                         *, top_k_classes: int = 2
                                         ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-proposal fusion: each proposal with *its own* top classes, score = product.

    The synthetic benchmark's detection protocol (:class:`heads.classifiers.
    ProposalFeatureClassifier` scores each proposal from the features pooled inside it):
    its videos hold 2.6 classes on average, so the video-level top-2 of
    :func:`fuse_proposals_with_classes` could never label 30-38 % of their instances
    (measured: mAP@0.5 capped near 45 with perfect features; docs/calibration.md).

    Args:
        segments: ``[K, 2]`` proposals.
        scores: ``[K]`` proposal scores.
        class_scores: ``[K, num_classes]`` class probabilities of each proposal.
        taxonomy: Class names (columns of ``class_scores``).
        top_k_classes: Classes per proposal.

    Returns:
        ``(segments [K*k, 2], scores [K*k], labels)``, grouped by proposal.

    Examples:
        >>> seg, sc, lab = fuse_proposals_with_proposal_classes(
        ...     np.array([[0., 1.], [2., 3.]]), np.array([.5, 1.]),
        ...     np.array([[.9, .1], [.2, .8]]), ['a', 'b'], top_k_classes=1)
        >>> sc.tolist(), lab
        ([0.45, 0.8], ['a', 'b'])
    """
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    scores = np.asarray(scores, np.float64).reshape(-1)
    class_scores = np.asarray(class_scores, np.float64).reshape(len(scores), -1)
    k = min(int(top_k_classes), class_scores.shape[1])
    top = np.argsort(-class_scores, axis=1, kind='stable')[:, :k]          # [K, k]
    fused = scores[:, None] * np.take_along_axis(class_scores, top, axis=1)
    labels = [taxonomy[c] for c in top.reshape(-1)]
    return np.repeat(segments, k, axis=0), fused.reshape(-1), labels
