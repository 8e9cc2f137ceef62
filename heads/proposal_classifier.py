"""Per-proposal classification for detection: the classifier and the heads' hook.

The synthetic benchmark's detection protocol (:mod:`pal_eval.postprocess.proposal_classes`
has its numpy core and the reasons): a logistic regression on instance-pooled features
labels each proposal from the features pooled inside it. Config (the ``class_fusion``
dict of G-TAD, with ``per_proposal=True``)::

    class_fusion=dict(per_proposal=True, ann_file=..., feature_dir=..., subset='training',
                      top_k_classes=2)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pal_eval.errors import PalEvalError
from pal_eval.postprocess.proposal_classes import label_proposals, pool_segments

__all__ = ['ProposalClassifier', 'proposal_class_scores', 'fuse_with_proposal_classes']


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
