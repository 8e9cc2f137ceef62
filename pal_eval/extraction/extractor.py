"""The extraction loop: decode in DataLoader workers, encode batched clips, write features.

The folder's bookkeeping (video lists, shards, settings, ``meta.json``, merge) is
:mod:`pal_eval.extraction.folder`.

Design choices (and why):

* **Decoding in workers, one pass per video.** :class:`ClipStream` is an ``IterableDataset``;
  each DataLoader worker takes every ``num_workers``-th video, decodes it once, frame by
  frame (:func:`pal_eval.data.video_io.iter_frames`), resized by FFmpeg to the encoder's
  input size, and yields normalised batches of clips as soon as their frames are decoded.
  Only the frames still needed by a later clip are kept, so memory does not grow with the
  video length, and the main process only runs the encoder.
* **Batches never mix videos.** Clip ``j`` of a video is always in chunk ``j // batch_size``
  with the same neighbours, whatever else is in the run. A video's features therefore do
  not depend on the shard, the other videos or on a resume: reruns are byte-identical.
* **Every file is written atomically** (:func:`pal_eval.data.features.write_video_features`:
  the ``.npy`` first, then its sidecar with the centre times, each through a temporary file
  and a rename); a video is complete when both exist and agree, which is what a rerun checks
  before skipping it.
* **A bad video never stops the run**: the worker reports the reason, it lands in
  ``failures.json`` (``failures.shard<I>of<N>.json`` for a shard) and the run goes on.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from pal_eval.core.resample import resample_features
from pal_eval.data.features import META_FILE, dump_meta, write_video_features
from pal_eval.data.video_io import iter_frames, probe_video
from pal_eval.errors import InputError, PalEvalError
from pal_eval.extraction.equal_features import plan_centers, plan_clips  # equal-features hook
from pal_eval.extraction.folder import (
    ClipSettings,
    VideoEntry,
    build_meta,
    check_settings,
    failures_file,
    is_complete,
    library_versions,
    normalised,
)
from pal_eval.extraction.sampling import SamplingPolicy
from pal_eval.io import write_json


@dataclass
class ExtractionReport:
    """What a run did."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    clips: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the terminal."""
        rate = self.clips / self.seconds if self.seconds > 0 else 0.0
        return (f'{len(self.done)} extracted, {len(self.skipped)} already complete, '
                f'{len(self.failed)} failed ({self.clips} clips in {self.seconds:.1f} s, '
                f'{rate:.1f} clips/s)')


# --------------------------------------------------------------------------- clips

def normalise_clips(clips: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[N, T, H, W, 3]`` uint8 RGB clips to the encoder's ``[N, 3, T, H, W]`` float input."""
    tensor = torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 4, 1, 2, 3).float()
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1, 1)
    return ((tensor - mean_t) / std_t).contiguous()


def pool_features(output: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Average an encoder's feature map ``[N, C, t, h, w]`` (or ``[N, C, ...]``) to ``[N, C]``."""
    if isinstance(output, (tuple, list)):
        output = output[-1]  # multi-stage backbones return their stages; use the last one
    return output.flatten(2).mean(dim=2) if output.dim() > 2 else output


def _chunks_of_video(entry: VideoEntry, settings: ClipSettings,
                     batch_size: int) -> Iterator[dict]:
    """Decode one video once and yield its clips, ``batch_size`` at a time, in order."""
    info = probe_video(entry.path)
    plan = plan_clips(info['num_frames'], info['fps'], settings.policy)
    num_chunks = math.ceil(len(plan) / batch_size)
    header = {'video_id': entry.video_id, 'num_chunks': num_chunks, 'num_clips': len(plan),
              'fps': info['fps'], 'num_frames': info['num_frames']}
    # The last frame each chunk needs; plan rows only ever move forward in time.
    chunk_last = [int(plan[i * batch_size:(i + 1) * batch_size].max()) for i in range(num_chunks)]
    needed = set(np.unique(plan).tolist())
    buffer: dict[int, np.ndarray] = {}
    chunk, decoded, last_frame = 0, 0, None

    def build(k: int) -> dict:
        rows = plan[k * batch_size:(k + 1) * batch_size]
        # Frames past the last decoded one (a stream shorter than its header) repeat it.
        clips = np.stack([[buffer.get(int(i), last_frame) for i in row] for row in rows])
        first_needed = int(plan[(k + 1) * batch_size:].min()) if k + 1 < num_chunks else None
        for index in [i for i in buffer if first_needed is None or i < first_needed]:
            del buffer[index]
        return {**header, 'chunk': k,
                'clips': normalise_clips(clips, settings.mean, settings.std)}

    for index, frame in enumerate(iter_frames(entry.path, size=settings.input_size)):
        decoded, last_frame = index + 1, frame
        if index in needed:
            buffer[index] = frame
        # The last chunk waits for the end of the stream: a truncated file must fail before
        # the video can be completed.
        while chunk < num_chunks - 1 and chunk_last[chunk] <= index:
            yield build(chunk)
            chunk += 1
    if decoded == 0:
        raise InputError(entry.path, 'video has no decodable frames')
    # Headers may be off by a frame or two (edit lists); more than that is a broken file,
    # whose missing frames would otherwise be silently replaced by padding.
    if decoded < info['num_frames'] - max(2, 0.02 * info['num_frames']):
        raise InputError(entry.path, f'decoded only {decoded} of the {info["num_frames"]} '
                         'frames in its header (truncated or corrupt file)')
    while chunk < num_chunks:
        yield build(chunk)
        chunk += 1


class ClipStream(IterableDataset):
    """Batches of normalised clips of each video; DataLoader workers split the videos.

    Each item is a dict: ``video_id``, ``chunk`` (its index), ``num_chunks``, ``num_clips``,
    ``fps``, ``num_frames`` and ``clips`` (``[b, 3, T, H, W]`` float32), or ``video_id`` and
    ``error`` (the reason) when the video cannot be decoded.

    Args:
        entries: Videos to read.
        settings: Clip shape, normalisation and sampling policy.
        batch_size: Clips per item.
    """

    def __init__(self, entries: Sequence[VideoEntry], settings: ClipSettings, batch_size: int):
        self.entries = list(entries)
        self.settings = settings
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[dict]:
        worker = get_worker_info()
        mine = self.entries if worker is None else self.entries[worker.id::worker.num_workers]
        for entry in mine:
            try:
                yield from _chunks_of_video(entry, self.settings, self.batch_size)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded, the run goes on
                reason = str(exc) if isinstance(exc, PalEvalError) else (
                    f'{type(exc).__name__}: {exc}')
                yield {'video_id': entry.video_id, 'error': reason}


# --------------------------------------------------------------------------- encoding

def encode_clips(model: torch.nn.Module, clips: torch.Tensor, *, device: str = 'cpu',
                 dtype: str = 'float32') -> np.ndarray:
    """Run the encoder on a batch of clips and pool to ``[N, C]`` float32 features."""
    clips = clips.to(device, non_blocking=True)
    with torch.inference_mode():
        if dtype == 'float32':
            output = model(clips)
        else:
            # autocast keeps precision-sensitive ops (reductions, norms) in float32.
            with torch.autocast(device_type=torch.device(device).type,
                                dtype=getattr(torch, dtype)):
                output = model(clips)
    return pool_features(output).float().cpu().numpy()


def extract_from_frames(model: torch.nn.Module, frames: np.ndarray, fps: float,
                        settings: ClipSettings, *, batch_size: int = 8, device: str = 'cpu',
                        dtype: str = 'float32') -> tuple[np.ndarray, np.ndarray]:
    """Features of an in-memory video (frames already at the input size).

    Same clips, normalisation, batching and centre times as the folder extractor; used by the
    similarity maps, where the transformed videos only exist in memory.

    Returns:
        ``(features [T, C] float32, centers [T] seconds)``.
    """
    policy = settings.policy
    plan = plan_clips(len(frames), fps, policy)
    parts = [encode_clips(model, normalise_clips(frames[plan[i:i + batch_size]], settings.mean,
                                                 settings.std), device=device, dtype=dtype)
             for i in range(0, len(plan), batch_size)]
    features = np.concatenate(parts).astype(np.float32)
    centers = plan_centers(len(frames), fps, policy)
    if policy.num_snippets is not None:
        features, centers = resample_features(features, centers, len(frames) / fps,
                                              policy.num_snippets, policy.resample)
    return features, centers


def probe_feature_dim(model: torch.nn.Module, settings: ClipSettings, *, device: str = 'cpu',
                      dtype: str = 'float32') -> int:
    """Feature dimension of ``model``, from one forward pass on a blank clip."""
    height, width = settings.input_size
    blank = torch.zeros(1, 3, settings.policy.frames_per_clip, height, width)
    return int(encode_clips(model, blank, device=device, dtype=dtype).shape[1])


# --------------------------------------------------------------------------- the run

def extract_folder(model: torch.nn.Module, entries: Sequence[VideoEntry],
                   out_dir: str | os.PathLike,
                   settings: ClipSettings, encoder_meta: dict, *, batch_size: int = 8,
                   num_workers: int = 2, device: str = 'cpu', dtype: str = 'float32',
                   overwrite: bool = False, shard: tuple[int, int] = (0, 1),
                   all_video_ids: Sequence[str] | None = None,
                   progress: bool = True) -> ExtractionReport:
    """Extract features of ``entries`` into ``out_dir`` (resumable, atomic, fault tolerant).

    Args:
        model: Encoder in eval mode, ``[N, 3, T, H, W] -> [N, C, ...]``.
        entries: Videos of this run (this shard's share).
        out_dir: Feature folder (format of :mod:`pal_eval.data.features`).
        settings: Clip shape, normalisation and sampling policy.
        encoder_meta: ``arch``, ``pretext``, ``source_sha256``, ``checkpoint``...
        batch_size: Clips per forward pass (never mixing videos).
        num_workers: DataLoader decoding processes (0: decode in this process).
        device: Torch device of ``model``.
        dtype: ``'float32'``, ``'float16'`` or ``'bfloat16'`` (autocast); files are float32.
        overwrite: Replace a folder made with other settings instead of refusing.
        shard: ``(index, count)`` of this run, for the failures file name.
        all_video_ids: Ids of the whole job (all shards), recorded for ``--merge``.
        progress: Show a tqdm bar (videos/s, clips/s, ETA).

    Returns:
        What was extracted, skipped and failed.

    Examples:
        >>> import tempfile, numpy as np, torch
        >>> from pal_eval.data.video_io import write_video
        >>> from pal_eval.extraction.folder import list_videos
        >>> folder = tempfile.mkdtemp()
        >>> write_video(f'{folder}/v.mp4', np.zeros((12, 16, 16, 3), np.uint8), fps=6)
        >>> settings = ClipSettings(SamplingPolicy(frames_per_clip=4, stride=4), (16, 16))
        >>> model = torch.nn.Conv3d(3, 5, 1).eval()
        >>> report = extract_folder(model, list_videos(folder), f'{folder}/out', settings,
        ...                         {'arch': 'conv'}, num_workers=0, progress=False)
        >>> report.done, np.load(f'{folder}/out/v.npy').shape
        (['v'], (3, 5))
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    model.eval()
    feature_dim = probe_feature_dim(model, settings, device=device, dtype=dtype)
    meta = normalised(build_meta(settings, encoder_meta, feature_dim, dtype))
    check_settings(out_dir, meta, overwrite=overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta['videos_expected'] = sorted(all_video_ids or [e.video_id for e in entries])
    meta['versions'] = library_versions()
    meta_path = out_dir / META_FILE
    if not meta_path.exists():  # written first so a concurrent shard sees the settings
        dump_meta(out_dir, {**meta, 'videos_done': []})

    report = ExtractionReport()
    todo: list[VideoEntry] = []
    for entry in entries:
        if is_complete(out_dir, entry.video_id, feature_dim):
            report.skipped.append(entry.video_id)
        else:
            todo.append(entry)
    failures_path = out_dir / failures_file(shard)

    started = time.perf_counter()
    loader = DataLoader(ClipStream(todo, settings, batch_size), batch_size=None,
                        num_workers=min(num_workers, len(todo)),
                        persistent_workers=False)
    pending: dict[str, list] = {}
    bar = tqdm(total=len(todo), unit='video', disable=not progress, dynamic_ncols=True)
    with bar:
        for item in loader if todo else []:
            video_id = item['video_id']
            if 'error' in item:
                pending.pop(video_id, None)
                report.failed[video_id] = item['error']
                write_json(failures_path, report.failed)
                bar.update(1)
                continue
            parts = pending.setdefault(video_id, [])
            parts.append(encode_clips(model, item['clips'], device=device, dtype=dtype))
            report.clips += len(item['clips'])
            if len(parts) < item['num_chunks']:
                continue
            del pending[video_id]
            features = np.concatenate(parts)
            reason = _finish_video(out_dir, video_id, features, item, settings.policy)
            if reason:
                report.failed[video_id] = reason
                write_json(failures_path, report.failed)
            else:
                report.done.append(video_id)
            bar.update(1)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f'{report.clips / max(elapsed, 1e-9):.1f} clips/s')
    report.seconds = time.perf_counter() - started

    if report.failed:
        write_json(failures_path, report.failed)
    elif failures_path.exists():
        failures_path.unlink()  # an earlier run's failures were all recovered
    done = sorted(p.stem for p in out_dir.glob('*.npy') if (out_dir / f'{p.stem}.json').exists())
    dump_meta(out_dir, {**meta, 'videos_done': done})
    return report


def _finish_video(out_dir: Path, video_id: str, features: np.ndarray, item: dict,
                  policy: SamplingPolicy) -> str | None:
    """Resample if the policy asks, check and write one video; returns a failure reason."""
    num_frames, fps = item['num_frames'], item['fps']
    duration = num_frames / fps
    centers = plan_centers(num_frames, fps, policy)
    if len(centers) != len(features):
        return f'internal: {len(features)} features for {len(centers)} clips'
    if not np.isfinite(features).all():
        return 'encoder produced non-finite features (NaN/inf)'
    if policy.num_snippets is not None:
        features, centers = resample_features(features, centers, duration,
                                              policy.num_snippets, policy.resample)
    write_video_features(out_dir, video_id, features.astype(np.float32), centers,
                         duration=duration, fps=fps, num_frames=num_frames)
    return None
