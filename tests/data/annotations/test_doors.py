"""The two annotation doors: one format guess, the right reader, clear errors across kinds."""
from __future__ import annotations

import json

import pytest

from pal_eval.data.annotations import (
    ACTION_FORMATS,
    QUERY_FORMATS,
    annotation_format,
    load_actions,
    load_queries,
)
from pal_eval.errors import InputError


@pytest.fixture()
def files(tmp_path):
    """One small file (or folder) of every supported format, written by hand."""
    anet = tmp_path / 'anet.json'
    anet.write_text(json.dumps({'database': {'v1': {
        'subset': 'validation', 'duration': 10.0,
        'annotations': [{'segment': [1.0, 4.0], 'label': 'Jump'}]}}}))
    csv = tmp_path / 'test_Annotation.csv'
    csv.write_text('video,type,type_idx,start,end\nv2,Jump,1,2.0,3.5\n')
    folder = tmp_path / 'thumos_txt'
    folder.mkdir()
    (folder / 'Jump_test.txt').write_text('v3 0.5 1.5\n')
    sta = tmp_path / 'sta.txt'
    sta.write_text('v4 1.0 2.0##a person sits.\n')
    captions = tmp_path / 'captions.json'
    captions.write_text(json.dumps({'v5': {'duration': 5.0, 'timestamps': [[0, 2]],
                                           'sentences': ['A man walks.']}}))
    canonical = tmp_path / 'grounding.json'
    canonical.write_text(json.dumps({'queries': [
        {'query_id': 'q', 'video': 'v6', 'duration': 8.0, 'segment': [1, 3],
         'sentence': 'x', 'subset': 'train'}]}))
    predictions = tmp_path / 'pred.json'
    predictions.write_text(json.dumps({'results': {}}))
    return dict(activitynet=anet, csv=csv, folder=folder, sta=sta, captions=captions,
                canonical=canonical, predictions=predictions)


def test_each_format_is_recognised_once(files):
    found = {name: annotation_format(path) for name, path in files.items()
             if name != 'predictions'}
    assert found == {'activitynet': 'activitynet', 'csv': 'thumos14-csv',
                     'folder': 'thumos14-txt', 'sta': 'charades-sta',
                     'captions': 'activitynet-captions', 'canonical': 'grounding-json'}
    assert set(found.values()) == set(ACTION_FORMATS) | set(QUERY_FORMATS)


def test_action_door_reads_every_action_format(files):
    videos = {name: sorted(load_actions(files[name]).videos)
              for name in ('activitynet', 'csv', 'folder')}
    assert videos == {'activitynet': ['v1'], 'csv': ['v2'], 'folder': ['v3']}
    assert load_actions(files['csv'], 'test').instances['t_end'].tolist() == [3.5]


def test_query_door_reads_every_query_format(files):
    videos = {name: load_queries(files[name]).queries['video_id'].tolist()
              for name in ('sta', 'captions', 'canonical')}
    assert videos == {'sta': ['v4'], 'captions': ['v5'], 'canonical': ['v6']}
    # One split per Charades-STA / Captions file: the subset labels its rows ...
    assert load_queries(files['sta'], 'train').queries['subset'].tolist() == ['train']
    assert load_queries(files['sta']).queries['subset'].tolist() == ['test']
    # ... while the canonical JSON records each query's subset and is filtered by it.
    with pytest.raises(InputError, match="unknown subset 'test'"):
        load_queries(files['canonical'], 'test')


@pytest.mark.parametrize('door, name, message', [
    (load_actions, 'sta', 'grounding queries'),
    (load_actions, 'canonical', 'grounding queries'),
    (load_queries, 'csv', 'temporal action annotations'),
    (load_queries, 'folder', 'temporal action annotations'),
    (load_actions, 'predictions', 'prediction file'),
    (load_queries, 'predictions', 'prediction file'),
])
def test_the_wrong_door_is_one_clear_error(files, door, name, message):
    with pytest.raises(InputError, match=message) as info:
        door(files[name])
    assert str(files[name]) in str(info.value)
