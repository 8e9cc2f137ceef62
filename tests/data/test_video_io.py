"""Tests of pal_eval.data.video_io: round trip and clear errors on bad files."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.data.video_io import probe_video, read_video, write_video
from pal_eval.errors import InputError


def _ramp_frames(num_frames: int = 12, height: int = 32, width: int = 48) -> np.ndarray:
    """Smooth frames (a moving ramp) that H.264 keeps within a few grey levels."""
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        frames[t, ..., 0] = (cols * 4 + t * 8) % 256
        frames[t, ..., 1] = rows * 6
        frames[t, ..., 2] = 128
    return frames


def test_round_trip_keeps_frames_fps_and_size(tmp_path):
    frames = _ramp_frames()
    path = tmp_path / 'clip.mp4'
    write_video(path, frames, fps=10)
    decoded, fps = read_video(path)
    assert fps == pytest.approx(10)
    assert decoded.shape == frames.shape
    error = np.abs(decoded.astype(int) - frames.astype(int))
    assert error.mean() < 4  # lossy codec, but close
    info = probe_video(path)
    assert info['num_frames'] == len(frames)
    assert (info['width'], info['height']) == (48, 32)
    assert info['duration'] == pytest.approx(len(frames) / 10)


def test_same_frames_give_same_bytes(tmp_path):
    frames = _ramp_frames()
    write_video(tmp_path / 'a.mp4', frames, fps=8)
    write_video(tmp_path / 'b.mp4', frames, fps=8)
    assert (tmp_path / 'a.mp4').read_bytes() == (tmp_path / 'b.mp4').read_bytes()


def test_read_resizes_on_request(tmp_path):
    write_video(tmp_path / 'a.mp4', _ramp_frames(), fps=8)
    decoded, _ = read_video(tmp_path / 'a.mp4', size=(16, 24))
    assert decoded.shape == (12, 16, 24, 3)


@pytest.mark.parametrize('content', [b'', b'not a video at all' * 50])
@pytest.mark.parametrize('reader', [read_video, probe_video])
def test_empty_or_corrupt_file_is_a_one_line_input_error(tmp_path, content, reader):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        reader(path)
    assert 'broken.mp4' in str(info.value)
    assert '\n' not in str(info.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match='missing.mp4'):
        probe_video(tmp_path / 'missing.mp4')


def test_odd_size_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match='even'):
        write_video(tmp_path / 'odd.mp4', np.zeros((2, 15, 16, 3), np.uint8), fps=8)
    assert not (tmp_path / 'odd.mp4').exists()
