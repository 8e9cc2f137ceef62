"""Grounding dataset: pooling to clips, the three annotation formats, clear errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import pal_eval  # noqa: F401  (compat fixes and registration come first)
from pal_eval.data.datasets.grounding import (
    GroundingFeatureDataset,
    LoadGroundingClips,
    PackGroundingInputs,
    feature_time_span,
    pool_features_to_clips,
    read_grounding_queries,
)
from pal_eval.data.features import write_video_features
from pal_eval.errors import InputError

PIPELINE = [dict(type=LoadGroundingClips, num_clips=4), dict(type=PackGroundingInputs)]


def test_pooling_averages_features_per_time_bin():
    features = np.arange(8.0)[:, None] * [1.0, -1.0]          # feature i = (i, -i)
    clips, span = pool_features_to_clips(features, np.arange(8) + 0.5, 8.0, 4)
    assert span == (0.0, 8.0)
    # Bin k = [2k, 2k + 2] s holds the features 2k and 2k + 1.
    assert clips.tolist() == [[0.5, -0.5], [2.5, -2.5], [4.5, -4.5], [6.5, -6.5]]
    assert clips.dtype == np.float32


def test_pooling_interpolates_bins_without_features():
    # Two features (centres 1 s and 3 s, edges [0, 4] s) into four 1-s bins: feature 0
    # falls in bin 1 ([1, 2)), feature 1 in bin 3; bin 0 (centre 0.5 s) is before the
    # first centre (clamped to feature 0), bin 2 (centre 2.5 s) is 3/4 of the way.
    features = np.array([[0.0], [4.0]])
    clips, span = pool_features_to_clips(features, np.array([1.0, 3.0]), 4.0, 4)
    assert span == (0.0, 4.0)
    assert clips[:, 0].tolist() == [0.0, 0.0, 3.0, 4.0]


def test_time_span_is_clipped_to_the_video():
    # Stride-2 features whose last receptive field runs past a 7-s video.
    assert feature_time_span(np.array([1.0, 3.0, 5.0, 7.0]), 7.0) == (0.0, 7.0)
    assert feature_time_span(np.array([5.0]), 20.0) == (0.0, 10.0)


# ----------------------------------------------------------------------- formats
def write_features(root, video_ids, duration=8.0, num=8, dim=3):
    for k, video_id in enumerate(video_ids):
        features = np.full((num, dim), float(k), np.float32)
        write_video_features(root, video_id, features, (np.arange(num) + 0.5) * duration / num,
                             duration=duration)


def canonical(path, queries):
    path.write_text(json.dumps({'queries': queries}))
    return path


def test_canonical_json_dataset_packs_inputs_and_meta(tmp_path):
    write_features(tmp_path / 'feats', ['va', 'vb'])
    ann = canonical(tmp_path / 'g.json', [
        dict(query_id='q1', video='va', duration=8.0, segment=[1.0, 3.0], sentence='a red disc'),
        dict(query_id='q2', video='vb', duration=8.0, segment=[2.0, 8.0], sentence='blue box')])
    dataset = GroundingFeatureDataset(str(ann), str(tmp_path / 'feats'), PIPELINE)
    assert len(dataset) == 2
    item = dataset[1]
    assert item['inputs'].shape == (3, 4)                   # [C, N]
    assert torch.all(item['inputs'] == 1.0)                 # video vb's features
    meta = item['data_samples'].metainfo
    assert meta['query_id'] == 'q2' and meta['sentence'] == 'blue box'
    assert meta['gt_segment'] == [2.0, 8.0]
    assert meta['time_span'] == (0.0, 8.0) and meta['duration'] == 8.0


def test_charades_sta_txt_takes_durations_from_features(tmp_path):
    write_features(tmp_path / 'feats', ['AB12C'], duration=30.0, num=10)
    ann = tmp_path / 'charades_sta_test.txt'
    ann.write_text('AB12C 1.5 7.0##person opens a door.\nAB12C 10 12.5##person sits down.\n')
    dataset = GroundingFeatureDataset(str(ann), str(tmp_path / 'feats'), PIPELINE)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [i['duration'] for i in infos] == [30.0, 30.0]
    assert [i['gt_segment'] for i in infos] == [[1.5, 7.0], [10.0, 12.5]]
    assert infos[0]['sentence'] == 'person opens a door.'


def test_activitynet_captions_json(tmp_path):
    ann = tmp_path / 'val_1.json'
    ann.write_text(json.dumps({'v_x': {'duration': 20.0, 'timestamps': [[0, 5], [4, 20]],
                                       'sentences': ['A man walks.', ' He sits.']}}))
    queries = read_grounding_queries(ann)
    assert queries['sentence'].tolist() == ['A man walks.', 'He sits.']
    assert queries[['t_start', 't_end']].values.tolist() == [[0, 5], [4, 20]]


def test_real_files_load(shared_annotations):
    base = shared_annotations / 'microsoft_2D-TAN'
    charades = read_grounding_queries(base / 'charades_sta_test.txt',
                                      durations_file=base / 'Charades_v1_test.csv')
    assert len(charades) == sum(1 for line in open(base / 'charades_sta_test.txt')
                                if line.strip())
    assert charades['duration'].notna().all()
    captions = read_grounding_queries(base / 'ActivityNet_val.json')
    assert len(captions) == 17505  # documented in ../shared/annotations/SOURCES.md


def test_missing_features_is_one_clear_error(tmp_path):
    write_features(tmp_path / 'feats', ['va'])
    ann = canonical(tmp_path / 'g.json', [
        dict(query_id='q1', video='va', duration=8.0, segment=[1, 3], sentence='x'),
        dict(query_id='q2', video='vz', duration=8.0, segment=[1, 3], sentence='y')])
    with pytest.raises(InputError, match=r"feats: no features for 1 of 2 annotated videos "
                       r"of .*g\.json: 'vz'"):
        GroundingFeatureDataset(str(ann), str(tmp_path / 'feats'), PIPELINE)


def test_bad_annotation_names_file_and_field(tmp_path):
    write_features(tmp_path / 'feats', ['va'])
    ann = canonical(tmp_path / 'g.json', [
        dict(query_id='q1', video='va', duration=8.0, segment=[5, 3], sentence='x')])
    with pytest.raises(InputError, match=r"g\.json.*'q1'.*segment"):
        GroundingFeatureDataset(str(ann), str(tmp_path / 'feats'), PIPELINE)
    empty = canonical(tmp_path / 'empty.json', [])
    with pytest.raises(InputError, match='empty.json.*no query'):
        read_grounding_queries(empty)


def test_l2_normalize_scales_each_feature_before_pooling(tmp_path):
    """2D-TAN normalises each feature vector (``F.normalize(features, dim=1)``) before
    averaging: features (3, 4) and (0, 2) -> (.6, .8) and (0, 1), one bin -> (.3, .9)
    (pooling first and normalising after would give (1.5, 3) / |(1.5, 3)| instead)."""
    write_video_features(tmp_path / 'feats', 'va', np.array([[3.0, 4.0], [0.0, 2.0]]),
                         np.array([1.0, 3.0]), duration=4.0)
    results = dict(feature_dir=str(tmp_path / 'feats'), video_id='va', duration=4.0)
    clips = LoadGroundingClips(num_clips=1, l2_normalize=True).transform(dict(results))
    assert clips['clips'][0].tolist() == pytest.approx([0.3, 0.9])
    raw = LoadGroundingClips(num_clips=1).transform(dict(results))
    assert raw['clips'].tolist() == [[1.5, 3.0]]
