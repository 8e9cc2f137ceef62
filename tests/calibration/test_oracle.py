"""Oracle features: coverage by hand, the extraction's own time grid, the folder format."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pal_eval.calibration import oracle
from pal_eval.cli import main
from pal_eval.data.features import FeatureStore
from pal_eval.errors import InputError


def test_window_edges_and_coverage_by_hand():
    starts, ends = oracle.window_edges(np.array([1.0, 3.0, 5.0]), 6.0)
    assert starts.tolist() == [0.0, 2.0, 4.0] and ends.tolist() == [2.0, 4.0, 6.0]
    # [0, 2]: 0.5 of it in [1.5, 3.5]; [2, 4]: 1.5 of 2; [4, 6]: none
    cover = oracle.coverage(starts, ends, np.array([[1.5, 3.5], [0.0, 6.0]]))
    np.testing.assert_allclose(cover, [[0.25, 1.0], [0.75, 1.0], [0.0, 1.0]])


def test_class_foreground_and_word_channels():
    grid = oracle.VideoGrid(np.array([0.5, 1.5, 2.5, 3.5]), 4.0)
    features = oracle.oracle_features(
        grid, segments=np.array([[0.0, 2.0], [1.5, 3.0], [1.0, 2.0]]),
        labels=['a', 'b', 'a'], taxonomy=['a', 'b'],
        moments=np.array([[2.0, 4.0]]), sentences=['the red disk'], word_dim=16, noise=0.0)
    assert features.shape == (4, 24)  # 2 classes + foreground + 16 words -> padded to 24
    assert features[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0]   # two 'a' overlap: clipped at 1
    assert features[:, 1].tolist() == [0.0, 0.5, 1.0, 0.0]
    assert features[:, 2].tolist() == [1.0, 1.0, 1.0, 0.0]   # the union [0, 3], counted once
    buckets = {oracle.word_bucket(w, 16) for w in ('the', 'red', 'disk')}
    words = features[:, 3:19]
    for bucket in range(16):
        expected = [0.0, 0.0, 1.0, 1.0] if bucket in buckets else [0.0] * 4
        assert words[:, bucket].tolist() == expected
    assert not features[:, 19:].any()


def test_noise_is_seeded_and_labels_are_checked():
    grid = oracle.VideoGrid(np.linspace(0.5, 9.5, 10), 10.0)
    args = dict(segments=np.array([[2.0, 5.0]]), labels=['a'], taxonomy=['a'], noise=0.1)
    first = oracle.oracle_features(grid, rng=np.random.default_rng(3), **args)
    again = oracle.oracle_features(grid, rng=np.random.default_rng(3), **args)
    np.testing.assert_array_equal(first, again)
    assert 0.05 < float(np.std(first[:, 2:])) < 0.15   # padding channels: noise only
    with pytest.raises(InputError, match="label 'b'"):
        oracle.oracle_features(grid, segments=np.array([[1.0, 2.0]]), labels=['b'],
                               taxonomy=['a'])


def _extraction_config(path, stride=4, frames=2):
    path.write_text(f"sampling = dict(policy='sliding', stride={stride}, fps=None)\n"
                    "encoder = dict(frames_per_clip=None, frame_interval=None, input_size=None)\n"
                    f"random_init = dict(frames_per_clip={frames}, frame_interval=1, "
                    "input_size=16)\n")
    return path


def test_grid_is_the_one_pal_eval_extract_writes(tmp_path):
    """Centre times from the config equal those of a real extraction of the same videos."""
    import torch

    from pal_eval.data.video_io import write_video
    from pal_eval.extraction.extractor import extract_folder
    from pal_eval.extraction.folder import ClipSettings, list_videos
    from pal_eval.extraction.sampling import SamplingPolicy

    videos = tmp_path / 'videos'
    for name, frames, fps in (('a', 23, 8.0), ('b', 40, 10.0)):
        write_video(videos / f'{name}.mp4', np.zeros((frames, 16, 16, 3), np.uint8), fps)
    settings = ClipSettings(SamplingPolicy(frames_per_clip=3, stride=5), (16, 16))
    extract_folder(torch.nn.Conv3d(3, 4, 1).eval(), list_videos(videos), tmp_path / 'real',
                   settings, {'arch': 'conv'}, num_workers=0, progress=False)
    config = _extraction_config(tmp_path / 'extract.py', stride=5, frames=3)
    grids, sampling = oracle.grids_from_extract_config(config, oracle.probe_videos(videos))
    real = FeatureStore(tmp_path / 'real')
    for video in ('a', 'b'):
        loaded = real.load(video)
        np.testing.assert_array_equal(grids[video].centers, loaded.centers)
        assert grids[video].duration == pytest.approx(loaded.duration, abs=1e-12)
    assert sampling['stride'] == 5 and sampling['frames_per_clip'] == 3


def _anet(path, videos, **extra):
    path.write_text(json.dumps({'version': 'VERSION 1.3', 'database': {
        video: {'subset': subset, 'duration': 10.0, **extra,
                'annotations': [{'segment': list(seg), 'label': label} for seg, label in ann]}
        for video, (subset, ann) in videos.items()}}))
    return path


def test_cli_writes_a_feature_folder_heads_can_read(tmp_path, capsys):
    gt = _anet(tmp_path / 'gt.json', {'v1': ('training', [((1.0, 4.0), 'jump')]),
                                      'v2': ('validation', [((5.0, 9.0), 'run')]),
                                      'v3': ('validation', [])})
    grounding = tmp_path / 'g.json'
    grounding.write_text(json.dumps({'queries': [
        {'query_id': 'q', 'video': 'v2', 'duration': 10.0, 'segment': [5.0, 9.0],
         'sentence': 'someone runs'}]}))
    config = tmp_path / 'extract.py'
    config.write_text("sampling = dict(policy='resample', num_snippets=20)\n"
                      "random_init = dict(frames_per_clip=2, frame_interval=1, input_size=8)\n")
    out = tmp_path / 'oracle'
    assert main(['calibrate', 'oracle', '--gt', str(gt), '--grounding', str(grounding),
                 '--extract-config', str(config), '--out', str(out), '--noise', '0']) == 0
    store = FeatureStore(out)
    assert store.video_ids == ['v1', 'v2', 'v3'] and store.feature_dim == 40
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['oracle']['channels'][:3] == ['class:jump', 'class:run', 'foreground']
    assert meta['sampling']['num_snippets'] == 20
    v2 = store.load('v2')
    assert v2.centers.tolist() == pytest.approx((np.arange(20) + 0.5) * 0.5)
    inside = (v2.centers > 5.0) & (v2.centers < 9.0)
    assert (v2.features[inside, 1] == 1.0).all() and not v2.features[~inside, 1].any()
    assert not store.load('v3').features[:, :3].any()
    # an existing folder is not replaced without --overwrite: one error line
    assert main(['calibrate', 'oracle', '--gt', str(gt), '--extract-config', str(config),
                 '--out', str(out)]) == 2
    assert 'already holds features; pass --overwrite' in capsys.readouterr().err


def test_cli_errors_are_one_line(tmp_path, capsys):
    gt = _anet(tmp_path / 'gt.json', {'v1': ('training', [((1.0, 4.0), 'jump')])})
    assert main(['calibrate', 'oracle', '--extract-config', 'x.py', '--out',
                 str(tmp_path / 'o')]) == 2
    assert 'needs --gt' in capsys.readouterr().err
    config = _extraction_config(tmp_path / 'extract.py')
    assert main(['calibrate', 'oracle', '--gt', str(gt), '--extract-config', str(config),
                 '--out', str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and "video 'v1'" in err and 'fps' in err
    assert not (tmp_path / 'o').exists()
