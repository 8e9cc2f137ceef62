"""Feature datasets for BMN/G-TAD: labels by hand, resampling, windows, packing."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pal_eval  # noqa: F401  (registers into mmaction before the datasets import)
from heads.targets import localization_labels
from pal_eval.data.annotations.canonical import ActionAnnotations, VideoInfo
from pal_eval.data.datasets import localization
from pal_eval.data.datasets.localization import (
    ActivityNetFeatureDataset,
    ThumosFeatureDataset,
    window_starts,
)
from pal_eval.data.features import write_video_features
from pal_eval.errors import InputError


def test_window_starts_cover_every_feature():
    assert window_starts(512, 256, 128) == [0, 128, 256]
    assert window_starts(513, 256, 128) == [0, 128, 256, 384]


def test_window_starts_official():
    """Issue 15 #5, G-TAD ``master:gtad_lib/dataset.py::_get_data`` (T = 256, stride 128,
    skip 5): ``int((n + 128 - 256) / 128)`` windows every 128; n < 256: [0] (padded);
    else a last window at n - 256 when n - last - 256 > int(256 / 5) = 51.
    200 -> [0]; 256 -> [0] (remainder 0); 300 -> [0] (44 <= 51: snippets 256..299 are
    never scored); 340 -> [0, 84] (84 > 51); 600 -> 3 windows, 88 > 51 -> [0, 128, 256,
    344]; 563 -> remainder 51, not > 51 -> [0, 128, 256]."""
    cases = {200: [0], 256: [0], 300: [0], 340: [0, 84], 600: [0, 128, 256, 344],
             563: [0, 128, 256], 564: [0, 128, 256, 308]}
    for n, expected in cases.items():
        assert window_starts(n, 256, 128, last='official') == expected, n
    assert window_starts(300, 256, 128) == [0, 128]      # 'cover': every feature scored
    with pytest.raises(ValueError, match='last'):
        window_starts(300, 256, 128, last='all')


@pytest.fixture()
def feature_folder(tmp_path, monkeypatch):
    """Two videos: v1 (40 s, 60 features), v2 (10 s, 5 features, no ground truth)."""
    rng = np.random.default_rng(0)
    centers = (8 + 16 * np.arange(60)) / 24.0   # 16-frame snippets at 24 fps
    write_video_features(tmp_path, 'v1', rng.normal(size=(60, 8)).astype(np.float32),
                         centers, duration=40.0, fps=24.0)
    write_video_features(tmp_path, 'v2', rng.normal(size=(5, 8)).astype(np.float32),
                         np.arange(5) * 2.0 + 1.0, duration=10.0, fps=24.0)
    annotations = ActionAnnotations(
        videos={'v1': VideoInfo('v1', 'training', 40.0, 24.0),
                'v2': VideoInfo('v2', 'training', 10.0, 24.0),
                'v3': VideoInfo('v3', 'training', 5.0, 24.0)},  # no features
        instances=pd.DataFrame({'video_id': ['v1', 'v1'], 't_start': [4.0, 20.0],
                                't_end': [10.0, 36.0], 'label': ['jump', 'run']}),
        taxonomy=['jump', 'run'])
    monkeypatch.setattr(localization, 'load_actions', lambda path, subset: annotations)
    return tmp_path


def test_activitynet_dataset_sample(feature_folder):
    with pytest.warns(UserWarning, match='no features for 1 of 3'):
        ds = ActivityNetFeatureDataset('ann.json', str(feature_folder), temporal_scale=20,
                                       missing_features='skip')
    assert len(ds) == 1  # training skips v2 (no ground truth) and v3 (no features)
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (8, 20)
    data = sample['data_samples']
    np.testing.assert_allclose(data.gt_instances.gt_bbox.numpy(), [[0.1, 0.25], [0.5, 0.9]])
    # The models build their labels from gt_bbox (heads/targets.py), here BMN's.
    labels = localization_labels(data.gt_instances.gt_bbox.numpy(), 20)
    assert labels['gt_iou_map'].shape == (20, 20)
    # [0.1, 0.25] = start 2, duration 3 (in 1/20 units) is exactly a ground truth.
    assert labels['gt_iou_map'][2, 2] == 1.0
    assert labels['gt_start'][2] == 1.0 and labels['gt_end'][5] == 1.0
    assert not {'gt_iou_map', 'gt_start', 'gt_end'} & set(data.keys())  # one owner
    np.testing.assert_allclose(data.metainfo['grid_centers'][[0, -1]], [1.0, 39.0])
    with pytest.warns(UserWarning):
        test_ds = ActivityNetFeatureDataset('ann.json', str(feature_folder), test_mode=True,
                                            missing_features='skip')
    assert len(test_ds) == 2


def test_missing_features_are_one_error_naming_folder_and_videos(feature_folder):
    """Issue 11 item 9: no silent skip, no ZeroDivisionError in the sampler later."""
    with pytest.raises(InputError, match=r"no features for 1 of 3 annotated videos of "
                       r"ann\.json: 'v3'") as error:
        ActivityNetFeatureDataset('ann.json', str(feature_folder))
    assert str(feature_folder) in str(error.value)
    with pytest.raises(InputError, match='no features for 1 of 3'):
        ThumosFeatureDataset('ann.json', str(feature_folder), test_mode=True)


def test_a_split_left_empty_is_an_error_even_when_skipping(tmp_path, monkeypatch):
    annotations = ActionAnnotations(
        videos={'a': VideoInfo('a', 'training', 5.0)},
        instances=pd.DataFrame({'video_id': ['a'], 't_start': [1.0], 't_end': [2.0],
                                'label': ['x']}), taxonomy=['x'])
    monkeypatch.setattr(localization, 'load_actions', lambda path, subset: annotations)
    with pytest.raises(InputError, match="no features for 1 of 1 .*'a'"):
        ActivityNetFeatureDataset('ann.json', str(tmp_path), missing_features='skip')


def test_blocked_videos_are_left_out(feature_folder, tmp_path):
    blocked = tmp_path / 'blocked.json'
    blocked.write_text('["v_v3"]')  # the other id spelling: matched either way
    ds = ActivityNetFeatureDataset('ann.json', str(feature_folder), test_mode=True,
                                   blocked_videos=str(blocked))
    assert sorted(ds.get_data_info(i)['video_id'] for i in range(len(ds))) == ['v1', 'v2']


def test_thumos_windows_cover_video(feature_folder):
    """``windows='cover', gt_rule='coverage', boundary_at='edge'``: the former behaviour,
    kept as named options."""
    with pytest.warns(UserWarning):
        ds = ThumosFeatureDataset('ann.json', str(feature_folder), temporal_scale=32,
                                  window_stride=16, test_mode=True, windows='cover',
                                  gt_rule='coverage', boundary_at='edge',
                                  missing_features='skip')
    v1 = [ds.get_data_info(i) for i in range(len(ds)) if ds.get_data_info(i)['video_id'] == 'v1']
    assert [w['window_start'] for w in v1] == [0, 16, 32]
    sample = ds[[i for i in range(len(ds))
                 if ds.get_data_info(i)['video_id'] == 'v1'][2]]
    assert tuple(sample['inputs'].shape) == (8, 32)
    # Window 32..63 of a 60-feature video: the last 4 positions are zero padding.
    assert float(sample['inputs'][:, -4:].abs().sum()) == 0.0
    centers = sample['data_samples'].metainfo['grid_centers']
    np.testing.assert_allclose(np.diff(centers), 16 / 24.0)
    assert sample['data_samples'].metainfo['boundary_at'] == 'edge'
    # [20, 36] s: boundaries at (20*24 - 8) / 16 + .5 = 30 and 54 -> window-relative
    # -2 and 22 of 32: clipped to 0, coverage 22/24 >= 0.75, kept.
    np.testing.assert_allclose(sample['data_samples'].gt_instances.gt_bbox.numpy(),
                               [[0.0, 22 / 32]], atol=1e-6)


def test_thumos_windows_official(feature_folder):
    """G-TAD THUMOS14's defaults. v1 (60 features, T = 32, stride 16): int((60 + 16 - 32) /
    16) = 2 windows [0, 16], and 60 - 16 - 32 = 12 > int(32 / 5) = 6 adds 28. Ground truth
    in edge positions: [4, 10] s -> [6, 15], [20, 36] s -> [30, 54]. Window 0: IoA 1 and
    2/24 -> both kept unclipped, trains. Window 16: [6, 15] is outside (IoA 0), [30, 54]
    -> [14, 38] is 18/24 = 0.75 inside: kept, but no IoA > 0.9: no training. Window 28:
    [2, 26] wholly inside: trains. Fractions in the centre convention: half a position
    earlier."""
    with pytest.warns(UserWarning):
        test_ds = ThumosFeatureDataset('ann.json', str(feature_folder), temporal_scale=32,
                                       window_stride=16, test_mode=True,
                                       missing_features='skip')
    starts = [test_ds.get_data_info(i)['window_start'] for i in range(len(test_ds))
              if test_ds.get_data_info(i)['video_id'] == 'v1']
    assert starts == [0, 16, 28]
    with pytest.warns(UserWarning):
        ds = ThumosFeatureDataset('ann.json', str(feature_folder), temporal_scale=32,
                                  window_stride=16, missing_features='skip')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(i['video_id'], i['window_start']) for i in infos] == [('v1', 0), ('v1', 28)]
    np.testing.assert_allclose(infos[0]['gt_window'] * 32, [[5.5, 14.5], [29.5, 53.5]],
                               atol=1e-9)
    np.testing.assert_allclose(infos[1]['gt_window'] * 32, [[1.5, 25.5]], atol=1e-9)
    assert infos[1]['gt_window_labels'] == ['run']
    window_16 = next(i for i in range(len(test_ds))
                     if test_ds.get_data_info(i)['window_start'] == 16)
    sample = test_ds[window_16]['data_samples']
    np.testing.assert_allclose(sample.gt_instances.gt_bbox.numpy() * 32, [[13.5, 37.5]],
                               atol=1e-6)
    assert sample.metainfo['boundary_at'] == 'center'


@pytest.mark.parametrize('name', ['thumos14_test_groundtruth.csv', 'test_Annotation.csv'])
def test_thumos_dataset_reads_the_evaluators_csv(shared_annotations, tmp_path, name):
    """The CSVs ``pal-eval evaluate --preset thumos14`` reads train and test G-TAD too."""
    folder = shared_annotations / 'frostinassiky_gtad'
    rows = list(csv.DictReader(open(folder / 'thumos14_test_groundtruth.csv')))
    chosen = ['video_test_0000004', 'video_test_0000278']
    duration = {r['video-name']: float(r['video-duration']) for r in rows}
    rng = np.random.default_rng(0)
    for video_id in chosen:  # one feature per second; only the sidecar knows the duration
        count = int(duration[video_id])
        write_video_features(tmp_path / 'feats', video_id,
                             rng.normal(size=(count, 4)).astype(np.float32),
                             np.arange(count) + 0.5, duration=duration[video_id])
    others = len({r['video-name'] for r in rows}) - len(chosen)
    with pytest.warns(UserWarning, match=f'no features for {others} of {others + 2}'):
        ds = ThumosFeatureDataset(str(folder / name), str(tmp_path / 'feats'), subset='test',
                                  temporal_scale=64, window_stride=32, test_mode=True,
                                  missing_features='skip')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sorted({info['video_id'] for info in infos}) == chosen
    for video_id in chosen:
        expected = sorted((float(r['t-init']), float(r['t-end'])) for r in rows
                          if r['video-name'] == video_id and r['label-idx'] != '-1')
        info = next(i for i in infos if i['video_id'] == video_id)
        assert sorted(map(tuple, info['gt_segments'].tolist())) == expected
        assert info['duration'] == pytest.approx(duration[video_id], abs=1e-6)
    first = ds[0]['data_samples']  # video_test_0000004's first window: 0 .. 64 s
    assert len(first.metainfo['grid_centers']) == 64
    bbox = first.gt_instances.gt_bbox.numpy()
    # G-TAD's rule keeps the segments overlapping the window at all, unclipped.
    assert len(bbox) > 0 and np.all(bbox[:, 1] > 0.0) and np.all(bbox[:, 0] < 1.0)


def test_data_root_moves_every_path_of_the_dataset(feature_folder, tmp_path, monkeypatch):
    """One ``data_root`` joins ann_file (MMEngine's rule), feature_dir and blocked_videos
    alike: a relative config works from any folder, absolute paths stay as they are."""
    seen = []
    annotations = localization.load_actions
    monkeypatch.setattr(localization, 'load_actions',
                        lambda path, subset: seen.append(path) or annotations(path, subset))
    (tmp_path / 'blocked.json').write_text('["v3"]')
    monkeypatch.chdir('/')
    ds = ActivityNetFeatureDataset('ann.json', '.', test_mode=True, data_root=str(tmp_path),
                                   blocked_videos='blocked.json')
    assert Path(ds.feature_dir) == tmp_path and seen == [str(tmp_path / 'ann.json')]
    assert sorted(ds.get_data_info(i)['video_id'] for i in range(len(ds))) == ['v1', 'v2']
    absolute = ActivityNetFeatureDataset(str(tmp_path / 'ann.json'), str(feature_folder),
                                         test_mode=True, data_root='/elsewhere',
                                         blocked_videos=str(tmp_path / 'blocked.json'))
    assert absolute.feature_dir == str(feature_folder) and len(absolute) == 2
