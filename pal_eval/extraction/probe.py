"""Linear probe of extracted features: a cheap feature-quality score without training a head.

Every feature (row of ``<video>.npy``) gets a label from the ground truth through its centre
time: foreground when the centre lies inside an action instance of its video, and then that
instance's class. Two scikit-learn logistic regressions (on standardised features) are
cross-validated with ``GroupKFold`` by video, so no video is in both the training and the
test folds (neighbouring features of one video are near duplicates and would leak):

* foreground/background: accuracy, balanced accuracy and average precision (AP) of the
  foreground probability, next to the chance AP (the foreground rate);
* action class, on foreground features only: accuracy next to the majority-class rate.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pal_eval.errors import PalEvalError


@dataclass
class ProbeData:
    """Features with their labels and video groups."""

    features: np.ndarray    # [N, C]
    foreground: np.ndarray  # [N] bool
    labels: np.ndarray      # [N] object: class name, '' for background
    groups: np.ndarray      # [N] video id


def label_features(video_id: str, centers: np.ndarray,
                   instances: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Foreground mask and class label of each feature centre of one video.

    A centre inside several instances takes the class of the one starting first.

    Examples:
        >>> gt = pd.DataFrame({'video_id': ['v', 'v'], 't_start': [1.0, 5.0],
        ...                    't_end': [2.0, 6.0], 'label': ['a', 'b']})
        >>> fg, labels = label_features('v', np.array([0.5, 1.5, 5.5]), gt)
        >>> fg.tolist(), labels.tolist()
        ([False, True, True], ['', 'a', 'b'])
    """
    rows = instances[instances['video_id'] == video_id].sort_values('t_start', ascending=False)
    labels = np.full(len(centers), '', dtype=object)
    # Later starts first, so the earliest-starting instance wins where instances overlap.
    for t_start, t_end, label in rows[['t_start', 't_end', 'label']].itertuples(index=False):
        labels[(centers >= t_start) & (centers <= t_end)] = label
    return labels != '', labels


def gather(store, instances: pd.DataFrame, video_ids: Iterable[str] | None = None,
           *, max_rows: int = 50_000, seed: int = 0) -> ProbeData:
    """Collect features and labels from a :class:`~pal_eval.data.features.FeatureStore`.

    Args:
        store: The feature folder.
        instances: Canonical ground-truth instances (``video_id, t_start, t_end, label``).
        video_ids: Videos to use (default: those with both features and annotations).
        max_rows: Keep at most this many features (seeded random subset) to bound the cost.
        seed: Seed of that subset.
    """
    annotated = set(instances['video_id'])
    ids = sorted(video_ids if video_ids is not None else
                 [v for v in store.video_ids if v in annotated])
    if not ids:
        raise PalEvalError('no video has both extracted features and annotations '
                           '(ids are the feature file stems)')
    parts = []
    for video_id in ids:
        loaded = store.load(video_id)
        foreground, labels = label_features(video_id, loaded.centers, instances)
        parts.append((loaded.features, foreground, labels,
                      np.full(len(labels), video_id, dtype=object)))
    data = ProbeData(*(np.concatenate(column) for column in zip(*parts)))
    if len(data.features) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(data.features), max_rows,
                                                          replace=False))
        data = ProbeData(data.features[keep], data.foreground[keep], data.labels[keep],
                         data.groups[keep])
    return data


def linear_probe(data: ProbeData, *, folds: int = 5, seed: int = 0) -> dict:
    """Cross-validated (by video) logistic-regression probes.

    Returns:
        ``{'videos', 'features', 'foreground': {accuracy, balanced_accuracy, ap, chance_ap},
        'class': {accuracy, chance_accuracy, num_classes} or None}``.

    Raises:
        PalEvalError: fewer than two videos, or only one of foreground/background present.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, average_precision_score, balanced_accuracy_score
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    num_videos = len(set(data.groups))
    if num_videos < 2:
        raise PalEvalError(f'the probe cross-validates by video and needs >= 2 videos, '
                           f'got {num_videos}')
    if data.foreground.all() or not data.foreground.any():
        raise PalEvalError('every feature is foreground or every one is background: '
                           'nothing to probe')

    def probe() -> object:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000,
                                                                  random_state=seed))

    splitter = GroupKFold(n_splits=min(folds, num_videos))
    try:
        fg_prob = cross_val_predict(probe(), data.features, data.foreground,
                                    groups=data.groups, cv=splitter,
                                    method='predict_proba')[:, 1]
    except ValueError as exc:  # a training fold with a single class
        raise PalEvalError(f'foreground probe failed: {exc}') from None
    result = {
        'videos': num_videos, 'features': len(data.features),
        'foreground': {
            'accuracy': float(accuracy_score(data.foreground, fg_prob >= 0.5)),
            'balanced_accuracy': float(balanced_accuracy_score(data.foreground, fg_prob >= 0.5)),
            'ap': float(average_precision_score(data.foreground, fg_prob)),
            'chance_ap': float(data.foreground.mean()),
        },
        'class': None,
    }
    fg = data.foreground
    classes, counts = np.unique(data.labels[fg].astype(str), return_counts=True)
    fg_videos = len(set(data.groups[fg]))
    if len(classes) >= 2 and fg_videos >= 2:
        try:
            predicted = cross_val_predict(probe(), data.features[fg], data.labels[fg].astype(str),
                                          groups=data.groups[fg],
                                          cv=GroupKFold(n_splits=min(folds, fg_videos)))
        except ValueError as exc:
            raise PalEvalError(f'class probe failed: {exc}') from None
        result['class'] = {
            'accuracy': float(accuracy_score(data.labels[fg].astype(str), predicted)),
            'chance_accuracy': float(counts.max() / counts.sum()),
            'num_classes': int(len(classes)),
        }
    return result
