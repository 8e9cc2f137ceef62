"""Grounding queries (Captions, Charades-STA, canonical JSON) through ``load_queries``.

Counts are recomputed here with plain ``json``/``csv`` reads, never copied from our
loaders' output.
"""
from __future__ import annotations

import csv
import json
import warnings

import pytest

from pal_eval.data.annotations import load_queries
from pal_eval.data.annotations.canonical import QUERY_COLUMNS, AnnotationWarning
from pal_eval.errors import InputError


def test_activitynet_captions_clips_the_134_overshoots_with_one_warning(shared_annotations):
    path = shared_annotations / 'microsoft_2D-TAN' / 'ActivityNet_val.json'
    data = json.loads(path.read_text())
    overshoots = sum(1 for e in data.values() for _, end in e['timestamps']
                     if end > e['duration'])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        grounding = load_queries(path)
    ours = [w for w in caught if issubclass(w.category, AnnotationWarning)]
    assert len(ours) == 1
    assert f'clipped {overshoots} segments' in str(ours[0].message)
    assert overshoots == 134
    q = grounding.queries
    assert len(q) == sum(len(e['timestamps']) for e in data.values()) == 17505
    assert q['video_id'].nunique() == len(data) == 4917
    assert (q['t_end'] <= q['duration']).all()
    assert list(q.columns) == list(QUERY_COLUMNS)
    first_vid = next(iter(data))
    first = q[q['video_id'] == first_vid].iloc[0]
    assert first['sentence'] == data[first_vid]['sentences'][0].strip()


def test_charades_sta_with_durations_from_the_csv(shared_annotations):
    folder = shared_annotations / 'microsoft_2D-TAN'
    lines = (folder / 'charades_sta_test.txt').read_text().splitlines()
    lengths = {r['id']: float(r['length'])
               for r in csv.DictReader(open(folder / 'Charades_v1_test.csv'))}
    past = sum(1 for line in lines
               if float(line.split('##')[0].split()[2]) > lengths[line.split()[0]])
    with pytest.warns(AnnotationWarning, match=f'clipped {past} segments'):
        grounding = load_queries(folder / 'charades_sta_test.txt',
                                 durations=folder / 'Charades_v1_test.csv')
    q = grounding.queries
    assert len(q) == len(lines) == 3720
    assert q['video_id'].nunique() == len({line.split()[0] for line in lines})
    assert q['query_id'].is_unique
    assert (q['t_end'] <= q['duration']).all()
    assert q.loc[0, 'sentence'] == lines[0].split('##')[1]
    bare = load_queries(folder / 'charades_sta_test.txt')
    assert bare.queries['duration'].isna().all()
    assert bare.queries.loc[0, 't_end'] == float(lines[0].split('##')[0].split()[2])


@pytest.mark.parametrize('content, field, message', [
    ({'v1': {'duration': 5.0, 'timestamps': [[1, 2]]}}, 'sentences', 'missing key'),
    ({'v1': {'duration': 5.0, 'timestamps': [[1, 2]], 'sentences': []}}, 'sentences',
     '0 sentences for 1 timestamps'),
    ({'v1': {'duration': 5.0, 'timestamps': [[3, 2]], 'sentences': ['x']}}, 'timestamps[0]',
     'reversed'),
    ({'v1': {'timestamps': [], 'sentences': []}}, 'duration', 'missing key')])
def test_malformed_captions(tmp_path, content, field, message):
    path = tmp_path / 'captions.json'
    path.write_text(json.dumps(content))
    with pytest.raises(InputError) as info:
        load_queries(path)
    text = str(info.value)
    assert str(path) in text and "'v1'" in text and field in text and message in text


@pytest.mark.parametrize('line, record, message', [
    ('vid1 1.0 2.0 a person sits.', "'line 1'", 'expected "video start end##sentence"'),
    ('vid1 one 2.0##a person sits.', "'vid1', field 'start'", 'must be a number'),
    ('vid1 3.0 2.0##a person sits.', "'vid1'", 'reversed'),
    ('vid1 1.0 9.0##a person sits.', "'vid1'", 'past the duration')])
def test_malformed_charades(tmp_path, line, record, message):
    path = tmp_path / 'sta.txt'
    path.write_text(line + '\n')
    with pytest.raises(InputError) as info:
        load_queries(path, durations={'vid1': 5.0})
    text = str(info.value)
    assert str(path) in text and record in text and message in text


def test_charades_video_missing_from_durations(tmp_path):
    path = tmp_path / 'sta.txt'
    path.write_text('vid2 1.0 2.0##a person sits.\n')
    with pytest.raises(InputError, match="'vid2', field 'duration'"):
        load_queries(path, durations={'vid1': 5.0})


@pytest.mark.parametrize('query, field, message', [
    ({'video': 'a', 'duration': 5, 'segment': [1, 2], 'sentence': 's'}, 'query_id',
     'missing key'),
    ({'query_id': 'q', 'video': 'a', 'duration': 5, 'segment': [1, 2]}, 'sentence',
     'missing key'),
    ({'query_id': 'q', 'video': 'a', 'duration': 5, 'segment': [1, 'x'], 'sentence': 's'},
     'segment', 'must be a number')])
def test_malformed_grounding_json(tmp_path, query, field, message):
    path = tmp_path / 'g.json'
    path.write_text(json.dumps({'queries': [query]}))
    with pytest.raises(InputError) as info:
        load_queries(path)
    text = str(info.value)
    assert str(path) in text and field in text and message in text
