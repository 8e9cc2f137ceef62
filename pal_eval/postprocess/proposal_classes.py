"""Detections by classifying each proposal from the features pooled inside it.

The synthetic benchmark's detection protocol. ActivityNet and THUMOS14 give every
proposal its *video's* top classes (:mod:`pal_eval.postprocess.fusion`), which suits
data sets whose videos hold one action class; synthetic videos hold 2.6 classes on
average, so video-level top-2 fusion can never label 30-38 % of their instances
(measured: mAP@0.5 capped near 45 with perfect features). Here each proposal is
labelled from its own content instead:

* training: the features of each training instance, mean-pooled over the instance
  (:func:`pool_segments`), train a multinomial logistic regression (the classifier of
  :class:`pal_eval.postprocess.fusion.VideoClassifier`, on instances instead of videos;
  :mod:`heads.proposal_classifier`);
* prediction: every proposal's pooled features are classified; the proposal becomes one
  detection per top class (``top_k_classes``) with ``score = proposal score x class
  probability`` (the fusion rule of the video-level protocol, :func:`label_proposals`).

So both the boundaries and the labels come from the features: a better encoder can
only win by carrying more localisation *and* class information.

Config (the ``class_fusion`` dict of G-TAD / BMN, with ``per_proposal=True``)::

    class_fusion=dict(per_proposal=True, ann_file=..., feature_dir=..., subset='training',
                      top_k_classes=2)

This module is the numpy-only core (:func:`pool_segments`, :func:`label_proposals`); the
classifier and the hook into the heads' prediction path are in
:mod:`heads.proposal_classifier`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ['pool_segments', 'label_proposals']


def pool_segments(features: np.ndarray, centers: np.ndarray,
                  segments: np.ndarray) -> np.ndarray:
    """Mean of the features whose centre lies inside each segment.

    A segment containing no centre (shorter than the feature stride) takes the features
    linearly interpolated at its middle.

    Args:
        features: ``[T, C]`` one video's features.
        centers: ``[T]`` their centre times (seconds, increasing).
        segments: ``[K, 2]`` segments (seconds).

    Returns:
        ``[K, C]`` float64.

    Examples:
        >>> feats = np.array([[0.], [1.], [2.], [3.]])
        >>> pool_segments(feats, np.array([.5, 1.5, 2.5, 3.5]),
        ...               np.array([[1., 3.], [1.9, 2.1]])).ravel().tolist()
        [1.5, 1.5]
    """
    features = np.asarray(features, np.float64)
    centers = np.asarray(centers, np.float64)
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    # Prefix sums: the mean over any run of consecutive centres in O(1) per segment.
    prefix = np.concatenate([np.zeros((1, features.shape[1])), np.cumsum(features, axis=0)])
    first = np.searchsorted(centers, segments[:, 0], side='left')
    last = np.searchsorted(centers, segments[:, 1], side='right')
    count = last - first
    pooled = (prefix[last] - prefix[first]) / np.maximum(count, 1)[:, None]
    empty = count <= 0
    if empty.any():
        middle = segments[empty].mean(axis=1)
        position = np.interp(middle, centers, np.arange(len(centers), dtype=np.float64))
        lower = np.floor(position).astype(np.int64)
        upper = np.minimum(lower + 1, len(centers) - 1)
        weight = (position - lower)[:, None]
        pooled[empty] = (1 - weight) * features[lower] + weight * features[upper]
    return pooled


def label_proposals(segments: np.ndarray, scores: np.ndarray, class_scores: np.ndarray,
                    taxonomy: Sequence[str], *, top_k_classes: int = 2
                    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One detection per (proposal, one of its top classes), score = product.

    Args:
        segments: ``[K, 2]`` proposals.
        scores: ``[K]`` proposal scores.
        class_scores: ``[K, num_classes]`` class probabilities of each proposal.
        taxonomy: Class names (columns of ``class_scores``).
        top_k_classes: Classes per proposal.

    Returns:
        ``(segments [K*k, 2], scores [K*k], labels)``, grouped by proposal.

    Examples:
        >>> seg, sc, lab = label_proposals(np.array([[0., 1.], [2., 3.]]), np.array([.5, 1.]),
        ...                                np.array([[.9, .1], [.2, .8]]), ['a', 'b'],
        ...                                top_k_classes=1)
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
