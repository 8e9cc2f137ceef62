"""Writers: what they write reads back identically through the doors.

Counts are recomputed here with plain ``json``/``csv`` reads, never copied from our
loaders' output.
"""
from __future__ import annotations

import json

import pandas as pd

from pal_eval.data.annotations import load_actions, load_queries
from pal_eval.data.annotations.canonical import (
    INSTANCE_COLUMNS,
    QUERY_COLUMNS,
    ActionAnnotations,
    GroundingAnnotations,
    VideoInfo,
    instances_frame,
    queries_frame,
)
from pal_eval.data.annotations.writers import (
    write_activitynet_gt,
    write_charades_sta,
    write_grounding_json,
)


def _small_actions() -> ActionAnnotations:
    videos = {'a': VideoInfo('a', 'training', 10.0, 8.0, '128x96'),
              'b': VideoInfo('b', 'validation', 5.5, 10.0, '128x96'),
              'c': VideoInfo('c', 'validation', 7.0, 10.0, '128x96')}
    rows = [('a', 0.0, 2.5, 'jump'), ('a', 2.5, 10.0, 'run'), ('b', 1.25, 3.0, 'jump')]
    return ActionAnnotations(videos, instances_frame(rows), ['run', 'jump', 'swim'])


def test_activitynet_writer_round_trip(tmp_path):
    original = _small_actions()
    write_activitynet_gt(tmp_path / 'gt.json', original, with_fps=True)
    loaded = load_actions(tmp_path / 'gt.json')
    assert loaded.videos == original.videos
    pd.testing.assert_frame_equal(loaded.instances, original.instances)
    assert loaded.taxonomy == ['run', 'jump', 'swim']  # order and unused classes kept
    assert loaded.videos['c'].subset == 'validation'
    assert len(loaded.select_subset('validation').instances) == 1


def test_activitynet_writer_maps_subsets_like_thumos(tmp_path):
    write_activitynet_gt(tmp_path / 'gt.json', _small_actions(),
                         subset_map={'training': 'validation', 'validation': 'test'})
    raw = json.loads((tmp_path / 'gt.json').read_text())['database']
    assert {k: v['subset'] for k, v in raw.items()} == {
        'a': 'validation', 'b': 'test', 'c': 'test'}


def test_grounding_writers_round_trip(tmp_path):
    rows = [('q0', 'a', 10.0, 0.0, 2.5, 'the red disk spins.', 'train'),
            ('q1', 'a', 10.0, 2.5, 10.0, 'a cyan bar moves.', 'train'),
            ('q2', 'b', 5.5, 1.25, 3.0, 'the white cross grows.', 'test')]
    original = GroundingAnnotations(queries_frame(rows))
    write_grounding_json(tmp_path / 'g.json', original)
    pd.testing.assert_frame_equal(load_queries(tmp_path / 'g.json').queries,
                                  original.queries)
    assert len(load_queries(tmp_path / 'g.json', subset='test').queries) == 1
    write_charades_sta(tmp_path / 'sta.txt', original)
    assert (tmp_path / 'sta.txt').read_text().splitlines()[1] == \
        'a 2.500 10.000##a cyan bar moves.'
    back = load_queries(tmp_path / 'sta.txt', durations={'a': 10.0, 'b': 5.5}).queries
    assert list(back['t_end']) == [2.5, 10.0, 3.0]


def test_empty_frames_have_the_canonical_columns():
    assert tuple(instances_frame().columns) == INSTANCE_COLUMNS
    assert tuple(queries_frame().columns) == QUERY_COLUMNS
