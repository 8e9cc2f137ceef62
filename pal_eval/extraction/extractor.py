"""The extraction loop: decode in DataLoader workers, encode batched clips, write features.

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

import hashlib
import importlib.metadata
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
from pal_eval.data.features import META_FILE, check_video_id, dump_meta, write_video_features
from pal_eval.data.video_io import iter_frames, probe_video
from pal_eval.errors import InputError, PalEvalError
from pal_eval.extraction.sampling import SamplingPolicy, clip_center_times, clip_frame_indices
from pal_eval.io import read_json, write_json

VIDEO_SUFFIXES = ('.mp4', '.mkv', '.avi', '.webm', '.mov', '.m4v')
#: meta.json fields that must agree before new features may join an existing folder.
SETTINGS_KEYS = ('encoder', 'checkpoint_sha256', 'pretext', 'fps', 'frames_per_clip',
                 'frame_interval', 'stride', 'input_size', 'mean', 'std', 'feature_dim',
                 'sampling', 'pooling', 'dtype')
FORMAT_VERSION = 1


@dataclass(frozen=True)
class VideoEntry:
    """A video to extract: its id (the output file stem) and its path."""

    video_id: str
    path: str


@dataclass(frozen=True)
class ClipSettings:
    """What the encoder expects: clip shape and normalisation, plus the sampling policy.

    Args:
        policy: Sampling policy (frames per clip, interval, stride, fps, snippets).
        input_size: ``(height, width)`` every frame is resized to (whole frame, no crop).
        mean: Per-channel RGB mean on the 0-255 scale.
        std: Per-channel RGB standard deviation on the 0-255 scale.
    """

    policy: SamplingPolicy
    input_size: tuple[int, int]
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)


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


# --------------------------------------------------------------------------- video lists

def list_videos(source: str | os.PathLike) -> list[VideoEntry]:
    """The videos of a folder (every file with a video suffix) or of a list file.

    A list file has one video per line: either ``path`` (the id is the file stem) or
    ``video_id<TAB>path``; relative paths are relative to the list's folder; blank lines and
    lines starting with ``#`` are ignored.

    Raises:
        InputError: missing source, an unsafe or duplicate id, or no video at all.
    """
    source = Path(source)
    entries: list[VideoEntry] = []
    if source.is_dir():
        entries = [VideoEntry(p.stem, str(p)) for p in sorted(source.iterdir())
                   if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
        where = {e.video_id: source for e in entries}
    elif source.is_file():
        where = {}
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            video_id, _, path = line.partition('\t') if '\t' in line else ('', '', line)
            path = Path(path.strip())
            path = path if path.is_absolute() else source.parent / path
            video_id = video_id.strip() or path.stem
            try:
                check_video_id(video_id)
            except InputError:
                raise InputError(f'{source}:{number}', 'unsafe video id (path separator, '
                                 '".." or empty)', record=video_id, field='video_id') from None
            where.setdefault(video_id, f'{source}, line {number}')
            entries.append(VideoEntry(video_id, str(path)))
    else:
        raise InputError(source, 'video folder or list file not found')
    seen: set[str] = set()
    for entry in entries:
        check_video_id(entry.video_id)
        if entry.video_id in seen:
            raise InputError(source, 'duplicate video id', record=entry.video_id,
                             field='video_id')
        seen.add(entry.video_id)
    if not entries:
        raise InputError(source, f'no videos found (suffixes {", ".join(VIDEO_SUFFIXES)})')
    return entries


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``'I/N'`` (0-based shard ``I`` of ``N``).

    Examples:
        >>> parse_shard('1/4')
        (1, 4)
    """
    try:
        index, count = (int(part) for part in text.split('/'))
    except ValueError:
        raise PalEvalError(f'--shard must look like I/N (e.g. 0/4), got {text!r}') from None
    if count < 1 or not 0 <= index < count:
        raise PalEvalError(f'--shard I/N needs 0 <= I < N, got {text!r}')
    return index, count


def shard_videos(entries: Sequence[VideoEntry], index: int, count: int) -> list[VideoEntry]:
    """Shard ``index`` of ``count``: every ``count``-th video in sorted-id order.

    The split depends only on the set of ids (not on listing order), so every process
    computes the same split and the shards cover each video exactly once.
    """
    ordered = sorted(entries, key=lambda e: e.video_id)
    return ordered[index::count]


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
    plan = clip_frame_indices(info['num_frames'], info['fps'], settings.policy)
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
    plan = clip_frame_indices(len(frames), fps, policy)
    parts = [encode_clips(model, normalise_clips(frames[plan[i:i + batch_size]], settings.mean,
                                                 settings.std), device=device, dtype=dtype)
             for i in range(0, len(plan), batch_size)]
    features = np.concatenate(parts).astype(np.float32)
    centers = clip_center_times(len(frames), fps, policy)
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


# --------------------------------------------------------------------------- folder state

def is_complete(out_dir: Path, video_id: str, feature_dim: int | None = None) -> bool:
    """Whether a video's features exist, are readable and agree with their sidecar."""
    npy, side = out_dir / f'{video_id}.npy', out_dir / f'{video_id}.json'
    if not (npy.is_file() and side.is_file()):
        return False
    try:
        shape = np.load(npy, mmap_mode='r').shape
        centers = read_json(side)['centers']
    except (OSError, ValueError, KeyError, TypeError, PalEvalError):
        return False
    return (len(shape) == 2 and shape[0] == len(centers) and shape[0] > 0
            and (feature_dim is None or shape[1] == feature_dim))


def failures_file(shard: tuple[int, int] = (0, 1)) -> str:
    """Name of the failures file of a run (one per shard, so shards never race)."""
    index, count = shard
    return 'failures.json' if count == 1 else f'failures.shard{index}of{count}.json'


def check_settings(out_dir: Path, settings: dict, *, overwrite: bool) -> None:
    """Refuse to mix features made with different settings into one folder.

    With ``overwrite`` the previous features (``*.npy`` with their sidecars), ``meta.json``
    and failure files are deleted first.

    Raises:
        InputError: the folder holds features with other settings, or files not written by
            ``pal-eval extract``, and ``overwrite`` is off.
    """
    meta_path = out_dir / META_FILE
    existing = sorted(out_dir.glob('*.npy')) if out_dir.is_dir() else []
    if overwrite:
        for npy in existing:
            npy.unlink()
            npy.with_suffix('.json').unlink(missing_ok=True)
        for path in [meta_path, *out_dir.glob('failures*.json')] if out_dir.is_dir() else []:
            path.unlink(missing_ok=True)
        return
    if not meta_path.exists():
        if existing:
            raise InputError(out_dir, f'holds {len(existing)} .npy files but no meta.json; '
                             'pass --overwrite to replace them or choose another --out')
        return
    old = read_json(meta_path)
    for key in SETTINGS_KEYS:
        if old.get(key) != settings.get(key):
            raise InputError(meta_path, f'existing features were extracted with different '
                             f'settings ({old.get(key)!r} here, {settings.get(key)!r} now); '
                             'pass --overwrite to replace them or choose another --out',
                             field=key)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the features."""
    import av

    import pal_eval

    versions = {'pal_eval': pal_eval.__version__, 'torch': torch.__version__,
                'numpy': np.__version__, 'av': av.__version__}
    for name in ('mmengine', 'mmaction2'):
        try:  # from the installed metadata: importing mmaction here would cost seconds
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def build_meta(settings: ClipSettings, encoder_meta: dict, feature_dim: int,
               dtype: str = 'float32') -> dict:
    """The settings part of ``meta.json`` (compared by :func:`check_settings`)."""
    policy = settings.policy
    return {
        'format_version': FORMAT_VERSION,
        'encoder': encoder_meta.get('arch', 'unknown'),
        'checkpoint': encoder_meta.get('checkpoint'),
        'checkpoint_sha256': encoder_meta.get('source_sha256'),
        'pretext': encoder_meta.get('pretext'),
        'backbone_cfg': encoder_meta.get('backbone_cfg'),
        'fps': policy.target_fps,  # None: each video at its native rate (see per-video json)
        'frames_per_clip': policy.frames_per_clip,
        'frame_interval': policy.frame_interval,
        'stride': policy.stride,
        'input_size': list(settings.input_size),
        'mean': list(settings.mean),
        'std': list(settings.std),
        'feature_dim': int(feature_dim),
        'sampling': policy.to_dict(),
        'pooling': 'mean over time and space of the last feature map',
        'dtype': dtype,
    }


def _normalised(meta: dict) -> dict:
    """``meta`` as it reads back from JSON (tuples become lists), for comparisons."""
    import json

    return json.loads(json.dumps(meta))


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
    meta = _normalised(build_meta(settings, encoder_meta, feature_dim, dtype))
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
    centers = clip_center_times(num_frames, fps, policy)
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


# --------------------------------------------------------------------------- merge

def merge_folder(out_dir: str | os.PathLike, *, expected: Sequence[str] | None = None,
                 pack: str | os.PathLike | None = None) -> dict:
    """Check that every expected video is complete; gather shard failures; optionally pack.

    Args:
        out_dir: Feature folder written by one or several shards.
        expected: Ids that must be present (default: ``videos_expected`` of ``meta.json``).
        pack: Write all features into this ``.npz`` (keys ``<id>`` and ``<id>.centers``).

    Returns:
        ``{'complete': [...], 'missing': [...], 'failures': {...}}``; ``meta.json``'s
        ``videos_done`` and ``failures.json`` are updated.

    Raises:
        InputError: no ``meta.json`` in the folder.
    """
    from pal_eval.data.features import FeatureStore
    from pal_eval.io import atomic_write

    out_dir = Path(out_dir)
    meta_path = out_dir / META_FILE
    if not meta_path.is_file():
        raise InputError(meta_path, 'not found: not a folder written by pal-eval extract')
    meta = read_json(meta_path)
    expected = sorted(expected if expected is not None else meta.get('videos_expected', []))
    dim = meta.get('feature_dim')
    complete = [v for v in expected if is_complete(out_dir, v, dim)]
    missing = sorted(set(expected) - set(complete))
    failures: dict[str, str] = {}
    for path in sorted(out_dir.glob('failures*.json')):
        failures.update({k: v for k, v in read_json(path).items() if k in missing})
    if failures:
        write_json(out_dir / 'failures.json', failures)
    for path in out_dir.glob('failures.shard*.json'):
        path.unlink()
    if not failures:
        (out_dir / 'failures.json').unlink(missing_ok=True)
    meta['videos_done'] = sorted(p.stem for p in out_dir.glob('*.npy')
                                 if is_complete(out_dir, p.stem, dim))
    dump_meta(out_dir, meta)
    if pack is not None and not missing:
        store = FeatureStore(out_dir)
        arrays = {}
        for video_id in complete:
            loaded = store.load(video_id)
            arrays[video_id] = loaded.features
            arrays[f'{video_id}.centers'] = loaded.centers
        with atomic_write(pack, 'wb') as handle:
            np.savez(handle, **arrays)
    return {'complete': complete, 'missing': missing, 'failures': failures}


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()
