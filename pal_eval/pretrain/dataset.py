"""Unlabeled video data set producing PAL composites or MoCo-v2 view pairs.

Videos are decoded through mmaction2's own pipeline transforms (``PyAVInit`` /
``PyAVDecode`` or ``DecordInit`` / ``DecordDecode``); the compositing itself is the
numpy core in :mod:`pal_eval.pretrain.compositing`; spatial augmentation is an
mmaction2 pipeline (random resized crop, flip, colour jitter by default) applied to a
whole composite at once, so every clip of a composite gets the same crop and colours,
while the two composites of a sample are augmented independently.

A sample is ``dict(inputs=[2, 3, J * F, S, S] float tensor, data_samples=ActionDataSample)``
whose metainfo carries ``action_mask`` ``[2, J]``, ``start_clip`` and
``num_action_clips`` ``[2]`` (PAL's targets), ``video_index`` (the source video, so
that the models never take a key of the query's own video as a negative),
``shared_region`` and the provenance of every frame.

Randomness is fresh every epoch: each sample's generator is seeded from NumPy's global
state (seeded by MMEngine per worker) *and* the epoch number set by
:meth:`UnlabeledVideoDataset.set_epoch` (``EpochSeedHook``). Without the epoch term,
non-persistent workers are re-created and re-seeded identically every epoch, so the
k-th sample of every epoch got the same region, positions, crop and jitter (issue 14).

An unreadable video is skipped with a warning counting the skips so far; MMEngine's
``BaseDataset`` then draws another sample (``max_refetch`` times at most), so one bad
file never stops an epoch.
"""
from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from mmaction.registry import DATASETS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset, Compose
from mmengine.logging import print_log

from pal_eval.data.video_io import VIDEO_SUFFIXES
from pal_eval.errors import InputError
from pal_eval.pretrain.compositing import paste_region, plan_composite, sample_region

MODES = ('pal', 'two_views')
REGIONS = ('two', 'shared')
DECODERS = {'pyav': ('PyAVInit', dict(type='PyAVDecode', mode='accurate')),
            'decord': ('DecordInit', dict(type='DecordDecode'))}


def default_augmentation() -> list[dict]:
    """MoCo-v2-style spatial augmentation, applied to a whole composite at once.

    Hue jitter is off: mmaction2 1.2.0's ``ColorJitter`` adds a negative Python int to a
    uint8 array for negative hue shifts, which numpy 2 rejects (OverflowError).
    """
    return [dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
            dict(type='Flip', flip_ratio=0.5),
            dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0)]


def run_forked(function, *args):
    """``function(*args)`` in a forked child process; its result comes back pickled.

    Keeps the calling process free of decoder threads (see
    :meth:`UnlabeledVideoDataset.retrieval_set`). Errors in the child are re-raised.
    """
    import multiprocessing

    context = multiprocessing.get_context('fork')
    receiver, sender = context.Pipe(duplex=False)

    def child():
        try:
            sender.send(('ok', function(*args)))
        except BaseException as exc:  # noqa: BLE001 - sent back and re-raised by the parent
            sender.send(('error', f'{type(exc).__name__}: {exc}'))

    process = context.Process(target=child, daemon=True)
    process.start()
    status, value = receiver.recv()
    process.join()
    if status == 'error':
        raise RuntimeError(f'in the forked child process: {value}')
    return value


def list_videos(ann_file: str, video_root: str) -> list[str]:
    """Video paths from a list file (one path per line, relative to ``video_root``) or,
    without a list file, every video file directly in ``video_root``.

    Raises:
        InputError: missing list / folder, or no videos.
    """
    if ann_file:
        path = Path(ann_file)
        if not path.is_file():
            raise InputError(path, 'video list file not found')
        names = [line.strip() for line in path.read_text().splitlines()]
        videos = [os.path.join(video_root, n) for n in names if n and not n.startswith('#')]
        source = path
    else:
        root = Path(video_root)
        if not root.is_dir():
            raise InputError(root, 'video folder not found')
        videos = sorted(str(p) for p in root.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        source = root
    if len(videos) < 2:
        raise InputError(source, f'need at least 2 videos for pretraining, found {len(videos)}')
    return videos


@DATASETS.register_module()
class UnlabeledVideoDataset(BaseDataset):
    """Unlabeled videos as PAL composites (``mode='pal'``) or MoCo-v2 view pairs.

    Args:
        ann_file: List file of videos (e.g. ``unlabeled/list.txt``); ``''`` scans the
            folder ``data_prefix['video']``.
        data_prefix: ``dict(video=folder)`` the list's paths are relative to.
        mode: ``'pal'``: two composites sharing one pseudo-action region; ``'two_views'``:
            two random ``J``-clip views of one video (MoCoV2 baseline).
        clips_per_video: ``J`` (paper: 8).
        frames_per_clip: ``F`` (paper: 4).
        frame_interval: Stride between sampled frames (paper: silent; 1 by default).
        input_size: Square side fed to the encoder (paper: 112).
        region_clips: Inclusive range of the region length ``L``; default ``(1, J - 2)``.
        regions: ``'two'`` (the paper: each composite gets its own region of the same
            source video, drawn independently) or ``'shared'`` (one region pasted into
            both composites: exact frame correspondence, needed by the dense term).
        scale_range: Range of the per-composite temporal scale (log-uniform).
        decoder: ``'pyav'`` or ``'decord'`` (both through mmaction2's transforms).
        decode_size: ``(height, width)`` every decoded frame is resized to before
            compositing, so videos of different sizes can be pasted together.
        pipeline: Spatial augmentation (mmaction2 transforms on ``imgs``); ``None``
            gives :func:`default_augmentation`. A resize to ``input_size`` is appended.
        max_refetch: Samples drawn in a row before giving up on unreadable videos.
        cache_videos: Keep every decoded video (resized to ``decode_size``) in memory,
            per worker: for small unlabeled sets (the synthetic one: ~60 MB at 48x64)
            where decoding three videos per sample would dominate the step time. Each
            video is decoded whole once; sampling then only indexes arrays.
        **kwargs: Passed to MMEngine's ``BaseDataset``.
    """

    def __init__(self, ann_file: str = '', data_prefix: dict | None = None, *,
                 mode: str = 'pal', clips_per_video: int = 8, frames_per_clip: int = 4,
                 frame_interval: int = 1, input_size: int = 112,
                 region_clips: Sequence[int] | None = None, regions: str = 'two',
                 scale_range: Sequence[float] = (0.5, 2.0), decoder: str = 'pyav',
                 decode_size: Sequence[int] = (128, 171), pipeline: list | None = None,
                 max_refetch: int = 20, cache_videos: bool = False, **kwargs):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if regions not in REGIONS:
            raise ValueError(f'regions must be one of {REGIONS}, got {regions!r}')
        self.regions = regions
        self.cache_videos = bool(cache_videos)
        self._cache: dict[str, np.ndarray] = {}
        self.epoch = 0
        if decoder not in DECODERS:
            raise ValueError(f'decoder must be one of {sorted(DECODERS)}, got {decoder!r}')
        self.mode = mode
        self.clips_per_video = int(clips_per_video)
        self.frames_per_clip = int(frames_per_clip)
        self.frame_interval = int(frame_interval)
        self.input_size = int(input_size)
        self.region_clips = tuple(region_clips) if region_clips else None
        self.scale_range = tuple(float(s) for s in scale_range)
        self.decode_size = tuple(int(s) for s in decode_size)
        init_type, decode_cfg = DECODERS[decoder]
        self._video_init = TRANSFORMS.build(dict(type=init_type))
        self._video_decode = TRANSFORMS.build(decode_cfg)
        self._resize_decoded = TRANSFORMS.build(dict(
            type='Resize', scale=self.decode_size[::-1], keep_ratio=False))
        augment = default_augmentation() if pipeline is None else list(pipeline)
        augment.append(dict(type='Resize', scale=(self.input_size, self.input_size),
                            keep_ratio=False))
        augment.append(dict(type='FormatShape', input_format='NCTHW'))
        self.num_skipped = 0
        data_prefix = data_prefix or dict(video='')
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, pipeline=[],
                         max_refetch=max_refetch, **kwargs)
        # Set after BaseDataset, which would read string values as meta *files*. MMEngine
        # saves this in checkpoints; `export-backbone` reads the clip geometry from it.
        self._metainfo.update(
            data=self.ann_file or self.data_prefix.get('video', ''), pretext_mode=mode,
            clips_per_video=self.clips_per_video, frames_per_clip=self.frames_per_clip,
            frame_interval=self.frame_interval, input_size=self.input_size)
        # Built from mmaction's registry (Compose alone would look in MMEngine's).
        self.augment = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                for t in augment])
        self._plain = Compose([TRANSFORMS.build(t) for t in augment[-2:]])  # resize, format

    def load_data_list(self) -> list[dict]:
        return [dict(filename=path) for path in
                list_videos(self.ann_file, self.data_prefix.get('video', ''))]

    def set_epoch(self, epoch: int) -> None:
        """Mix ``epoch`` into every sample's seed (called by ``EpochSeedHook``)."""
        self.epoch = int(epoch)

    # -- decoding -------------------------------------------------------------------------
    def _open(self, filename: str) -> dict:
        if self.cache_videos:
            frames = self._cached(filename)
            return dict(filename=filename, total_frames=len(frames), cached=frames)
        results = self._video_init(dict(filename=filename))
        if not results.get('total_frames'):
            raise InputError(filename, 'video reports no frames')
        return results

    def _cached(self, filename: str) -> np.ndarray:
        if filename not in self._cache:
            opened = self._video_init(dict(filename=filename))
            if not opened.get('total_frames'):
                raise InputError(filename, 'video reports no frames')
            self._cache[filename] = self._decode_opened(
                opened, np.arange(opened['total_frames']))
        return self._cache[filename]

    def _decode_opened(self, opened: dict, frame_inds: np.ndarray) -> np.ndarray:
        results = self._video_decode(dict(opened, frame_inds=np.asarray(frame_inds)))
        results = self._resize_decoded(results)
        return np.stack(results['imgs'])

    def _decode(self, opened: dict, frame_inds: np.ndarray) -> np.ndarray:
        """Decode ``frame_inds`` of an opened video, resized to ``decode_size``."""
        if 'cached' in opened:
            return opened['cached'][np.asarray(frame_inds)]
        return self._decode_opened(opened, frame_inds)

    def _augment(self, frames: np.ndarray, augment: bool = True) -> np.ndarray:
        """Augment one composite / view as a whole: ``[T, H, W, 3]`` -> ``[3, T, S, S]``."""
        height, width = frames.shape[1:3]
        results = dict(imgs=list(frames), img_shape=(height, width),
                       original_shape=(height, width), modality='RGB', num_clips=1,
                       clip_len=len(frames))
        return (self.augment if augment else self._plain)(results)['imgs'][0]

    def retrieval_set(self, num: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed set of ``num`` PAL composite pairs without augmentation (monitoring).

        Each pair shows two independently drawn regions of one video (``regions='two'``
        whatever the training setting) pasted into two other videos, so retrieving one
        from the other needs the video's content, not identical frames. The same
        ``seed`` and data give the same set for every model (``PretextMonitorHook``).

        The videos are decoded in a forked child process: decoding in the training
        process would leave the decoder's threads behind, and DataLoader workers forked
        later from it deadlock (measured: a 1-worker run hung at its first batch).

        Returns:
            ``(inputs [num, 2, 3, J * F, S, S] float 0-255, masks [num, 2, J] bool)``.
        """
        inputs, masks = run_forked(self._retrieval_arrays, num, seed)
        return torch.from_numpy(inputs.astype(np.float32)), torch.from_numpy(masks)

    def _retrieval_arrays(self, num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        pick = np.random.default_rng(seed).choice(len(self), size=min(num, len(self)),
                                                  replace=False)
        inputs, masks = [], []
        for idx in np.sort(pick):
            views, meta = self._pal_sample(np.random.default_rng([seed, int(idx)]), int(idx),
                                           regions='two')
            inputs.append(np.stack([self._augment(v, augment=False) for v in views]))
            masks.append(meta['action_mask'])
        return np.stack(inputs).round().clip(0, 255).astype(np.uint8), np.stack(masks)

    # -- samples --------------------------------------------------------------------------
    def _other_indices(self, rng: np.random.Generator, idx: int, count: int) -> list[int]:
        others = np.delete(np.arange(len(self)), idx)
        return rng.choice(others, size=count, replace=len(others) < count).tolist()

    def _pal_sample(self, rng: np.random.Generator, idx: int,
                    regions: str | None = None) -> tuple[list, dict]:
        regions_mode = regions or self.regions
        J, F, step = self.clips_per_video, self.frames_per_clip, self.frame_interval
        source = self._open(self.get_data_info(idx)['filename'])
        bg_names = [self.get_data_info(i)['filename'] for i in self._other_indices(rng, idx, 2)]
        backgrounds = [self._open(name) for name in bg_names]

        def region():
            return sample_region(rng, source['total_frames'], clips_per_video=J,
                                 frames_per_clip=F, frame_interval=step,
                                 region_clips=self.region_clips)

        regions = [region()] * 2 if regions_mode == 'shared' else [region(), region()]
        plans = [plan_composite(rng, reg, source['total_frames'], bg['total_frames'],
                                clips_per_video=J, frames_per_clip=F, frame_interval=step,
                                scale_range=self.scale_range)
                 for reg, bg in zip(regions, backgrounds)]
        # One decode call per video (a PyAV container is consumed by a decode).
        region_frames = self._decode(source, np.concatenate(
            [p.region_frame_inds for p in plans]))
        split = len(plans[0].region_frame_inds)
        composites = []
        for k, (plan, bg) in enumerate(zip(plans, backgrounds)):
            pasted = region_frames[:split] if k == 0 else region_frames[split:]
            background = self._decode(bg, plan.background_frame_inds)
            composites.append(paste_region(background, pasted, plan, F))
        source_inds = np.full((2, J * F), -1, dtype=np.int64)
        for k, plan in enumerate(plans):
            first = plan.start_clip * F
            source_inds[k, first:first + len(plan.region_frame_inds)] = plan.region_frame_inds
        meta = dict(
            action_mask=np.stack([p.mask for p in plans]),
            start_clip=np.array([p.start_clip for p in plans]),
            num_action_clips=np.array([p.num_action_clips for p in plans]),
            region_num_clips=np.array([r.num_clips for r in regions]),
            region_start_frame=np.array([r.start_frame for r in regions]),
            shared_region=regions_mode == 'shared', video_index=idx,
            source_filename=source['filename'], background_filenames=bg_names,
            source_frame_inds=source_inds,
            background_frame_inds=np.stack([p.background_frame_inds for p in plans]))
        return composites, meta

    def _two_view_sample(self, rng: np.random.Generator, idx: int) -> tuple[list, dict]:
        from pal_eval.pretrain.compositing import sample_clip_frame_inds

        J, F = self.clips_per_video, self.frames_per_clip
        video = self._open(self.get_data_info(idx)['filename'])
        inds = [sample_clip_frame_inds(rng, video['total_frames'], J, F, self.frame_interval)
                for _ in range(2)]
        frames = self._decode(video, np.concatenate(inds))
        meta = dict(action_mask=np.ones((2, J), dtype=bool), start_clip=np.zeros(2, int),
                    num_action_clips=np.full(2, J), source_filename=video['filename'],
                    video_index=idx, shared_region=False,
                    source_frame_inds=np.stack(inds))
        return [frames[:J * F], frames[J * F:]], meta

    def prepare_data(self, idx: int) -> dict | None:
        """Build sample ``idx``; ``None`` (another sample is drawn) if a video is unreadable."""
        # NumPy's global state (seeded by MMEngine once per worker start) plus the epoch:
        # fresh draws every epoch whether or not the workers persist (see module doc).
        rng = np.random.default_rng([np.random.randint(0, 2**31 - 1), self.epoch])
        # mmaction2's transforms draw from NumPy's and Python's global generators:
        # reseed both from this sample's generator so the augmentation is fresh too.
        augment_seed = int(rng.integers(0, 2**31 - 1))
        np.random.seed(augment_seed)
        random.seed(augment_seed)
        try:
            if self.mode == 'pal':
                views, meta = self._pal_sample(rng, idx)
            else:
                views, meta = self._two_view_sample(rng, idx)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means "skip this video"
            self.num_skipped += 1
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print_log(f'skipped an unreadable video while building sample {idx} '
                      f'({self.num_skipped} skipped so far in this worker): {reason}',
                      logger='current', level=30)
            return None
        inputs = torch.from_numpy(np.stack([self._augment(v) for v in views]).astype(np.float32))
        return dict(inputs=inputs, data_samples=ActionDataSample(metainfo=meta))
