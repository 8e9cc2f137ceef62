"""Feature sources: each public release read in place, on its documented time grid."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from pal_eval.data.feature_sources import FeatureSource, open_feature_store
from pal_eval.errors import InputError, PalEvalError
from tests.data import published_layouts as layouts

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / 'configs' / '_base_' / 'features'

#: shipped entry -> (layout writer, its annotation role giving the timing)
RELEASES = {
    'tsn-bsn_activitynet_csv-mean-100.py': layouts.bsn_csv_mean_100,
    'tsp_activitynet_h5.py': layouts.tsp_h5,
    'tsn-gtad_thumos14_h5.py': layouts.gtad_thumos_h5,
    'i3d-actionformer_thumos14_npy.py': layouts.actionformer_i3d_npy,
    'vgg-tan2d_charades-sta_hdf5.py': layouts.tan2d_charades_vgg,
    'c3d-tan2d_activitynet-captions_hdf5.py': layouts.tan2d_activitynet_c3d,
}


def shipped_source(entry: str) -> dict:
    return dict(Config.fromfile(FEATURES / entry).feature_source)


def test_every_shipped_entry_is_tested_and_names_its_source():
    assert sorted(p.name for p in FEATURES.glob('*.py')) == sorted(RELEASES)
    for entry in RELEASES:
        text = (FEATURES / entry).read_text()
        assert 'Sources:' in text or 'Source:' in text, entry
        assert shipped_source(entry)['source']


@pytest.mark.parametrize('entry', sorted(RELEASES))
def test_release_read_in_place_on_its_documented_grid(tmp_path, entry):
    layout = RELEASES[entry](tmp_path)
    store = open_feature_store(layout.features, shipped_source(entry))
    assert store.feature_dim == layout.feature_dim
    for video_id, expected in layout.expected_centers.items():
        assert video_id in store
        video = store.load(video_id, **layout.timing[video_id])
        assert video.features.shape == (len(expected), layout.feature_dim)
        np.testing.assert_allclose(video.centers, expected, rtol=1e-12, atol=1e-12)
        assert video.features.dtype == np.float32


def test_gtad_streams_are_flow_then_rgb_cut_to_the_shorter(tmp_path):
    import h5py

    layout = layouts.gtad_thumos_h5(tmp_path)
    store = open_feature_store(layout.features, shipped_source('tsn-gtad_thumos14_h5.py'))
    video = store.load('video_test_0000004', fps=30.0)
    with h5py.File(layout.features / 'flow_test.h5') as flow, \
            h5py.File(layout.features / 'rgb_test.h5') as rgb:
        expected = np.concatenate([flow['video_test_0000004'][::5],
                                   rgb['video_test_0000004'][:len(flow['video_test_0000004'])]
                                   [::5]], axis=1)
    np.testing.assert_array_equal(video.features, expected)


def test_gtad_frame_rate_comes_from_its_annotation_csv(tmp_path):
    """The 25 fps video is placed at 5 i / 25 s: the CSV's frames / seconds."""
    from pal_eval.data.annotations import load_actions

    layout = layouts.gtad_thumos_h5(tmp_path)
    info = load_actions(layout.files['val'], 'validation').videos['video_validation_0000052']
    assert info.fps == pytest.approx(25.0, rel=1e-12) and info.subset == 'validation'
    store = open_feature_store(layout.features, shipped_source('tsn-gtad_thumos14_h5.py'))
    with pytest.raises(InputError, match="video_validation_0000052'.*no frame rate"):
        store.load('video_validation_0000052')   # neither the grid nor anything else knows
    # video_info files fill it for annotations without fps (G-TAD's thumos_gt.json)
    source = dict(shipped_source('tsn-gtad_thumos14_h5.py'), video_info=[str(layout.files['val'])])
    video = open_feature_store(layout.features, source).load('video_validation_0000052')
    np.testing.assert_allclose(video.centers,
                               layout.expected_centers['video_validation_0000052'])
    # no duration anywhere: where the last row's window ends (399 rows, the shorter
    # stream; row r is centred on frame r and one frame long: 398 + 0.5 frames at 25 fps)
    assert video.duration == pytest.approx(398.5 / 25.0, rel=1e-12)


def test_uniform_grid_without_a_duration_is_an_error(tmp_path):
    layout = layouts.tan2d_charades_vgg(tmp_path)
    store = open_feature_store(layout.features, shipped_source('vgg-tan2d_charades-sta_hdf5.py'))
    with pytest.raises(InputError, match="'AO8RW'.*no duration"):
        store.load('AO8RW')


def test_v_prefix_either_way_and_listing(tmp_path):
    layout = layouts.tsp_h5(tmp_path)
    store = open_feature_store(layout.features, shipped_source('tsp_activitynet_h5.py'))
    assert store.video_ids == ['v_aaa', 'v_bbb', 'v_ccc']
    assert 'aaa' in store and 'v_aaa' in store and 'zzz' not in store
    np.testing.assert_array_equal(store.load('aaa').features, store.load('v_aaa').features)
    with pytest.raises(InputError, match="'zzz'.*no features"):
        store.load('zzz')


def test_npz_key_and_prefix_suffix(tmp_path):
    np.savez(tmp_path / 'pre_a_s.npz', feats=np.ones((3, 2), np.float32))
    source = dict(format='npz', streams=['{video_id}.npz'], key='feats', id_prefix='pre_',
                  id_suffix='_s', grid=dict(fps=30.0, stride=8, clip_length=16))
    store = open_feature_store(tmp_path, source)
    assert store.video_ids == ['a']
    np.testing.assert_allclose(store.load('a').centers, [8 / 30, 16 / 30, 24 / 30])


@pytest.mark.parametrize('source, needle', [
    (dict(format='parquet', streams=['x']), "format must be one of"),
    (dict(format='npy', streams=['{video_id}.npy'], strid=4), "unknown key 'strid'"),
    (dict(format='npy', streams=['{video_id}.npy'], grid=dict(strid=4)),
     "grid: unknown key 'strid' \\(did you mean 'stride'\\?\\)"),
    (dict(format='npy', streams=['a.npy']), "one file pattern with '\\{video_id\\}'"),
    (dict(format='hdf5'), 'needs streams'),
    (dict(format='npy', streams=['{video_id}.npy'], grid=dict(uniform=True, fps=30)),
     'uniform=True takes no fps'),
    (dict(format='npy', streams=['{video_id}.npy'], grid=dict(sample_stride=0)),
     'sample_stride must be an integer >= 1'),
])
def test_malformed_sources_are_one_clear_error(source, needle):
    with pytest.raises(PalEvalError, match=needle):
        FeatureSource.from_config(source)


def test_missing_hdf5_file_names_the_folder_and_files(tmp_path):
    with pytest.raises(InputError, match='none of the feature files of a stream.*rgb_val.h5'):
        open_feature_store(tmp_path, dict(format='hdf5', streams=[['rgb_val.h5']]))


def test_bad_array_shape_names_file_and_video(tmp_path):
    np.save(tmp_path / 'a.npy', np.zeros((2, 3, 4), np.float32))
    store = open_feature_store(tmp_path, dict(format='npy', streams=['{video_id}.npy'],
                                              grid=dict(fps=30)))
    with pytest.raises(InputError, match=r"a\.npy, video 'a': expected a \[T, C\] array"):
        store.load('a')


def test_our_folder_format_is_the_default(tmp_path):
    from pal_eval.data.features import FeatureStore, write_video_features

    write_video_features(tmp_path, 'v', np.ones((2, 3), np.float32), np.array([0.5, 1.5]),
                         duration=2.0)
    assert type(open_feature_store(tmp_path)) is FeatureStore
    assert type(open_feature_store(tmp_path, dict(format='ours'))) is FeatureStore


def test_csv_without_header_reads_every_row(tmp_path):
    (tmp_path / 'v.csv').write_text('1,2\n3,4\n')
    store = open_feature_store(tmp_path, dict(format='csv', streams=['{video_id}.csv'],
                                              grid=dict(uniform=True)))
    assert store.load('v', duration=4.0).features.tolist() == [[1, 2], [3, 4]]
    assert json.dumps(store.meta)  # plain data
