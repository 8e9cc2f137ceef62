"""The annotation files that come with the public releases: each works or is one error."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import pal_eval  # noqa: F401  (registers into mmaction before the datasets import)
from pal_eval.data.annotations import load_actions
from pal_eval.data.datasets.localization import ThumosFeatureDataset
from pal_eval.data.features import write_video_features
from pal_eval.errors import InputError
from tests.data import published_layouts as layouts


def test_mmaction2_split_files_have_no_subset_and_duration_second(tmp_path):
    layout = layouts.bsn_csv_mean_100(tmp_path)
    train = load_actions(layout.files['train'], 'training')
    assert sorted(train.videos) == ['v_aaa', 'v_bbb']
    info = train.videos['v_aaa']
    assert (info.subset, info.duration) == ('training', 30.0)
    assert info.feature_span == pytest.approx(896 / 900 * 30.0, rel=1e-12)
    assert not train.instances['t_end'].isna().any()
    # any requested subset labels a one-split file; without one the rows carry none
    assert load_actions(layout.files['val']).videos['v_ccc'].subset == ''


def test_a_file_mixing_videos_with_and_without_subset_names_the_video(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps({'database': {
        'a': {'subset': 'training', 'duration': 3.0, 'annotations': []},
        'b': {'duration': 3.0, 'annotations': []}}}))
    with pytest.raises(InputError, match=r"gt\.json, video 'b', field 'subset': missing key"):
        load_actions(path, 'training')


def test_actionformer_subsets_match_whatever_their_case(tmp_path):
    layout = layouts.actionformer_i3d_npy(tmp_path)
    annotations = load_actions(layout.files['gt'], 'validation')
    assert sorted(annotations.videos) == ['video_validation_0000051', 'video_validation_0000052']
    assert annotations.videos['video_validation_0000052'].fps == 25.0
    assert sorted(load_actions(layout.files['gt'], 'test').videos) == ['video_test_0000004']
    with pytest.raises(InputError, match="unknown subset 'training'.*'Test', 'Validation'"):
        load_actions(layout.files['gt'], 'training')


def test_gtad_csvs_train_and_test_a_head(tmp_path):
    layout = layouts.gtad_thumos_h5(tmp_path)
    val = load_actions(layout.files['val'], 'validation')
    assert sorted(val.videos) == ['video_validation_0000051', 'video_validation_0000052']
    assert val.videos['video_validation_0000051'].fps == pytest.approx(30.0, rel=1e-12)
    assert math.isnan(val.videos['video_validation_0000051'].duration)
    with pytest.raises(InputError, match=r"val_Annotation\.csv, field 'subset': unknown subset "
                                         r"'test'; the file has 'validation'"):
        load_actions(layout.files['val'], 'test')


def test_gtad_json_without_durations_takes_them_from_the_features(tmp_path):
    """G-TAD's thumos_gt.json (string segments, no duration) as a head's ann_file: the
    duration comes from the feature sidecar, not NaN (which kept 0 proposals, mAP 0)."""
    gt = tmp_path / 'thumos_gt.json'
    gt.write_text(json.dumps({'database': {'video_test_0000004': {
        'subset': 'test', 'annotations': [{'segment': ['2.0', '5.5'], 'label': 'LongJump'}]}}}))
    centers = (8 + 4 * np.arange(40)) / 30.0
    write_video_features(tmp_path / 'feats', 'video_test_0000004',
                         np.zeros((40, 4), np.float32), centers, duration=5.9, fps=30.0)
    dataset = ThumosFeatureDataset(str(gt), str(tmp_path / 'feats'), subset='test',
                                   temporal_scale=16, window_stride=8, test_mode=True)
    assert {dataset.get_data_info(i)['duration'] for i in range(len(dataset))} == {5.9}


def test_gtad_json_on_a_release_without_frame_rates_is_one_error(tmp_path):
    layout = layouts.gtad_thumos_h5(tmp_path)
    gt = tmp_path / 'thumos_gt.json'
    gt.write_text(json.dumps({'database': {'video_test_0000004': {
        'subset': 'test', 'annotations': [{'segment': ['2.0', '5.5'], 'label': 'LongJump'}]}}}))
    from mmengine.config import Config

    source = dict(Config.fromfile(layouts.REPO / 'configs/_base_/features/'
                                  'tsn-gtad_thumos14_h5.py').feature_source)
    with pytest.raises(InputError, match="video_test_0000004'.*no frame rate.*video_info"):
        ThumosFeatureDataset(str(gt), str(layout.features), subset='test', temporal_scale=16,
                             test_mode=True, feature_source=source)
    # naming a file that has them (G-TAD's CSV) makes it work
    source['video_info'] = [str(layout.files['test'])]
    dataset = ThumosFeatureDataset(str(gt), str(layout.features), subset='test',
                                   temporal_scale=16, test_mode=True, feature_source=source)
    assert len(dataset) > 0


def test_a_head_without_duration_or_grid_refuses_to_guess():
    """mmaction2's pipeline gives duration_second: used; nothing at all: an error, not
    proposals squeezed into [0, 1] s."""
    import torch
    from mmaction.structures import ActionDataSample

    from heads.bmn import BoundaryMatchingNetwork
    from pal_eval.errors import PalEvalError

    model = BoundaryMatchingNetwork(feat_dim=8, temporal_scale=8, num_samples=4,
                                    hidden_dim_1d=8, hidden_dim_2d=4, hidden_dim_3d=8).eval()
    sample = ActionDataSample(metainfo=dict(video_name='v_x', duration_second=50.0,
                                            duration_frame=1000, feature_frame=960))
    out = model(torch.rand(1, 8, 8), [sample], mode='predict')[0]
    assert out.pred_segments.max() <= 48.0 + 1e-9 and out.pred_segments.max() > 1.0
    with pytest.raises(PalEvalError, match="'v_y' has neither grid_centers nor a duration"):
        model(torch.rand(1, 8, 8), [ActionDataSample(metainfo=dict(video_id='v_y'))],
              mode='predict')
