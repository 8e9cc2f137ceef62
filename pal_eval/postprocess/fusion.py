"""Detections from class-agnostic proposals by video-level classification fusion.

The protocol of BMN/BSN/G-TAD on ActivityNet v1.3: each video gets its top-k classes
(default 2) from a video-level classifier (CUHK's or UntrimmedNet's published scores),
and every proposal becomes one detection per such class with
``score = proposal score x class score``. Using the same class scores is what makes
detection mAPs comparable across papers, so a score file is the first choice.

When no score file exists (the synthetic benchmark, a new data set), a simple
classifier is trained on the same features: multinomial logistic regression
(scikit-learn) on mean-pooled, standardised features, one label per video (the class
covering most of its annotated time). It is weaker than the published classifiers, so
mAPs obtained with it are comparable only with each other.

Score files: ``{"results": {video_id: {class_name: score}}}`` or
``{"results": {video_id: [score per class, in taxonomy order]}}``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pal_eval.errors import InputError, PalEvalError
from pal_eval.io import read_json

__all__ = ['load_class_scores', 'video_class_scores', 'fuse_proposals_with_classes',
           'VideoClassifier', 'dominant_labels']


def load_class_scores(path: str | os.PathLike, taxonomy: Sequence[str]) -> dict[str, np.ndarray]:
    """Read a video-level class score file into ``{video_id: scores [num_classes]}``.

    Args:
        path: JSON file (see the module docstring for the two accepted forms).
        taxonomy: Class names; the output columns follow this order.

    Returns:
        Per-video float64 score vectors in taxonomy order (absent classes score 0).

    Raises:
        InputError: not a mapping under ``results``, unknown class, wrong list length,
            or a non-numeric score, naming the video and the field.
    """
    data = read_json(path)
    results = data.get('results') if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise InputError(path, 'expected an object {"results": {video: scores}}',
                         field='results')
    column = {name: i for i, name in enumerate(taxonomy)}
    out: dict[str, np.ndarray] = {}
    for video_id, entry in results.items():
        vector = np.zeros(len(taxonomy), dtype=np.float64)
        try:
            if isinstance(entry, dict):
                for name, score in entry.items():
                    if name not in column:
                        raise InputError(path, f'unknown class {name!r}', record=video_id,
                                         field='results')
                    vector[column[name]] = float(score)
            elif isinstance(entry, list):
                if len(entry) != len(taxonomy):
                    raise InputError(path, f'{len(entry)} scores for {len(taxonomy)} classes',
                                     record=video_id, field='results')
                vector[:] = np.asarray(entry, dtype=np.float64)
            else:
                raise InputError(path, 'expected a {class: score} object or a list of scores',
                                 record=video_id, field='results')
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(path, 'scores must be numbers', record=video_id,
                             field='results') from None
        out[video_id] = vector
    return out


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


def dominant_labels(instances: pd.DataFrame) -> dict[str, str]:
    """Per video, the label covering most annotated time (the video-level label).

    Args:
        instances: Canonical instances (columns video_id, t_start, t_end, label).

    Examples:
        >>> df = pd.DataFrame({'video_id': ['v', 'v'], 't_start': [0., 5.],
        ...                    't_end': [1., 9.], 'label': ['a', 'b']})
        >>> dominant_labels(df)
        {'v': 'b'}
    """
    if instances.empty:
        return {}
    length = (instances['t_end'] - instances['t_start']).clip(lower=0)
    totals = length.groupby([instances['video_id'], instances['label']]).sum()
    best = totals.groupby(level=0).idxmax()
    return {video: label for video, (_, label) in best.items()}


@dataclass
class VideoClassifier:
    """Video-level classifier: logistic regression on mean-pooled features.

    Built by :meth:`fit`; :meth:`predict_scores` returns class probabilities in taxonomy
    order (classes never seen in training score 0).

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> feats = {f'v{i}': rng.normal(i % 2, .1, (5, 3)) for i in range(6)}
        >>> labels = {f'v{i}': 'ab'[i % 2] for i in range(6)}
        >>> clf = VideoClassifier.fit(feats, labels, ['a', 'b'])
        >>> int(clf.predict_scores(rng.normal(1, .1, (4, 3))).argmax())
        1
    """

    taxonomy: list[str]
    model: object  # sklearn Pipeline

    @classmethod
    def fit(cls, features: Mapping[str, np.ndarray], labels: Mapping[str, str],
            taxonomy: Sequence[str], *, max_iter: int = 1000) -> VideoClassifier:
        """Train on the videos present in both ``features`` ([T, C] arrays) and ``labels``.

        Raises:
            ValueError: fewer than two classes among the labelled videos.
        """
        # sklearn does the fitting; only pooling and column bookkeeping are ours.
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        videos = [v for v in features if v in labels]
        pooled = np.stack([np.asarray(features[v], np.float64).mean(axis=0) for v in videos])
        targets = [labels[v] for v in videos]
        if len(set(targets)) < 2:
            raise ValueError('the video classifier needs at least two classes')
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
        model.fit(pooled, targets)
        return cls(list(taxonomy), model)

    def predict_scores(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities ``[num_classes]`` (taxonomy order) for one video's features."""
        pooled = np.asarray(features, np.float64).mean(axis=0, keepdims=True)
        probabilities = self.model.predict_proba(pooled)[0]
        out = np.zeros(len(self.taxonomy), dtype=np.float64)
        column = {name: i for i, name in enumerate(self.taxonomy)}
        for name, p in zip(self.model.classes_, probabilities):
            out[column[name]] = p
        return out


def video_class_scores(class_fusion: dict) -> tuple[list[str], Callable[[str], np.ndarray]]:
    """Video-level class scores for detection by class fusion (BMN's config schema).

    * ``dict(score_file=..., taxonomy=[...])`` or ``dict(score_file=..., ann_file=...)``
      (taxonomy from the annotations): published classifier scores (CUHK on ActivityNet,
      UntrimmedNet on THUMOS14), the protocol that makes mAPs comparable across papers;
    * ``dict(ann_file=..., feature_dir=..., subset='training')``:
      :class:`VideoClassifier` fitted on the training
      videos' features; any video is then scored from its own features.

    Args:
        class_fusion: One of the dicts above (``top_k_classes`` is ignored here).

    Returns:
        ``(taxonomy, lookup)`` with ``lookup(video_id) -> scores [num_classes]``.

    Raises:
        PalEvalError: no score source, a video missing from the score file, or too few
            classes to train the classifier (one line naming the file).
    """
    from tqdm import tqdm

    from pal_eval.data.annotations import load_actions
    from pal_eval.data.features import FeatureStore

    score_file = class_fusion.get('score_file')
    if score_file:
        taxonomy = class_fusion.get('taxonomy')
        if taxonomy is None:
            if not class_fusion.get('ann_file'):
                raise PalEvalError('class_fusion with a score_file needs taxonomy=[...] or '
                                   'ann_file=... (for the class order)')
            taxonomy = load_actions(class_fusion['ann_file']).taxonomy
        taxonomy = list(taxonomy)
        table = load_class_scores(score_file, taxonomy)

        def from_file(video_id: str) -> np.ndarray:
            if video_id not in table:
                raise InputError(score_file, 'no class scores for this video', record=video_id,
                                 field='results')
            return table[video_id]
        return taxonomy, from_file
    if not (class_fusion.get('ann_file') and class_fusion.get('feature_dir')):
        raise PalEvalError('class_fusion needs score_file=... (published video-level '
                           'scores) or ann_file=... and feature_dir=... (built-in classifier)')
    ann_file = class_fusion['ann_file']
    annotations = load_actions(ann_file, subset=class_fusion.get('subset', 'training'))
    store = FeatureStore(class_fusion['feature_dir'])
    labels = dominant_labels(annotations.instances)
    videos = [v for v in labels if v in store]
    features = {v: store.load(v).features
                for v in tqdm(videos, desc='video classifier: loading features',
                              disable=len(videos) < 500)}
    try:
        classifier = VideoClassifier.fit(features, labels, list(annotations.taxonomy))
    except ValueError as exc:
        raise PalEvalError(f'{ann_file}: cannot train the video classifier on '
                           f'{len(features)} videos with features: {exc}') from None

    def from_classifier(video_id: str) -> np.ndarray:
        return classifier.predict_scores(store.load(video_id).features)
    return list(annotations.taxonomy), from_classifier
