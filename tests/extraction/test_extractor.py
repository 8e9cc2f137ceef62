"""The extraction loop: correctness vs a full decode, failures, resume, shards, merge."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from standin import TinyEncoder, make_videos, tiny_settings

from pal_eval.cli import main as cli_main
from pal_eval.data.features import FeatureStore
from pal_eval.data.video_io import read_video
from pal_eval.errors import InputError
from pal_eval.extraction.extractor import extract_folder
from pal_eval.extraction.folder import VideoEntry, list_videos, merge_folder, shard_videos

META = {'arch': 'tiny', 'pretext': 'test', 'source_sha256': 'abc'}


def run(videos, out, settings=None, **kwargs):
    kwargs.setdefault('num_workers', 0)
    return extract_folder(TinyEncoder().eval(), list_videos(videos) if isinstance(
        videos, (str, Path)) else videos, out, settings or tiny_settings(), META,
        progress=False, **kwargs)


def reference_features(path: Path, per_clip: int, stride: int) -> np.ndarray:
    """Decode the whole video, cut clips by hand, normalise in numpy, run the encoder."""
    frames, _ = read_video(path, size=(16, 16))
    starts = list(range(0, max(len(frames) - per_clip, 0) + 1, stride))
    if starts[-1] + per_clip < len(frames):
        starts.append(starts[-1] + stride)  # the tail clip
    clips = np.stack([[frames[min(s + k, len(frames) - 1)] for k in range(per_clip)]
                      for s in starts]).astype(np.float32)
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    clips = ((clips - mean) / std).transpose(0, 4, 1, 2, 3)
    with torch.no_grad():
        feature_map = TinyEncoder().eval()(torch.from_numpy(np.ascontiguousarray(clips)))
    return feature_map.numpy().mean(axis=(2, 3, 4))


def test_features_match_a_full_decode(tiny_videos, tmp_path):
    report = run(tiny_videos, tmp_path / 'out', batch_size=3)
    assert sorted(report.done) == ['alpha', 'beta', 'gamma'] and not report.failed
    store = FeatureStore(tmp_path / 'out')
    for video_id, (num_frames, fps) in {'alpha': (30, 10.0), 'beta': (21, 15.0),
                                        'gamma': (3, 10.0)}.items():
        loaded = store.load(video_id)
        expected = reference_features(tiny_videos / f'{video_id}.mp4', 4, 4)
        np.testing.assert_allclose(loaded.features, expected, rtol=1e-4, atol=1e-5)
        assert loaded.duration == pytest.approx(num_frames / fps)
    # alpha: 30 frames at 10 fps, clips [0,4) ... [24,28), [28,30): 8 clips
    np.testing.assert_allclose(store.load('alpha').centers,
                               [0.2, 0.6, 1.0, 1.4, 1.8, 2.2, 2.6, 2.9])
    assert store.meta['feature_dim'] == 6 and store.meta['stride'] == 4
    assert store.meta['videos_done'] == ['alpha', 'beta', 'gamma']


def test_resample_policy_writes_t_snippets(tiny_videos, tmp_path):
    run(tiny_videos, tmp_path / 'out', tiny_settings(num_snippets=10, resample='mean'))
    loaded = FeatureStore(tmp_path / 'out').load('alpha')
    assert loaded.features.shape == (10, 6)
    np.testing.assert_allclose(loaded.centers, (np.arange(10) + 0.5) * 0.3)


@pytest.mark.slow
def test_decoding_workers_give_identical_bytes(tiny_videos, tmp_path):
    run(tiny_videos, tmp_path / 'w0', num_workers=0, batch_size=2)
    run(tiny_videos, tmp_path / 'w2', num_workers=2, batch_size=2)
    for video_id in ('alpha', 'beta', 'gamma'):
        assert ((tmp_path / 'w0' / f'{video_id}.npy').read_bytes()
                == (tmp_path / 'w2' / f'{video_id}.npy').read_bytes())


def test_bad_videos_land_in_failures_and_the_rest_succeeds(tiny_videos, tmp_path):
    videos = tmp_path / 'videos'
    videos.mkdir()
    for name in ('alpha', 'gamma'):
        (videos / f'{name}.mp4').write_bytes((tiny_videos / f'{name}.mp4').read_bytes())
    good = (tiny_videos / 'beta.mp4').read_bytes()
    (videos / 'corrupt.mp4').write_bytes(good[:40] + b'\x00garbage' * 50)  # broken header
    (videos / 'truncated.mp4').write_bytes(good[: len(good) // 3])
    (videos / 'empty.mp4').write_bytes(b'')
    report = run(videos, tmp_path / 'out')
    failures = json.loads((tmp_path / 'out' / 'failures.json').read_text())
    assert {'corrupt', 'empty'} <= set(failures) and 'empty (0 bytes)' in failures['empty']
    assert set(report.failed) == set(failures)
    assert {'alpha', 'gamma'} <= set(report.done)
    assert set(FeatureStore(tmp_path / 'out').video_ids) == set(report.done)
    assert not list((tmp_path / 'out').glob('*.tmp'))


def test_cli_exits_non_zero_with_a_summary_when_a_video_failed(tiny_videos, tmp_path, capsys,
                                                             monkeypatch):
    import pal_eval.extraction.encoder as encoder

    monkeypatch.setattr(encoder, 'load_encoder', lambda *a, **k: (TinyEncoder().eval(), {
        'arch': 'tiny', 'frames_per_clip': 4, 'frame_interval': 1, 'input_size': 16}))
    videos = tmp_path / 'videos'
    videos.mkdir()
    (videos / 'alpha.mp4').write_bytes((tiny_videos / 'alpha.mp4').read_bytes())
    (videos / 'empty.mp4').write_bytes(b'')
    config = tmp_path / 'cfg.py'
    config.write_text("sampling = dict(policy='sliding', stride=4)\n")
    code = cli_main(['extract', str(config), '--checkpoint', 'random', '--videos', str(videos),
                     '--out', str(tmp_path / 'out'), '--workers', '0', '--no-progress'])
    captured = capsys.readouterr()
    assert code == 1
    assert '1 extracted' in captured.out and 'empty' in captured.err


def test_path_traversal_ids_are_refused(tiny_videos, tmp_path):
    listing = tmp_path / 'list.txt'
    listing.write_text(f'../evil\t{tiny_videos / "alpha.mp4"}\n')
    with pytest.raises(InputError, match='unsafe video id') as info:
        list_videos(listing)
    assert "list.txt:1, video '../evil'" in str(info.value)
    with pytest.raises(InputError):
        run([VideoEntry('a/b', str(tiny_videos / 'alpha.mp4'))], tmp_path / 'out')
    assert not (tmp_path / 'evil.npy').exists()
    assert not (tmp_path / 'out' / 'a').exists()


def test_rerun_skips_complete_videos_and_redoes_broken_ones(tiny_videos, tmp_path):
    out = tmp_path / 'out'
    run(tiny_videos, out)
    original = (out / 'beta.npy').read_bytes()
    (out / 'beta.npy').write_bytes(original[:50])  # a foreign truncation
    (out / 'gamma.json').unlink()                   # killed between .npy and sidecar
    report = run(tiny_videos, out)
    assert sorted(report.skipped) == ['alpha'] and sorted(report.done) == ['beta', 'gamma']
    assert (out / 'beta.npy').read_bytes() == original


def test_other_settings_are_refused_unless_overwrite(tiny_videos, tmp_path):
    out = tmp_path / 'out'
    run(tiny_videos, out)
    with pytest.raises(InputError, match="field 'stride'"):
        run(tiny_videos, out, tiny_settings(stride=2))
    report = run(tiny_videos, out, tiny_settings(stride=2), overwrite=True)
    assert len(report.done) == 3
    assert FeatureStore(out).meta['stride'] == 2


@pytest.mark.slow
def test_shards_then_merge_and_pack(tiny_videos, tmp_path):
    out = tmp_path / 'out'
    entries = list_videos(tiny_videos)
    ids = [e.video_id for e in entries]
    run(shard_videos(entries, 0, 2), out, shard=(0, 2), all_video_ids=ids)
    partial = merge_folder(out)
    assert partial['missing'] == [e.video_id for e in shard_videos(entries, 1, 2)]
    run(shard_videos(entries, 1, 2), out, shard=(1, 2), all_video_ids=ids)
    result = merge_folder(out, pack=tmp_path / 'all.npz')
    assert result['missing'] == [] and result['complete'] == sorted(ids)
    packed = np.load(tmp_path / 'all.npz')
    for video_id in ids:
        np.testing.assert_array_equal(packed[video_id], np.load(out / f'{video_id}.npy'))
    assert json.loads((out / 'meta.json').read_text())['videos_done'] == sorted(ids)


KILL_SCRIPT = r'''
import sys
sys.path.insert(0, {tests!r})
from standin import TinyEncoder, tiny_settings
from pal_eval.extraction.extractor import extract_folder
from pal_eval.extraction.folder import list_videos
model = TinyEncoder(sleep={sleep}).eval()
extract_folder(model, list_videos({videos!r}), {out!r}, tiny_settings(), {meta!r},
               batch_size=2, num_workers=1, progress=False)
'''


def _extract_in_subprocess(videos: Path, out: Path, sleep: float) -> subprocess.Popen:
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), sleep=sleep,
                                videos=str(videos), out=str(out), meta=META)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.Popen([sys.executable, '-c', script], env=env, start_new_session=True)


@pytest.mark.slow
def test_resume_after_sigkill_is_byte_identical(tmp_path):
    videos = make_videos(tmp_path / 'videos', {f'v{i}': (24, 12.0) for i in range(6)}, seed=3)
    clean, killed = tmp_path / 'clean', tmp_path / 'killed'
    # Only the run to kill needs its own process; the others run here (same code path).
    run(videos, clean, batch_size=2, num_workers=1)
    process = _extract_in_subprocess(videos, killed, 0.15)
    deadline = time.monotonic() + 90
    while not list(killed.glob('v*.json')) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # land somewhere inside the next video
    os.killpg(process.pid, signal.SIGKILL)  # the run and its decoding worker
    process.wait()
    done_before = {p.stem for p in killed.glob('v*.json')}
    assert 0 < len(done_before) < 6, 'the kill must interrupt the run'
    report = run(videos, killed, batch_size=2, num_workers=1)
    assert sorted(report.skipped) == sorted(done_before)
    for i in range(6):
        for suffix in ('.npy', '.json'):
            name = f'v{i}{suffix}'
            assert (killed / name).read_bytes() == (clean / name).read_bytes(), name
    assert not list(killed.glob('.*.tmp'))


def test_stream_shorter_than_its_header_fails_instead_of_padding(tiny_videos, tmp_path,
                                                                  monkeypatch):
    import pal_eval.extraction.extractor as extractor

    real_probe = extractor.probe_video

    def lying_probe(path):  # a header promising twice the frames the stream holds
        info = real_probe(path)
        return {**info, 'num_frames': info['num_frames'] * 2}

    monkeypatch.setattr(extractor, 'probe_video', lying_probe)
    report = run([VideoEntry('alpha', str(tiny_videos / 'alpha.mp4'))], tmp_path / 'out',
                 batch_size=2)
    assert 'decoded only 30 of the 60 frames' in report.failed['alpha']
    assert not (tmp_path / 'out' / 'alpha.npy').exists()


def test_in_memory_path_matches_the_folder_path(tiny_videos, tmp_path):
    from pal_eval.extraction.extractor import extract_from_frames

    settings = tiny_settings(num_snippets=7)
    run(tiny_videos, tmp_path / 'out', settings, batch_size=3)
    frames, fps = read_video(tiny_videos / 'beta.mp4', size=(16, 16))
    features, centers = extract_from_frames(TinyEncoder().eval(), frames, fps, settings,
                                            batch_size=3)
    stored = FeatureStore(tmp_path / 'out').load('beta')
    np.testing.assert_array_equal(features, stored.features)
    np.testing.assert_allclose(centers, stored.centers)


def test_reduced_precision_stays_close_to_float32():
    from pal_eval.extraction.extractor import encode_clips

    clips = torch.randn(3, 3, 4, 16, 16)
    exact = encode_clips(TinyEncoder().eval(), clips)
    half = encode_clips(TinyEncoder().eval(), clips, dtype='bfloat16')
    assert half.dtype == np.float32 and half.shape == exact.shape == (3, 6)
    np.testing.assert_allclose(half, exact, atol=0.05)
