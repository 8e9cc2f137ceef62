"""Submission reader/writer: round trips, tolerated inputs, refusal to overwrite."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from pal_eval.data.submission import (
    read_action_submission,
    read_grounding_predictions,
    reconcile_video_prefix,
    write_action_submission,
    write_grounding_predictions,
)
from pal_eval.errors import InputError, PalEvalError


def test_detection_round_trip_keeps_order(tmp_path):
    frame = pd.DataFrame({'video_id': ['b', 'a', 'b'], 't_start': [1.5, 0.0, 2.0],
                          't_end': [3.0, 1.0, 2.0], 'score': [0.5, 0.9, 0.5],
                          'label': ['x', 'y', 'x']})
    path = tmp_path / 'det.json'
    write_action_submission(path, frame)
    data = json.loads(path.read_text())
    assert list(data['results']) == ['b', 'a'] and data['version'] == 'VERSION 1.3'
    back = read_action_submission(path)
    # rows are grouped by video in file order; within a video the order is kept
    assert back.to_dict('records') == [frame.iloc[i].to_dict() for i in (0, 2, 1)]
    with pytest.raises(PalEvalError, match='already exists'):
        write_action_submission(path, frame)
    write_action_submission(path, frame.iloc[:1], overwrite=True)
    assert len(read_action_submission(path)) == 1


def test_proposals_ignore_labels_and_accept_numeric_strings(tmp_path):
    path = tmp_path / 'p.json'
    path.write_text(json.dumps({'results': {'v': [
        {'segment': ['1.5', '2'], 'score': '0.25', 'label': 'x'},
        {'segment': [0, 1], 'score': 1}]}}))
    frame = read_action_submission(path, with_labels=False)
    assert list(frame.columns) == ['video_id', 't_start', 't_end', 'score']
    assert frame[['t_start', 't_end', 'score']].values.tolist() == [[1.5, 2.0, 0.25],
                                                                    [0.0, 1.0, 1.0]]


def test_grounding_round_trip_and_errors(tmp_path):
    frame = pd.DataFrame({'query_id': ['q1', 'q1', '7'], 't_start': [0.0, 1.0, 2.0],
                          't_end': [1.0, 2.0, 3.0], 'score': [0.1, 0.2, 0.3]})
    path = tmp_path / 'g.json'
    write_grounding_predictions(path, frame)
    assert read_grounding_predictions(path).to_dict('records') == frame.to_dict('records')
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'results': {'q9': [{'segment': [3, 'x'], 'score': 1}]}}))
    with pytest.raises(InputError, match=r"query 'q9', field 'results\[0\].segment'"):
        read_grounding_predictions(bad)
    bad.write_text(json.dumps({'queries': []}))
    with pytest.raises(InputError, match='ground-truth file'):
        read_grounding_predictions(bad)


def test_reconcile_video_prefix():
    frame = pd.DataFrame({'video_id': ['v_a', 'v_b'], 't_start': [0.0, 0.0],
                          't_end': [1.0, 1.0], 'score': [1.0, 1.0]})
    fixed, note = reconcile_video_prefix(frame, ['a', 'c'])
    assert fixed['video_id'].tolist() == ['a', 'b'] and 'stripped' in note
    same, note = reconcile_video_prefix(frame, ['v_a'])
    assert same is frame and note == ''


def test_reversed_and_negative_segments_are_kept_with_one_warning_each(tmp_path):
    # The official evaluators accept both (they just get the tIoU their formula gives),
    # so the reader keeps them and says so once per kind, naming the first offender.
    path = tmp_path / 'det.json'
    path.write_text(json.dumps({'results': {
        'a': [{'label': 'x', 'score': 1, 'segment': [0, 1]},
              {'label': 'x', 'score': 1, 'segment': [5, 2]}],
        'b': [{'label': 'x', 'score': 1, 'segment': [9, 4]},
              {'label': 'x', 'score': 1, 'segment': [-3, -1]}]}}))
    with pytest.warns(UserWarning) as caught:
        frame = read_action_submission(path)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "2 of 4 predictions have end < start (first: video 'a', segment [5.0, 2.0])" \
        in messages[0]
    assert "1 of 4 predictions end before 0 s (first: video 'b'" in messages[1]
    assert frame[['t_start', 't_end']].to_numpy().tolist() == [[0, 1], [5, 2], [9, 4],
                                                                [-3, -1]]
