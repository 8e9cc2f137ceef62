"""Detections by classifying each proposal from the features pooled inside it.

The synthetic benchmark's detection protocol. ActivityNet and THUMOS14 give every
proposal its *video's* top classes (:mod:`pal_eval.postprocess.fusion`), which suits
data sets whose videos hold one action class; synthetic videos hold 2.6 classes on
average, so video-level top-2 fusion can never label 30-38 % of their instances
(measured: mAP@0.5 capped near 45 with perfect features). Here each proposal is
labelled from its own content instead:

* training: the features of each training instance, mean-pooled over the instance
  (:func:`pool_segments`), train a multinomial logistic regression (the classifier of
  :class:`pal_eval.postprocess.fusion.VideoClassifier`, on instances instead of videos);
* prediction: every proposal's pooled features are classified; the proposal becomes one
  detection per top class (``top_k_classes``) with ``score = proposal score x class
  probability`` (the fusion rule of the video-level protocol).

So both the boundaries and the labels come from the features: a better encoder can
only win by carrying more localisation *and* class information.

Config (the ``class_fusion`` dict of G-TAD / BMN, with ``per_proposal=True``)::

    class_fusion=dict(per_proposal=True, ann_file=..., feature_dir=..., subset='training',
                      top_k_classes=2)

The core (:func:`pool_segments`, :func:`label_proposals`) is numpy only.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pal_eval.errors import PalEvalError

__all__ = ['pool_segments', 'label_proposals', 'ProposalClassifier',
           'proposal_class_scores', 'fuse_with_proposal_classes']


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


class ProposalClassifier:
    """Logistic regression on instance-pooled features (``fit``), scoring proposals.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> feats = np.concatenate([rng.normal(0, .1, (10, 2)), rng.normal(1, .1, (10, 2))])
        >>> centers = np.arange(20) + 0.5
        >>> clf = ProposalClassifier.fit({'v': (feats, centers)},
        ...     [('v', 0.0, 10.0, 'a'), ('v', 10.0, 20.0, 'b')] * 2, ['a', 'b'])
        >>> clf.predict_scores(feats, centers, np.array([[12.0, 18.0]])).argmax()
        np.int64(1)
    """

    def __init__(self, taxonomy: Sequence[str], model):
        self.taxonomy = list(taxonomy)
        self.model = model
        column = {name: i for i, name in enumerate(self.taxonomy)}
        self._columns = np.array([column[name] for name in model.classes_])

    @classmethod
    def fit(cls, videos: dict, instances: Sequence[tuple[str, float, float, str]],
            taxonomy: Sequence[str], *, max_iter: int = 1000) -> ProposalClassifier:
        """Train on instances ``(video_id, t_start, t_end, label)`` of ``videos``.

        Args:
            videos: Video id -> ``(features [T, C], centers [T])``.
            instances: Training instances (those of videos without features are skipped).
            taxonomy: Class names (the output columns).
            max_iter: Solver iterations.

        Raises:
            ValueError: fewer than two classes among the usable instances.
        """
        # scikit-learn does the fitting (the video-level classifier's pipeline).
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        pooled, labels = [], []
        by_video: dict[str, list] = {}
        for video_id, start, end, label in instances:
            if video_id in videos:
                by_video.setdefault(video_id, []).append((start, end, label))
        for video_id, rows in by_video.items():
            features, centers = videos[video_id]
            pooled.append(pool_segments(features, centers,
                                        np.array([(s, e) for s, e, _ in rows])))
            labels += [label for _, _, label in rows]
        if len(set(labels)) < 2:
            raise ValueError('the proposal classifier needs at least two classes')
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
        model.fit(np.concatenate(pooled), labels)
        return cls(taxonomy, model)

    def predict_scores(self, features: np.ndarray, centers: np.ndarray,
                       segments: np.ndarray) -> np.ndarray:
        """Class probabilities ``[K, num_classes]`` (taxonomy order) of each segment."""
        segments = np.asarray(segments, np.float64).reshape(-1, 2)
        out = np.zeros((len(segments), len(self.taxonomy)))
        if len(segments):
            out[:, self._columns] = self.model.predict_proba(
                pool_segments(features, centers, segments))
        return out


def proposal_class_scores(class_fusion: dict
                          ) -> tuple[list[str], Callable[[str, np.ndarray], np.ndarray]]:
    """The classifier of a ``class_fusion`` dict with ``per_proposal=True``.

    Args:
        class_fusion: ``dict(ann_file=..., feature_dir=..., subset='training', ...)``.

    Returns:
        ``(taxonomy, score)`` with ``score(video_id, segments [K, 2] seconds) ->
        [K, num_classes]``.

    Raises:
        PalEvalError: missing keys, or too few classes to train on (one line).
    """
    from pal_eval.data.annotations import load_activitynet
    from pal_eval.data.features import FeatureStore

    if not (class_fusion.get('ann_file') and class_fusion.get('feature_dir')):
        raise PalEvalError('class_fusion with per_proposal=True needs ann_file=... and '
                           'feature_dir=...')
    ann_file = class_fusion['ann_file']
    annotations = load_activitynet(ann_file, subset=class_fusion.get('subset', 'training'))
    store = FeatureStore(class_fusion['feature_dir'])
    videos = {}
    for video_id in annotations.instances['video_id'].unique():
        if video_id in store:
            loaded = store.load(video_id)
            videos[video_id] = (loaded.features, loaded.centers)
    rows = annotations.instances[['video_id', 't_start', 't_end', 'label']].itertuples(
        index=False, name=None)
    try:
        classifier = ProposalClassifier.fit(videos, list(rows), list(annotations.taxonomy))
    except ValueError as exc:
        raise PalEvalError(f'{ann_file}: cannot train the proposal classifier on '
                           f'{len(videos)} videos with features: {exc}') from None
    cache: dict[str, tuple] = {}

    def score(video_id: str, segments: np.ndarray) -> np.ndarray:
        if video_id not in cache:
            loaded = store.load(video_id)
            cache.clear()  # one video at a time: its windows come together
            cache[video_id] = (loaded.features, loaded.centers)
        return classifier.predict_scores(*cache[video_id], segments)
    return list(annotations.taxonomy), score


_CLASSIFIERS: dict[str, tuple] = {}


def fuse_with_proposal_classes(class_fusion: dict, video_id: str, segments: np.ndarray,
                               scores: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Detections of one video's proposals (seconds) by per-proposal classification.

    The hook a head's prediction path calls instead of video-level fusion when
    ``class_fusion['per_proposal']`` is set; the classifier is trained once per
    ``class_fusion`` config and process.
    """
    key = repr(sorted(class_fusion.items()))
    if key not in _CLASSIFIERS:
        _CLASSIFIERS[key] = proposal_class_scores(class_fusion)
    taxonomy, score = _CLASSIFIERS[key]
    return label_proposals(segments, scores, score(video_id, segments), taxonomy,
                           top_k_classes=class_fusion.get('top_k_classes', 2))
