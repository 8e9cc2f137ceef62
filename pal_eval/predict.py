"""Detections on any video: a pretrained encoder + a trained head, no annotation file.

``pal-eval predict`` and :class:`Predictor` run the whole inference path on untrimmed
videos that belong to no dataset:

1. **features**, through the extraction stage's public entry points
   (:func:`pal_eval.extraction.encoder.load_encoder`, ``extract_folder``): clip length,
   frame interval, input size and normalisation come from the encoder's own metadata;
   the sampling (stride, fps, resampling) from an extraction config when one is given,
   otherwise from the ``meta.json`` of the feature folder the head was trained on
   (named in its config), otherwise :data:`DEFAULT_SAMPLING`;
2. **inputs**, built by the head's own test dataset (the config's
   ``test_dataloader.dataset``, any of ``ActivityNetFeatureDataset``,
   ``ThumosFeatureDataset``, ``GroundingFeatureDataset``) over a temporary annotation
   file that lists the videos with the durations read from the videos themselves and
   no instance. The time grids and the metainfo a head needs are therefore exactly
   those of ``mim test``;
3. **the head**, rebuilt from the config stored in its MMEngine checkpoint
   (``meta.cfg``; ``--config`` overrides it), weights loaded strictly, ``eval()`` and
   ``test_step`` (``mode='predict'``): its own post-processing (Soft-NMS, NMS, seconds);
4. **post-processing across samples**: sliding windows merged per video (the metric's
   :func:`pal_eval.evaluation.metrics.merge_windows`, same settings as ``mim test``) and,
   for detection, class fusion (:func:`pal_eval.postprocess.fusion.fuse_proposals_with_classes`)
   with a video-level class score file or the built-in classifier refitted on the head's
   training features.

The head is driven only through its MMEngine contract (registry type, ``mode='predict'``,
``pred_segments`` / ``pred_scores`` / ``pred_labels`` on the data samples), never its
internals.

Three lines (in the spirit of lighthouse's ``Predictor`` classes)::

    from pal_eval.predict import Predictor
    predictor = Predictor('backbone.pth', 'work_dirs/bmn/best_AUC_epoch_6.pth')
    [video] = predictor('my_video.mp4')          # video.segments (s), .scores, .labels

Grounding heads (2D-TAN) take sentences: ``predictor('v.mp4', queries='a person jumps')``.
"""
from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import pal_eval  # noqa: F401  (registers pal-eval modules once mmaction is imported)
from pal_eval.errors import InputError, PalEvalError

__all__ = ['DEFAULT_SAMPLING', 'HEAD_TASKS', 'VideoPrediction', 'Predictor',
           'resolve_videos', 'predictions_frame', 'predictions_json']

#: Registered head type -> what its predictions are without class fusion.
HEAD_TASKS = {'BoundaryMatchingNetwork': 'proposal', 'GTAD': 'proposal', 'TAN2D': 'grounding'}
#: Sampling used when neither an extraction config nor the training features' meta.json
#: is available: one clip every 4 frames at the native rate (the THUMOS14 and synthetic
#: extraction configs' stride).
DEFAULT_SAMPLING = {'policy': 'sliding', 'stride': 4, 'fps': None}
_DATASETS = ('ActivityNetFeatureDataset', 'ThumosFeatureDataset', 'GroundingFeatureDataset')


@dataclass
class VideoPrediction:
    """What the head found in one video (or for one sentence query of a video).

    Attributes:
        video_id: The video (its file stem, or the id of a list file).
        duration: Seconds, from the video itself.
        segments: ``[K, 2]`` float64 seconds, best first.
        scores: ``[K]``.
        labels: ``K`` class names (detection), else ``None``.
        query_id: Grounding only: the query's id.
        sentence: Grounding only: the query.
    """

    video_id: str
    duration: float
    segments: np.ndarray
    scores: np.ndarray
    labels: list[str] | None = None
    query_id: str | None = None
    sentence: str | None = None

    def top(self, k: int = 5) -> list[tuple[float, float, str | None, float]]:
        """The ``k`` best predictions as ``(t_start, t_end, label, score)``, best first.

        Examples:
            >>> p = VideoPrediction('v', 10.0, np.array([[1., 2.], [3., 5.]]),
            ...                     np.array([0.2, 0.9]))
            >>> p.top(1)
            [(3.0, 5.0, None, 0.9)]
        """
        order = np.argsort(-self.scores, kind='stable')[:k]
        return [(float(self.segments[i, 0]), float(self.segments[i, 1]),
                 None if self.labels is None else self.labels[i], float(self.scores[i]))
                for i in order]


# ------------------------------------------------------------------------- inputs
def resolve_videos(videos) -> list:
    """Video entries from a file, a folder, a list file, or a sequence of paths.

    A single path that is a video file is that video (id = file stem); a folder or a list
    file is read by the extraction stage's :func:`~pal_eval.extraction.extractor.list_videos`.

    Raises:
        InputError: a missing path, an unsafe or duplicate id, no video.
    """
    from pal_eval.extraction.folder import VIDEO_SUFFIXES, VideoEntry, list_videos

    if isinstance(videos, (str, os.PathLike)):
        path = Path(videos)
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            return [VideoEntry(path.stem, str(path))]
        return list_videos(path)
    entries, seen = [], set()
    for item in videos:
        for entry in resolve_videos(item):
            if entry.video_id in seen:
                raise InputError(entry.path, 'duplicate video id', record=entry.video_id,
                                 field='video_id')
            seen.add(entry.video_id)
            entries.append(entry)
    if not entries:
        raise PalEvalError('no video given')
    return entries


def _query_table(entries: Sequence, queries) -> pd.DataFrame:
    """``query_id, video_id, sentence`` rows from the accepted query forms.

    ``queries`` is a sentence or a list of sentences (asked of every video), a mapping
    ``{video_id: sentence(s)}``, or a DataFrame with ``video_id`` and ``sentence``
    (and optionally ``query_id``) columns, e.g. read from a grounding annotation file.
    """
    ids = [e.video_id for e in entries]
    if isinstance(queries, pd.DataFrame):
        missing = {'video_id', 'sentence'} - set(queries.columns)
        if missing:
            raise PalEvalError(f'queries need the columns {sorted(missing)}')
        rows = queries[queries['video_id'].isin(ids)].copy()
        if 'query_id' not in rows:
            rows['query_id'] = [f'{v}:q{n}' for n, v in enumerate(rows['video_id'])]
        if rows.empty:
            raise PalEvalError(f'no query is about the given videos ({", ".join(ids[:3])}...)')
        return rows[['query_id', 'video_id', 'sentence']].astype(str).reset_index(drop=True)
    if isinstance(queries, str):
        queries = [queries]
    if isinstance(queries, Mapping):
        unknown = sorted(set(queries) - set(ids))
        if unknown:
            raise PalEvalError(f'queries name videos that are not given: {unknown[:3]}')
        per_video = {v: [queries[v]] if isinstance(queries[v], str) else list(queries[v])
                     for v in ids if v in queries}
    else:
        per_video = {v: list(queries) for v in ids}
    rows = [(f'{video}:q{n}', video, sentence) for video, sentences in per_video.items()
            for n, sentence in enumerate(sentences)]
    if not rows or any(not str(s).strip() for _, _, s in rows):
        raise PalEvalError('a grounding head needs non-empty sentences (--query "...")')
    return pd.DataFrame(rows, columns=['query_id', 'video_id', 'sentence'])


# ----------------------------------------------------------------------- the head
def _load_checkpoint(path: Path) -> dict:
    from pal_eval.compat import load_mmengine_checkpoint

    if not path.is_file():
        raise InputError(path, 'head checkpoint not found')
    try:
        checkpoint = load_mmengine_checkpoint(str(path), map_location='cpu')
    except Exception as exc:  # noqa: BLE001 - pickle/zip/torch errors all mean "not loadable"
        raise InputError(path, f'not a loadable PyTorch checkpoint ({type(exc).__name__}: '
                         f'{str(exc).splitlines()[0][:120]})') from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        raise InputError(path, 'not an MMEngine checkpoint (no state_dict)', field='state_dict')
    return checkpoint


def _head_config(path: Path, checkpoint: dict, config: str | os.PathLike | None):
    from mmengine.config import Config

    if config is not None:
        from pal_eval.extraction.encoder import load_config

        cfg = load_config(config)
        model = cfg.get('model') or {}
        if model.get('feat_dim') == 'auto':
            # The configs read feat_dim from the training features (FeatureAwareRunner);
            # the checkpoint's own config holds the number it was resolved to.
            stored = _stored_feat_dim(checkpoint)
            if stored is None:
                raise InputError(config, "model.feat_dim='auto' is resolved from the training "
                                 'features, and this checkpoint does not record the number: '
                                 'give it in the config', field='model.feat_dim')
            model['feat_dim'] = stored
        return cfg
    text = (checkpoint.get('meta') or {}).get('cfg')
    if not isinstance(text, str) or not text.strip():
        raise InputError(path, 'the checkpoint carries no config (meta.cfg); pass --config',
                         field='meta.cfg')
    try:
        return Config.fromstring(text, file_format='.py')
    except Exception as exc:  # noqa: BLE001 - any syntax error in the stored text
        raise InputError(path, f'cannot read the stored config: {exc}', field='meta.cfg') from None


def _stored_feat_dim(checkpoint: dict) -> int | None:
    """``model.feat_dim`` of the config stored in an MMEngine checkpoint, if a number."""
    from mmengine.config import Config

    text = (checkpoint.get('meta') or {}).get('cfg')
    try:
        value = Config.fromstring(text, file_format='.py').model.feat_dim
    except Exception:  # noqa: BLE001 - no stored config, or not one of ours
        return None
    return value if isinstance(value, int) else None


def _build_head(path: Path, cfg, state_dict: dict, device: str):
    """The head from its config, with the weights of ``state_dict``, in eval mode."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    model_cfg = copy.deepcopy(dict(cfg.get('model') or {}))
    head_type = model_cfg.get('type')
    if head_type not in HEAD_TASKS:
        raise InputError(path, f'unsupported head type {head_type!r} (supported: '
                         f'{", ".join(HEAD_TASKS)})', field='model.type')
    model_cfg['init_cfg'] = None  # the weights come from the checkpoint, nothing else
    if 'class_fusion' in model_cfg:
        model_cfg['class_fusion'] = None  # fused here, for videos of no dataset
    if head_type == 'TAN2D':
        # The vocabulary is in the weights; the training annotation file is not needed.
        extra = state_dict.get('sentence_encoder._extra_state') or {}
        words = extra.get('words') if isinstance(extra, dict) else None
        if not words:
            raise InputError(path, 'no vocabulary in the 2D-TAN weights',
                             field='state_dict.sentence_encoder._extra_state')
        model_cfg['vocabulary'] = list(words[2:])  # after the <pad>, <unk> specials
        model_cfg['word_vectors'] = None
    try:
        model = MODELS.build(model_cfg)
        model.load_state_dict(state_dict, strict=True)
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise InputError(path, f'weights do not fit the config\'s model: {first}',
                         field='state_dict') from None
    return model.to(device).eval(), head_type


# ------------------------------------------------------------------ the predictor
class Predictor:
    """An encoder and a trained head, ready to run on any video.

    Args:
        encoder: Exported backbone / PAL or MoCoV2 checkpoint (what ``pal-eval extract``
            takes), or ``'random'`` with ``extract_config`` holding ``random_init``.
        head: MMEngine checkpoint of BMN, G-TAD or 2D-TAN (``mim train`` output).
        config: Head config; default the one stored in the checkpoint.
        extract_config: Extraction config (``sampling`` section); default the training
            features' ``meta.json``, else :data:`DEFAULT_SAMPLING`.
        class_scores: Detection: a video-level class score file covering the videos
            (``{"results": {video: {class: score}}}``); default the built-in classifier
            of the config's ``class_fusion`` when its training data is at hand.
        device: Torch device of both networks.
        batch_size: Clips per encoder pass and samples per head pass.
        num_workers: Decoding processes.
        features_dir: Keep the extracted features there (a rerun reuses them);
            default a temporary folder.
        progress: Show extraction progress bars.
        log: Called with one line per notable decision (sources, skipped fusion).

    Examples:
        >>> predictor = Predictor('backbone.pth', 'bmn.pth')  # doctest: +SKIP
        >>> [video] = predictor('v.mp4')  # doctest: +SKIP
        >>> video.top(3)  # doctest: +SKIP
        [(12.3, 20.1, None, 0.71), ...]
    """

    def __init__(self, encoder: str | os.PathLike, head: str | os.PathLike, *,
                 config: str | os.PathLike | None = None,
                 extract_config: str | os.PathLike | None = None,
                 class_scores: str | os.PathLike | None = None, device: str = 'cpu',
                 batch_size: int = 8, num_workers: int = 2,
                 features_dir: str | os.PathLike | None = None, progress: bool = False,
                 log=None):
        from pal_eval.extraction.encoder import check_device

        check_device(device)
        if batch_size < 1 or num_workers < 0:
            raise PalEvalError('batch size must be >= 1 and workers >= 0')
        self.device, self.batch_size, self.num_workers = device, batch_size, num_workers
        self.features_dir = None if features_dir is None else Path(features_dir)
        self.progress = progress
        self.notes: list[str] = []
        self._log = log
        self.head_path = Path(head)
        checkpoint = _load_checkpoint(self.head_path)
        self.cfg = _head_config(self.head_path, checkpoint, config)
        self.model, self.head_type = _build_head(self.head_path, self.cfg,
                                                 checkpoint['state_dict'], device)
        self.dataset_cfg = self._dataset_cfg()
        self.training_features = self._training_feature_meta()
        self._load_encoder(encoder, extract_config)
        self._fusion = self._class_fusion(class_scores)
        self.task = ('grounding' if self.head_type == 'TAN2D'
                     else 'detection' if self._fusion is not None else 'proposal')

    # ------------------------------------------------------------------ set-up
    def _note(self, line: str) -> None:
        self.notes.append(line)
        if self._log is not None:
            self._log(line)

    def _dataset_cfg(self) -> dict:
        loader = self.cfg.get('test_dataloader') or self.cfg.get('val_dataloader') or {}
        dataset = copy.deepcopy(dict(loader.get('dataset') or {}))
        if dataset.get('type') not in _DATASETS:
            raise InputError(self.head_path, f'unsupported test dataset {dataset.get("type")!r} '
                             f'(supported: {", ".join(_DATASETS)})',
                             field='test_dataloader.dataset.type')
        return dataset

    def _training_feature_meta(self) -> tuple[Path, dict] | None:
        """``(path, content)`` of the head's training ``meta.json``, when it is readable."""
        from pal_eval.io import read_json

        loader = self.cfg.get('train_dataloader') or {}
        dataset = dict(loader.get('dataset') or {}) or self.dataset_cfg
        folder = dataset.get('feature_dir')
        if not folder:
            return None
        path = Path(dataset.get('data_root') or '') / folder / 'meta.json'
        if not path.is_file():
            return None
        try:
            return path, read_json(path)
        except PalEvalError:
            return None

    def _load_encoder(self, encoder, extract_config) -> None:
        from pal_eval.extraction.encoder import (
            clip_settings_from_config,
            load_encoder,
            load_extraction_config,
        )

        if extract_config is not None:
            cfg = load_extraction_config(extract_config)
            source = str(extract_config)
        elif self.training_features is not None:
            path, meta = self.training_features
            sampling = dict(meta.get('sampling') or {})
            cfg = {'sampling': {'policy': sampling.get('policy', 'sliding'),
                                'stride': sampling.get('stride', 1),
                                'fps': sampling.get('target_fps'),
                                'num_snippets': sampling.get('num_snippets'),
                                'resample': sampling.get('resample', 'linear')}}
            source = f'{path} (the head\'s training features)'
        else:
            cfg, source = {'sampling': dict(DEFAULT_SAMPLING)}, 'the default'
        seed = int(cfg.get('seed', 0))
        self.encoder, self.encoder_meta = load_encoder(
            str(encoder), device=self.device, seed=seed,
            random_init=dict(cfg.get('random_init') or {}))
        self.settings = clip_settings_from_config(cfg, self.encoder_meta,
                                                  config_path=extract_config or '<sampling>')
        policy = self.settings.policy
        self._note(f'sampling from {source}: {policy.name} clips of {policy.frames_per_clip} '
                   f'frames every {policy.stride} frames'
                   + (f' at {policy.target_fps:g} fps' if policy.target_fps else ''))
        if self.training_features is not None:
            trained_on = self.training_features[1].get('checkpoint_sha256')
            if trained_on and trained_on != self.encoder_meta.get('source_sha256'):
                self._note(f'warning: the head was trained on features of another encoder '
                           f'(sha256 {trained_on[:12]}..., given '
                           f'{str(self.encoder_meta.get("source_sha256"))[:12]}...)')

    def _class_fusion(self, class_scores) -> dict | None:
        """``{'taxonomy', 'lookup', 'top_k'}`` when detections can be made, else None."""
        fusion = dict((self.cfg.get('model') or {}).get('class_fusion') or {})
        top_k = int(fusion.get('top_k_classes', 2))
        if class_scores is not None:
            from heads.classifiers import ScoreFileClassifier

            if not fusion.get('taxonomy') and not fusion.get('ann_file'):
                raise PalEvalError('--class-scores needs the class list: the head config has '
                                   'no class_fusion with taxonomy or ann_file')
            scores = ScoreFileClassifier(str(class_scores), taxonomy=fusion.get('taxonomy'),
                                         ann_file=fusion.get('ann_file'))
            return {'taxonomy': scores.taxonomy,
                    'lookup': lambda video: scores.scores(video.video_id), 'top_k': top_k}
        if not fusion or self.head_type == 'TAN2D':
            return None
        if fusion.get('score_file'):
            self._note('class fusion needs video-level scores of these videos: pass '
                       '--class-scores FILE; writing class-agnostic proposals')
            return None
        missing = [fusion.get(k) for k in ('ann_file', 'feature_dir')
                   if not fusion.get(k) or not Path(fusion[k]).exists()]
        if missing:
            self._note(f'class fusion skipped: the classifier\'s training data ({missing[0]}) '
                       'is not here; writing class-agnostic proposals (or pass --class-scores)')
            return None
        from heads.classifiers import build_video_classifier

        # The head's own classifier, fitted on its training features; it scores the new
        # videos' features (the head's would look them up in its training folder).
        fusion.pop('top_k_classes', None)
        classifier = build_video_classifier(fusion)
        if getattr(classifier, 'per_proposal', False):
            return {'taxonomy': classifier.taxonomy, 'top_k': top_k, 'per_proposal': True,
                    'lookup': lambda video, segments: classifier.score_segments(
                        video.features, video.centers, segments)}
        return {'taxonomy': classifier.taxonomy,
                'lookup': lambda video: classifier.score_features(video.features),
                'top_k': top_k}

    # --------------------------------------------------------------- prediction
    def __call__(self, videos, queries=None) -> list[VideoPrediction]:
        """Alias of :meth:`predict`."""
        return self.predict(videos, queries)

    def predict(self, videos, queries=None) -> list[VideoPrediction]:
        """Predictions for every video (grounding: for every query).

        Args:
            videos: A video file, a folder, a list file, or a sequence of those.
            queries: Grounding heads only: a sentence, a list of sentences (asked of every
                video), ``{video_id: sentence(s)}``, or a DataFrame of queries.

        Returns:
            One :class:`VideoPrediction` per video (per query for grounding).
        """
        entries = resolve_videos(videos)
        if (queries is None) != (self.task != 'grounding'):
            raise PalEvalError('a grounding head (2D-TAN) needs --query "..." sentences'
                               if queries is None else
                               f'--query applies to grounding heads; {self.head_type} '
                               'localizes actions without a sentence')
        table = _query_table(entries, queries) if queries is not None else None
        with self._feature_folder() as folder:
            store = self._extract(entries, folder)
            durations = {e.video_id: store.load(e.video_id).duration for e in entries}
            with tempfile.TemporaryDirectory(prefix='pal-eval-predict-') as scratch:
                ann_file = Path(scratch) / 'videos.json'
                self._write_annotations(ann_file, durations, table)
                samples = self._run_head(ann_file, folder)
            if table is not None:
                return self._grounding_predictions(samples, table, durations)
            return self._action_predictions(samples, durations, store)

    @contextlib.contextmanager
    def _feature_folder(self) -> Iterator[Path]:
        if self.features_dir is not None:
            yield self.features_dir
            return
        with tempfile.TemporaryDirectory(prefix='pal-eval-features-') as folder:
            yield Path(folder)

    def _extract(self, entries, folder: Path):
        from pal_eval.data.features import FeatureStore
        from pal_eval.extraction.extractor import extract_folder

        report = extract_folder(self.encoder, entries, folder, self.settings, self.encoder_meta,
                                batch_size=self.batch_size, num_workers=self.num_workers,
                                device=self.device, progress=self.progress)
        if report.failed:
            video_id, reason = next(iter(report.failed.items()))
            path = next(e.path for e in entries if e.video_id == video_id)
            raise InputError(path, f'cannot extract features: {reason}', record=video_id)
        store = FeatureStore(folder)
        expected = int(self.model.feat_dim) if hasattr(self.model, 'feat_dim') else None
        got = store.feature_dim
        if expected is not None and got != expected:
            raise PalEvalError(f'{self.head_path}: the head expects {expected}-d features, '
                               f'the encoder gives {got}-d (another encoder than in training?)')
        return store

    def _write_annotations(self, path: Path, durations: Mapping[str, float],
                           queries: pd.DataFrame | None) -> None:
        """The videos (and queries) as the head's dataset reads them, without instances."""
        from pal_eval.io import write_json

        subset = self.dataset_cfg.get('subset') or 'testing'
        if queries is None:
            write_json(path, {'database': {v: {'subset': subset, 'duration': d,
                                               'annotations': []}
                                           for v, d in durations.items()}})
            return
        # The grounding loader wants a segment per query; the head never reads it in
        # predict mode, so the whole video stands in.
        write_json(path, {'queries': [
            {'query_id': q, 'video': v, 'duration': durations[v], 'segment': [0.0, durations[v]],
             'sentence': s, **({'subset': subset} if self.dataset_cfg.get('subset') else {})}
            for q, v, s in queries[['query_id', 'video_id', 'sentence']].itertuples(index=False)]})

    def _run_head(self, ann_file: Path, folder: Path) -> list:
        """The head's test dataset over the videos, then ``test_step`` batch by batch."""
        import torch
        from mmaction.registry import DATASETS
        from mmengine.dataset import pseudo_collate

        dataset_cfg = dict(self.dataset_cfg, ann_file=str(ann_file.resolve()),
                           feature_dir=str(folder.resolve()), test_mode=True)
        if 'data_root' in dataset_cfg:
            dataset_cfg['data_root'] = ''
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # e.g. "no features for ..." of other splits
            dataset = DATASETS.build(dataset_cfg)
        samples = []
        with torch.no_grad():
            for start in range(0, len(dataset), self.batch_size):
                batch = pseudo_collate([dataset[i] for i in
                                        range(start, min(start + self.batch_size, len(dataset)))])
                samples += self.model.test_step(batch)
        return samples

    def _action_predictions(self, samples: list, durations: Mapping[str, float],
                            store) -> list[VideoPrediction]:
        from pal_eval.evaluation.metrics import merge_windows

        fused = self._fusion is not None
        # G-TAD THUMOS14's order: windows merged class-agnostically, then fused.
        after_merge = bool(((self.cfg.get('model') or {}).get('class_fusion') or {})
                           .get('after_window_merge'))
        records = []
        for sample in samples:
            meta = sample.metainfo
            record = {'video_id': str(meta['video_id']),
                      'segments': _numpy(sample.pred_segments).reshape(-1, 2),
                      'scores': _numpy(sample.pred_scores).reshape(-1),
                      'window': meta.get('window_start') is not None}
            if fused and after_merge and record['window'] and \
                    not self._fusion.get('per_proposal'):
                video = store.load(record['video_id'])
                record.update(class_scores=np.asarray(self._fusion['lookup'](video),
                                                      dtype=np.float64),
                              taxonomy=list(self._fusion['taxonomy']),
                              top_k_classes=self._fusion['top_k'])
            elif fused:
                from pal_eval.postprocess.fusion import (
                    fuse_proposals_with_classes,
                    fuse_proposals_with_proposal_classes,
                )

                video = store.load(record['video_id'])
                if self._fusion.get('per_proposal'):
                    fuse, class_scores = fuse_proposals_with_proposal_classes, \
                        self._fusion['lookup'](video, record['segments'])
                else:
                    fuse, class_scores = fuse_proposals_with_classes, \
                        self._fusion['lookup'](video)
                record['segments'], record['scores'], record['labels'] = fuse(
                    record['segments'], record['scores'], class_scores,
                    self._fusion['taxonomy'], top_k_classes=self._fusion['top_k'])
            records.append(record)
        evaluator = self.cfg.get('test_evaluator') or {}
        merged = {r['video_id']: r for r in merge_windows(records, fused,
                                                          **dict(evaluator.get('window_merge')
                                                                 or {}))}
        return [VideoPrediction(v, float(d), merged[v]['segments'], merged[v]['scores'],
                                merged[v].get('labels') if fused else None)
                for v, d in durations.items() if v in merged]

    @staticmethod
    def _grounding_predictions(samples: list, queries: pd.DataFrame,
                               durations: Mapping[str, float]) -> list[VideoPrediction]:
        by_query = {str(s.metainfo['query_id']): s for s in samples}
        out = []
        for query_id, video_id, sentence in queries.itertuples(index=False):
            sample = by_query[query_id]
            out.append(VideoPrediction(video_id, float(durations[video_id]),
                                       _numpy(sample.pred_segments).reshape(-1, 2),
                                       _numpy(sample.pred_scores).reshape(-1),
                                       query_id=query_id, sentence=sentence))
        return out

    def describe(self) -> dict:
        """Provenance written beside the predictions (encoder, head, sampling)."""
        return {'encoder': self.encoder_meta.get('checkpoint'),
                'encoder_sha256': self.encoder_meta.get('source_sha256'),
                'pretext': self.encoder_meta.get('pretext'),
                'head': str(self.head_path), 'head_type': self.head_type, 'task': self.task,
                'sampling': self.settings.policy.to_dict()}


def _numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


# ------------------------------------------------------------------------- output
def predictions_frame(predictions: Sequence[VideoPrediction]) -> pd.DataFrame:
    """One row per prediction: the submission columns of :mod:`pal_eval.data.submission`.

    Action predictions: ``video_id, t_start, t_end, score`` (+ ``label`` when every video
    has labels); grounding: ``query_id, t_start, t_end, score``.
    """
    grounding = any(p.query_id is not None for p in predictions)
    labelled = not grounding and predictions and all(p.labels is not None for p in predictions)
    rows = []
    for p in predictions:
        for i in range(len(p.scores)):
            row = {'query_id' if grounding else 'video_id': p.query_id if grounding
                   else p.video_id, 't_start': float(p.segments[i, 0]),
                   't_end': float(p.segments[i, 1]), 'score': float(p.scores[i])}
            if labelled:
                row['label'] = p.labels[i]
            rows.append(row)
    columns = (['query_id'] if grounding else ['video_id']) + ['t_start', 't_end', 'score'] + (
        ['label'] if labelled else [])
    return pd.DataFrame(rows, columns=columns)


def predictions_json(predictions: Sequence[VideoPrediction], provenance: Mapping | None = None
                     ) -> dict:
    """The JSON written by ``pal-eval predict``.

    ActivityNet submission format (``version``, ``external_data``, ``results``) for
    proposals and detections, grounding predictions format (``results`` by query id)
    for 2D-TAN; both readable by ``pal-eval evaluate`` and by other tools. A
    ``pal_eval`` object adds what those formats cannot hold: durations (and sentences),
    the encoder, the head and the sampling.
    """
    from pal_eval.data.submission import action_submission_dict, grounding_predictions_dict

    frame = predictions_frame(predictions)
    extra: dict = dict(provenance or {})
    if any(p.query_id is not None for p in predictions):
        content = grounding_predictions_dict(frame)
        extra['queries'] = {p.query_id: {'video': p.video_id, 'sentence': p.sentence,
                                         'duration': p.duration} for p in predictions}
    else:
        content = action_submission_dict(frame, external_data={
            'used': False, 'details': 'pal-eval predict'})
    extra['durations'] = {p.video_id: p.duration for p in predictions}
    content['pal_eval'] = extra
    return content
