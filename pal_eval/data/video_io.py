"""Read and write H.264 mp4 files with PyAV: the one video I/O used by every stage."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pal_eval.errors import InputError
from pal_eval.io import atomic_write

#: File suffixes taken for videos when a folder is scanned (extraction, predict, pretraining).
VIDEO_SUFFIXES = ('.mp4', '.mkv', '.avi', '.webm', '.mov', '.m4v')


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float, *,
                crf: int = 18, codec: str = 'libx264') -> None:
    """Encode ``frames`` ([T, H, W, 3] uint8 RGB) into an mp4 at ``fps``, atomically.

    The encoder runs single-threaded with a fixed preset and no macroblock tree so that
    the same frames give the same bytes (the synthetic benchmark relies on this).

    Args:
        path: Destination ``.mp4``.
        frames: RGB frames, height and width even (H.264 with yuv420p needs it).
        fps: Frame rate; fractional rates are stored as an exact fraction.
        crf: x264 constant rate factor (lower is better quality).
        codec: PyAV encoder name.
    """
    from fractions import Fraction

    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f'frames must be [T, H, W, 3] uint8, got {frames.shape} {frames.dtype}')
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError(f'height and width must be even for yuv420p, got {height}x{width}')
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_write(path, 'wb') as handle:
        with av.open(handle, mode='w', format='mp4') as container:
            stream = container.add_stream(codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
            stream.thread_count = 1
            # mbtree off: with it, x264's output varied between identical runs on a
            # loaded machine (7 different files from 400 encodes of the same frames);
            # without it, all 400 were the same file (two busy cores beside the encoder).
            stream.options = {'crf': str(crf), 'preset': 'veryfast', 'threads': '1',
                              **({'mbtree': '0'} if codec == 'libx264' else {})}
            for index, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(image, format='rgb24')
                # Explicit timestamps, so rate control never depends on guessed durations.
                frame.pts, frame.time_base = index, 1 / rate
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)


def probe_video(path: str | os.PathLike) -> dict:
    """Return ``{'fps', 'num_frames', 'duration', 'width', 'height'}`` of a video file.

    ``num_frames`` is counted by decoding when the container does not store it.

    Raises:
        InputError: the file is missing, empty or not a decodable video.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(path, 'video file not found')
    if path.stat().st_size == 0:
        raise InputError(path, 'video file is empty (0 bytes)')
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(path, 'no video stream')
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            num_frames = stream.frames or sum(1 for _ in container.decode(stream))
            width, height = stream.codec_context.width, stream.codec_context.height
    except av.error.FFmpegError as exc:
        raise InputError(path, f'cannot decode video: {exc}') from None
    if fps <= 0 or num_frames <= 0:
        raise InputError(path, 'video has no decodable frames')
    return {'fps': fps, 'num_frames': int(num_frames), 'duration': num_frames / fps,
            'width': width, 'height': height}


def read_video(path: str | os.PathLike, *,
               size: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """Decode every frame of a video as RGB uint8.

    Args:
        path: Video file.
        size: Optional ``(height, width)`` to resize to (done by FFmpeg's scaler).

    Returns:
        ``(frames [T, H, W, 3] uint8, fps)``.

    Raises:
        InputError: the file is missing, empty or not decodable.
    """
    import av

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(path, 'video file not found or empty')
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            kwargs = {} if size is None else {'height': size[0], 'width': size[1]}
            frames = [frame.to_ndarray(format='rgb24', **kwargs)
                      for frame in container.decode(stream)]
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(path, f'cannot decode video: {exc}') from None
    if not frames:
        raise InputError(path, 'video has no decodable frames')
    return np.stack(frames), fps


def iter_frames(path: str | os.PathLike, *,
                size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Decode a video frame by frame (RGB uint8 ``[H, W, 3]``) without holding it in memory.

    Used by feature extraction, where whole videos at full length would not fit in memory.

    Args:
        path: Video file.
        size: Optional ``(height, width)`` to resize to (done by FFmpeg's scaler).

    Raises:
        InputError: the file is missing, empty or not decodable (also mid-stream).
    """
    import av

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(path, 'video file not found or empty')
    kwargs = {} if size is None else {'height': size[0], 'width': size[1]}
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(path, 'no video stream')
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            for frame in container.decode(stream):
                yield frame.to_ndarray(format='rgb24', **kwargs)
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(path, f'cannot decode video: {exc}') from None
