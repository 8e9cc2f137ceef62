"""Video-level class scores for detection by class fusion, as registered objects.

The protocol of BMN/BSN/G-TAD on ActivityNet v1.3 turns class-agnostic proposals into
detections with each video's top classes (``pal_eval.postprocess.fusion``). The scores
come from one of two registered objects, picked by ``type=`` in the model's
``class_fusion`` and built once by :class:`heads.base.BaseTemporalLocalizer`:

* :class:`ScoreFileClassifier`: published classifier scores (CUHK on ActivityNet,
  UntrimmedNet on THUMOS14). Using the same scores is what makes detection mAPs
  comparable across papers, so a score file is the first choice.
* :class:`FeatureVideoClassifier`: when no score file exists (the synthetic benchmark, a
  new data set), multinomial logistic regression (scikit-learn) on mean-pooled,
  standardised features of the training videos, one label per video (the class covering
  most of its annotated time). It is weaker than the published classifiers, so mAPs
  obtained with it are comparable only with each other.

Both expose ``taxonomy`` (class names, the order of the scores) and ``scores(video_id)``;
both load lazily (on the first prediction) and keep what they loaded.

* :class:`ProposalFeatureClassifier` (``per_proposal = True``): the synthetic benchmark's
  protocol, which labels each *proposal* from the features pooled inside it (logistic
  regression trained on the training instances), so that both boundaries and labels come
  from the features; it exposes ``segment_scores(video_id, segments)`` and the base fuses
  with :func:`pal_eval.postprocess.fusion.fuse_proposals_with_proposal_classes`.

Score files (:func:`read_class_scores`): ``{"results": {video_id: {class_name: score}}}``,
``{"results": {video_id: [scores]}, "class": [names]}`` (CUHK, its own class order),
``{"results": {video_id: [score per class, in taxonomy order]}}``, or UntrimmedNet's
THUMOS14 ``uNet_test.npy`` (G-TAD / BSN).

Config (``top_k_classes`` is the fusion's, the rest the classifier's)::

    class_fusion=dict(type='ScoreFileClassifier', score_file=..., ann_file=...,
                      top_k_classes=2)
    class_fusion=dict(type='FeatureVideoClassifier', ann_file=..., feature_dir=...,
                      subset='training', top_k_classes=2)
    class_fusion=dict(type='ProposalFeatureClassifier', ann_file=..., feature_dir=...,
                      subset='training', top_k_classes=2)

Without ``type`` the keys pick it (``score_file``: the score file; ``ann_file`` and
``feature_dir``: the built-in classifier), as configs written before these objects did.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mmaction.registry import MODELS

from pal_eval.core.resample import pool_segments
from pal_eval.data.annotations import load_actions
from pal_eval.errors import InputError, PalEvalError
from pal_eval.io import read_json

__all__ = ['read_class_scores', 'dominant_labels', 'VideoClassifier', 'ScoreFileClassifier',
           'FeatureVideoClassifier', 'ProposalClassifier', 'ProposalFeatureClassifier',
           'build_video_classifier']

#: Raised when class fusion is asked for and nothing can score a video.
NO_SOURCE = ('class_fusion needs score_file=... (published video-level scores) or '
             'ann_file=... and feature_dir=... (built-in classifier)')


def read_class_scores(path: str | os.PathLike, taxonomy: Sequence[str]) -> dict[str, np.ndarray]:
    """Read a video-level class score file into ``{video_id: scores [num_classes]}``.

    Formats:

    * JSON ``{"results": {video: {class: score}}}``;
    * JSON ``{"results": {video: [score, ...]}, "class": [name, ...]}``: the CUHK
      ActivityNet classifier (``cuhk_val_simp_share.json``) lists its own class order in
      ``"class"``, which is *not* the taxonomy's: scores are re-ordered by name;
    * JSON ``{"results": {video: [score, ...]}}`` without ``"class"``: taxonomy order;
    * ``.npy``: UntrimmedNet's THUMOS14 test scores as released with G-TAD / BSN
      (``uNet_test.npy``, ``[1574 videos, 101 classes]``): row ``n - 1`` is
      ``video_test_<n>``, column ``id - 1`` the class of THUMOS id ``id``
      (:data:`pal_eval.data.annotations.thumos.THUMOS14_CLASS_IDS`).

    Args:
        path: The score file.
        taxonomy: Class names; the output columns follow this order.

    Returns:
        Per-video float64 score vectors in taxonomy order.

    Raises:
        InputError: the file's classes are not the taxonomy's (names both sides), an
            unknown class, a wrong list length, a non-numeric score; naming the video and
            the field.
    """
    if str(path).lower().endswith('.npy'):
        return _read_untrimmednet_scores(path, taxonomy)
    data = read_json(path)
    results = data.get('results') if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise InputError(path, 'expected an object {"results": {video: scores}}',
                         field='results')
    column = {name: i for i, name in enumerate(taxonomy)}
    order = None  # file position -> taxonomy column, for list entries
    if 'class' in data:
        names = data['class']
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(path, 'must be a list of class names', field='class')
        _check_same_classes(path, names, taxonomy, 'class')
        order = np.asarray([column[name] for name in names])
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
                expected = len(order) if order is not None else len(taxonomy)
                if len(entry) != expected:
                    raise InputError(path, f'{len(entry)} scores for {expected} classes',
                                     record=video_id, field='results')
                values = np.asarray(entry, dtype=np.float64)
                if order is None:
                    vector[:] = values
                else:
                    vector[order] = values
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


def _check_same_classes(path, names: Sequence[str], taxonomy: Sequence[str],
                        field: str) -> None:
    """The score file's classes must be the taxonomy's (a silent mislabelling otherwise)."""
    missing = [n for n in taxonomy if n not in set(names)]
    extra = [n for n in names if n not in set(taxonomy)]
    if missing or extra or len(set(names)) != len(names):
        def some(items):
            return ', '.join(map(repr, items[:4])) + (', ...' if len(items) > 4 else '')

        parts = []
        if missing:
            parts.append(f'{len(missing)} taxonomy classes have no score ({some(missing)})')
        if extra:
            parts.append(f'{len(extra)} scored classes are not in the taxonomy '
                         f'({some(extra)})')
        if len(set(names)) != len(names):
            parts.append('a class is listed twice')
        raise InputError(path, 'the score classes are not the annotation classes: '
                         + '; '.join(parts), field=field)


def _read_untrimmednet_scores(path: str | os.PathLike, taxonomy: Sequence[str]
                              ) -> dict[str, np.ndarray]:
    from pal_eval.data.annotations.thumos import THUMOS14_CLASS_IDS

    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(path, f'unreadable score array ({exc})') from None
    if matrix.ndim != 2 or matrix.shape[1] < max(THUMOS14_CLASS_IDS.values()):
        raise InputError(path, f'expected [videos, 101] UntrimmedNet scores (columns = THUMOS '
                         f'class id - 1), got shape {matrix.shape}')
    _check_same_classes(path, list(THUMOS14_CLASS_IDS), taxonomy, 'classes')
    columns = [THUMOS14_CLASS_IDS[name] - 1 for name in taxonomy]
    picked = np.asarray(matrix[:, columns], dtype=np.float64)
    return {f'video_test_{row + 1:07d}': picked[row] for row in range(len(picked))}


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


@MODELS.register_module()
class ScoreFileClassifier:
    """Published video-level class scores read from a file (see the module docstring).

    Args:
        score_file: The score JSON.
        taxonomy: Class names in score order; or
        ann_file: annotations whose taxonomy gives that order (any ``load_actions`` format).

    Raises:
        PalEvalError: neither ``taxonomy`` nor ``ann_file`` is given.
    """

    def __init__(self, score_file: str, taxonomy: Sequence[str] | None = None,
                 ann_file: str | None = None):
        if taxonomy is None and not ann_file:
            raise PalEvalError('class_fusion with a score_file needs taxonomy=[...] or '
                               'ann_file=... (for the class order)')
        self.score_file = score_file
        self._taxonomy = None if taxonomy is None else list(taxonomy)
        self.ann_file = ann_file
        self._table: dict[str, np.ndarray] | None = None

    @property
    def taxonomy(self) -> list[str]:
        """Class names, the order of :meth:`scores`."""
        if self._taxonomy is None:
            self._taxonomy = list(load_actions(self.ann_file).taxonomy)
        return self._taxonomy

    def scores(self, video_id: str) -> np.ndarray:
        """The video's scores ``[num_classes]``; a video missing from the file is an error."""
        if self._table is None:
            self._table = read_class_scores(self.score_file, self.taxonomy)
        # ActivityNet ids come with and without "v_" (the CUHK file has none; mmaction2's
        # annotations and the feature files have it): matched either way, as evaluate does.
        for candidate in (video_id, video_id[2:] if video_id.startswith('v_')
                          else f'v_{video_id}'):
            if candidate in self._table:
                return self._table[candidate]
        raise InputError(self.score_file, 'no class scores for this video',
                         record=video_id, field='results')


class _FittedOnTrainingFeatures:
    """What the built-in classifiers share: fitted on first use (the first prediction) on
    the training subset's annotations and features, kept with the feature folder.

    Args:
        ann_file: Annotations of the training videos (any ``load_actions`` format).
        feature_dir: Their feature folder (and that of the videos scored later).
        subset: The training subset of ``ann_file``.
        max_iter: Logistic regression iterations.
    """

    what = 'classifier'

    def __init__(self, ann_file: str, feature_dir: str, subset: str = 'training',
                 max_iter: int = 1000):
        self.ann_file, self.feature_dir = ann_file, feature_dir
        self.subset, self.max_iter = subset, max_iter
        self._fitted: tuple | None = None

    def _train(self, annotations, store):
        """The fitted classifier (raises ValueError when the data cannot train one)."""
        raise NotImplementedError

    def _fit(self) -> tuple:
        if self._fitted is None:
            from pal_eval.data.features import FeatureStore

            annotations = load_actions(self.ann_file, self.subset)
            store = FeatureStore(self.feature_dir)
            try:
                classifier = self._train(annotations, store)
            except ValueError as exc:
                raise PalEvalError(f'{self.ann_file}: cannot train the {self.what} on the '
                                   f'features of {self.feature_dir}: {exc}') from None
            self._fitted = (classifier, store)
        return self._fitted

    @property
    def taxonomy(self) -> list[str]:
        """Class names, the order of the scores."""
        return self._fit()[0].taxonomy


@MODELS.register_module()
class FeatureVideoClassifier(_FittedOnTrainingFeatures):
    """The built-in classifier: :class:`VideoClassifier` fitted on the training videos.

    Fitted on first use (the first prediction), then each video is scored from its own
    features in ``feature_dir``, once. Args as :class:`_FittedOnTrainingFeatures`.
    """

    what = 'video classifier'

    def __init__(self, ann_file: str, feature_dir: str, subset: str = 'training',
                 max_iter: int = 1000):
        super().__init__(ann_file, feature_dir, subset, max_iter)
        self._cache: dict[str, np.ndarray] = {}

    def _train(self, annotations, store) -> VideoClassifier:
        from tqdm import tqdm

        labels = dominant_labels(annotations.instances)
        videos = [v for v in labels if v in store]
        features = {v: store.load(v).features
                    for v in tqdm(videos, desc='video classifier: loading features',
                                  disable=len(videos) < 500)}
        return VideoClassifier.fit(features, labels, list(annotations.taxonomy),
                                   max_iter=self.max_iter)

    def scores(self, video_id: str) -> np.ndarray:
        """The video's class probabilities ``[num_classes]`` (kept: windows share them)."""
        if video_id not in self._cache:
            _, store = self._fit()
            self._cache[video_id] = self.score_features(store.load(video_id).features)
        return self._cache[video_id]

    def score_features(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities of any video's features ``[T, C]`` (e.g. a new video's)."""
        return self._fit()[0].predict_scores(features)


class ProposalClassifier:
    """Logistic regression on instance-pooled features (``fit``), scoring segments.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> feats = np.concatenate([rng.normal(0, .1, (10, 2)), rng.normal(1, .1, (10, 2))])
        >>> centers = np.arange(20) + 0.5
        >>> clf = ProposalClassifier.fit({'v': (feats, centers)},
        ...     [('v', 0.0, 10.0, 'a'), ('v', 10.0, 20.0, 'b')] * 2, ['a', 'b'])
        >>> int(clf.predict_scores(feats, centers, np.array([[12.0, 18.0]])).argmax())
        1
    """

    def __init__(self, taxonomy: Sequence[str], model):
        self.taxonomy = list(taxonomy)
        self.model = model
        column = {name: i for i, name in enumerate(self.taxonomy)}
        self._columns = np.array([column[name] for name in model.classes_])

    @classmethod
    def fit(cls, videos: Mapping[str, tuple[np.ndarray, np.ndarray]],
            instances: Sequence[tuple[str, float, float, str]], taxonomy: Sequence[str], *,
            max_iter: int = 1000) -> ProposalClassifier:
        """Train on instances ``(video_id, t_start, t_end, label)`` of ``videos``.

        Args:
            videos: Video id -> ``(features [T, C], centers [T])``.
            instances: Training instances (those of videos without features are skipped).
            taxonomy: Class names (the output columns).
            max_iter: Solver iterations.

        Raises:
            ValueError: fewer than two classes among the usable instances.
        """
        # scikit-learn does the fitting, as for the video-level classifier.
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


@MODELS.register_module()
class ProposalFeatureClassifier(_FittedOnTrainingFeatures):
    """Per-proposal class scores: :class:`ProposalClassifier` fitted on training instances.

    The synthetic benchmark's detection protocol (module docstring). Fitted on first use;
    each scored video's features are read from ``feature_dir`` (one video kept: a video's
    windows come together). Args as :class:`_FittedOnTrainingFeatures`.
    """

    per_proposal = True
    what = 'proposal classifier'

    def __init__(self, ann_file: str, feature_dir: str, subset: str = 'training',
                 max_iter: int = 1000):
        super().__init__(ann_file, feature_dir, subset, max_iter)
        self._video: tuple[str, np.ndarray, np.ndarray] | None = None

    def _train(self, annotations, store) -> ProposalClassifier:
        videos = {}
        for video_id in annotations.instances['video_id'].unique():
            if video_id in store:
                loaded = store.load(video_id)
                videos[video_id] = (loaded.features, loaded.centers)
        rows = annotations.instances[['video_id', 't_start', 't_end', 'label']]
        return ProposalClassifier.fit(videos, list(rows.itertuples(index=False, name=None)),
                                      list(annotations.taxonomy), max_iter=self.max_iter)

    def segment_scores(self, video_id: str, segments: np.ndarray) -> np.ndarray:
        """Class probabilities ``[K, num_classes]`` of one video's segments (seconds)."""
        _, store = self._fit()
        if self._video is None or self._video[0] != video_id:
            loaded = store.load(video_id)
            self._video = (video_id, loaded.features, loaded.centers)
        return self.score_segments(self._video[1], self._video[2], segments)

    def score_segments(self, features: np.ndarray, centers: np.ndarray,
                       segments: np.ndarray) -> np.ndarray:
        """Class probabilities of segments of any video's features (e.g. a new video's)."""
        return self._fit()[0].predict_scores(features, centers, segments)


def build_video_classifier(config: Mapping):
    """The classifier a ``class_fusion`` dict names (``top_k_classes`` removed), or None.

    None when the dict names no source: the class scores must then come with each
    sample (``class_scores`` and ``taxonomy`` in its metainfo).

    Examples:
        >>> build_video_classifier({}) is None
        True
        >>> type(build_video_classifier(dict(score_file='s.json', taxonomy=['a']))).__name__
        'ScoreFileClassifier'
    """
    config = dict(config)
    if 'type' not in config:
        if config.get('score_file'):
            config['type'] = 'ScoreFileClassifier'
            config.pop('feature_dir', None)
            config.pop('subset', None)
        elif config.get('ann_file') and config.get('feature_dir'):
            config['type'] = 'FeatureVideoClassifier'
            config.pop('score_file', None)
        elif any(config.values()):
            raise PalEvalError(NO_SOURCE)
        else:
            return None
    return MODELS.build(config)
