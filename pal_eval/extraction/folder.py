"""The feature folder's bookkeeping, apart from the extraction loop (:mod:`.extractor`).

* which videos: a folder or list file of videos (:func:`list_videos`), split into shards
  (:func:`parse_shard`, :func:`shard_videos`);
* with which settings: the clip settings (:class:`ClipSettings`), the ``meta.json`` that
  records them (:func:`build_meta`) and the check that refuses to mix features made with
  other settings into a folder (:func:`check_settings`);
* in which state: complete videos (:func:`is_complete`), failure files
  (:func:`failures_file`), the merge of a sharded job (:func:`merge_folder`).

Torch-free: ``pal-eval extract --merge`` and the layout checks never import it.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pal_eval.data.features import META_FILE, check_video_id, dump_meta
from pal_eval.data.video_io import VIDEO_SUFFIXES
from pal_eval.errors import InputError, PalEvalError
from pal_eval.extraction.sampling import SamplingPolicy
from pal_eval.io import read_json, write_json
from pal_eval.version import __version__

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


#: failure files a run writes (:func:`failures_file`): the only non-video files,
#: besides ``meta.json``, that ``--overwrite`` deletes
_FAILURES_NAME = re.compile(r'failures(\.shard\d+of\d+)?\.json')


def is_extraction_folder(out_dir: str | os.PathLike) -> bool:
    """Whether ``out_dir`` holds the ``meta.json`` of a ``pal-eval extract`` run.

    Any run writes it first (before any video), with ``format_version`` and the ids it
    will write (``videos_expected``); a folder of pre-extracted features, a benchmark
    folder or a user's ``meta.json`` lacks them.
    """
    meta_path = Path(out_dir) / META_FILE
    if not meta_path.is_file():
        return False
    try:
        meta = read_json(meta_path)
    except PalEvalError:
        return False
    return (isinstance(meta, dict) and 'format_version' in meta
            and isinstance(meta.get('videos_expected'), list))


def check_out_folder(out_dir: str | os.PathLike) -> bool:
    """Refuse, before the encoder is even loaded, an ``--out`` that holds anything
    ``pal-eval extract`` did not write (nothing of a user's is replaced or deleted).

    Returns:
        ``True`` for an earlier run's folder (resume or ``--overwrite``), ``False`` for
        an absent or empty folder.

    Raises:
        PalEvalError: a file, or a non-empty folder without an extraction ``meta.json``.
    """
    from pal_eval.io import check_output_folder

    return check_output_folder('--out', out_dir, ours=is_extraction_folder,
                               writer='pal-eval extract (no meta.json of an extraction run)')


def _delete_listed(out_dir: Path, meta: dict) -> None:
    """Delete what an earlier run wrote, as its ``meta.json`` lists it: the features of
    its videos, its failure files and ``meta.json`` itself; nothing else."""
    ids = {*meta.get('videos_expected', []), *(meta.get('videos_done') or [])}
    for video_id in ids:
        try:
            check_video_id(video_id)   # a crafted meta.json must not reach outside
        except InputError:
            continue
        (out_dir / f'{video_id}.npy').unlink(missing_ok=True)
        (out_dir / f'{video_id}.json').unlink(missing_ok=True)
    for path in out_dir.iterdir():
        if _FAILURES_NAME.fullmatch(path.name) and path.is_file():
            path.unlink()
    (out_dir / META_FILE).unlink(missing_ok=True)


def check_settings(out_dir: Path, settings: dict, *, overwrite: bool) -> None:
    """Refuse to mix features made with different settings into one folder.

    With ``overwrite`` the previous run's files are deleted first: the features of the
    videos its ``meta.json`` lists (``*.npy`` with their sidecars), its failure files
    and ``meta.json``; any other file stays.

    Raises:
        PalEvalError: the folder holds files not written by ``pal-eval extract``
            (whatever ``overwrite`` says), or features with other settings and
            ``overwrite`` is off.
    """
    out_dir = Path(out_dir)
    if not check_out_folder(out_dir):
        return
    meta_path = out_dir / META_FILE
    old = read_json(meta_path)
    if overwrite:
        _delete_listed(out_dir, old)
        return
    for key in SETTINGS_KEYS:
        if old.get(key) != settings.get(key):
            raise InputError(meta_path, f'existing features were extracted with different '
                             f'settings ({old.get(key)!r} here, {settings.get(key)!r} now); '
                             'pass --overwrite to replace them or choose another --out',
                             field=key)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the features."""
    import av
    import torch

    versions = {'pal_eval': __version__, 'torch': torch.__version__,
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


def normalised(meta: dict) -> dict:
    """``meta`` as it reads back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(meta))


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
