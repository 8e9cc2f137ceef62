"""Tests of pal_eval.data.annotations on the real files and on malformed input.

Counts are recomputed here with plain ``json``/``csv`` reads, never copied from our
loaders' output.
"""
from __future__ import annotations

import collections
import csv
import json
import math
import warnings

import pandas as pd
import pytest

from pal_eval.data.annotations import (
    AMBIGUOUS_LABEL,
    INSTANCE_COLUMNS,
    QUERY_COLUMNS,
    THUMOS14_CLASSES,
    ActionAnnotations,
    AnnotationWarning,
    GroundingAnnotations,
    VideoInfo,
    instances_frame,
    load_activitynet,
    load_activitynet_captions,
    load_charades_sta,
    load_grounding_json,
    load_thumos14,
    queries_frame,
    write_activitynet_gt,
    write_charades_sta,
    write_grounding_json,
)
from pal_eval.errors import InputError

# ------------------------------------------------------------------- real files


def test_thumos_gt_json_counts_match_a_plain_read(shared_annotations):
    path = shared_annotations / 'frostinassiky_gtad' / 'thumos_gt.json'
    database = json.loads(path.read_text())['database']
    ann = load_thumos14(path)
    assert len(ann.videos) == len(database) == 410
    subsets = collections.Counter(v.subset for v in ann.videos.values())
    assert subsets == collections.Counter(e['subset'] for e in database.values())
    assert subsets['train'] == 200 and subsets['test'] == 210
    test = load_thumos14(path, subset='test')
    plain = [(vid, float(a['segment'][0]), float(a['segment'][1]), a['label'])
             for vid, e in database.items() if e['subset'] == 'test' for a in e['annotations']]
    assert len(test.instances) == len(plain) == 3311
    assert sorted(test.instances.itertuples(index=False, name=None)) == sorted(plain)
    assert test.instances['t_start'].dtype == 'float64'  # strings in the file
    assert sorted(ann.taxonomy) == sorted(THUMOS14_CLASSES)
    assert all(math.isnan(v.duration) for v in ann.videos.values())  # not in this file


def test_thumos_csvs_agree_and_keep_ambiguous_apart(shared_annotations):
    folder = shared_annotations / 'frostinassiky_gtad'
    gt_rows = list(csv.DictReader(open(folder / 'thumos14_test_groundtruth.csv')))
    past = [r['video-name'] for r in gt_rows
            if float(r['t-end']) > float(r['video-duration']) + 0.05]
    # Known errors of the official file: kept (as the official evaluation does), reported.
    with pytest.warns(AnnotationWarning, match=f'kept {len(past)} segments of '
                      f'{len(set(past))} videos'):
        gt = load_thumos14(folder / 'thumos14_test_groundtruth.csv')
    by_name = load_thumos14(folder / 'test_Annotation.csv')
    rows = list(csv.DictReader(open(folder / 'test_Annotation.csv')))
    ambiguous = [r for r in rows if r['type'] == AMBIGUOUS_LABEL]
    assert len(gt.ambiguous) == len(by_name.ambiguous) == len(ambiguous) == 99
    assert len(gt.instances) == len(rows) - len(ambiguous)
    assert AMBIGUOUS_LABEL not in set(gt.instances['label'])
    # label-idx -> class name (our THUMOS14_CLASSES) must reproduce the names of the
    # other CSV exactly: an independent check of the index mapping.
    def rows_of(frame):
        return collections.Counter(frame.itertuples(index=False, name=None))
    assert rows_of(gt.instances) == rows_of(by_name.instances)
    assert rows_of(gt.ambiguous) == rows_of(by_name.ambiguous)
    info = gt.videos['video_test_0000278']
    assert (info.duration, info.fps, info.subset) == (215.166667, 30.0, 'test')
    with pytest.raises(InputError, match="unknown subset 'validation'"):
        load_thumos14(folder / 'test_Annotation.csv', subset='validation')


def test_thumos_txt_folder(shared_annotations, tmp_path):
    rows = list(csv.DictReader(open(shared_annotations / 'frostinassiky_gtad'
                                    / 'test_Annotation.csv')))
    by_class = collections.defaultdict(list)
    for r in rows:
        by_class[r['type']].append(f"{r['video']}  {r['start']} {r['end']}")
    for label, lines in by_class.items():
        (tmp_path / f'{label}_test.txt').write_text('\n'.join(lines) + '\n')
    (tmp_path / 'BaseballPitch_val.txt').write_text('video_validation_0000051 1.5 3.0\n')
    ann = load_thumos14(tmp_path, subset='test')
    assert len(ann.instances) + len(ann.ambiguous) == len(rows)
    assert len(ann.ambiguous) == len(by_class[AMBIGUOUS_LABEL])
    assert set(ann.taxonomy) == set(by_class) - {AMBIGUOUS_LABEL}
    everything = load_thumos14(tmp_path)
    assert everything.videos['video_validation_0000051'].subset == 'validation'
    with pytest.raises(InputError, match="unknown subset 'train'"):
        load_thumos14(tmp_path, subset='train')


def test_activitynet_captions_clips_the_134_overshoots_with_one_warning(shared_annotations):
    path = shared_annotations / 'microsoft_2D-TAN' / 'ActivityNet_val.json'
    data = json.loads(path.read_text())
    overshoots = sum(1 for e in data.values() for _, end in e['timestamps']
                     if end > e['duration'])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        grounding = load_activitynet_captions(path)
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
        grounding = load_charades_sta(folder / 'charades_sta_test.txt',
                                      folder / 'Charades_v1_test.csv')
    q = grounding.queries
    assert len(q) == len(lines) == 3720
    assert q['video_id'].nunique() == len({line.split()[0] for line in lines})
    assert q['query_id'].is_unique
    assert (q['t_end'] <= q['duration']).all()
    assert q.loc[0, 'sentence'] == lines[0].split('##')[1]
    bare = load_charades_sta(folder / 'charades_sta_test.txt')
    assert bare.queries['duration'].isna().all()
    assert bare.queries.loc[0, 't_end'] == float(lines[0].split('##')[0].split()[2])


def test_mmaction2_bare_database_form(shared_annotations):
    path = shared_annotations / 'open-mmlab_mmaction2' / 'eval_localization_gt.json'
    data = json.loads(path.read_text())
    ann = load_activitynet(path, subset='validation')
    assert set(ann.videos) == set(data)
    assert len(ann.instances) == sum(len(e['annotations']) for e in data.values())
    assert ann.videos['v_bYUmtLBL7W4'].resolution == '1920x1080'


# --------------------------------------------------------------------- writers


def _small_actions() -> ActionAnnotations:
    videos = {'a': VideoInfo('a', 'training', 10.0, 8.0, '128x96'),
              'b': VideoInfo('b', 'validation', 5.5, 10.0, '128x96'),
              'c': VideoInfo('c', 'validation', 7.0, 10.0, '128x96')}
    rows = [('a', 0.0, 2.5, 'jump'), ('a', 2.5, 10.0, 'run'), ('b', 1.25, 3.0, 'jump')]
    return ActionAnnotations(videos, instances_frame(rows), ['run', 'jump', 'swim'])


def test_activitynet_writer_round_trip(tmp_path):
    original = _small_actions()
    write_activitynet_gt(tmp_path / 'gt.json', original, with_fps=True)
    loaded = load_activitynet(tmp_path / 'gt.json')
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
    pd.testing.assert_frame_equal(load_grounding_json(tmp_path / 'g.json').queries,
                                  original.queries)
    assert len(load_grounding_json(tmp_path / 'g.json', subset='test').queries) == 1
    write_charades_sta(tmp_path / 'sta.txt', original)
    assert (tmp_path / 'sta.txt').read_text().splitlines()[1] == \
        'a 2.500 10.000##a cyan bar moves.'
    back = load_charades_sta(tmp_path / 'sta.txt', {'a': 10.0, 'b': 5.5}).queries
    assert list(back['t_end']) == [2.5, 10.0, 3.0]


def test_empty_frames_have_the_canonical_columns():
    assert tuple(instances_frame().columns) == INSTANCE_COLUMNS
    assert tuple(queries_frame().columns) == QUERY_COLUMNS


# ----------------------------------------------------------------- malformed input

_GOOD_VIDEO = {'subset': 'validation', 'duration': 10.0,
               'annotations': [{'segment': [1.0, 2.0], 'label': 'jump'}]}


def _with(**changes):
    video = json.loads(json.dumps(_GOOD_VIDEO))
    annotation = video['annotations'][0]
    for key, value in changes.items():
        target = annotation if key in ('segment', 'label') else video
        if value is None:
            del target[key]
        else:
            target[key] = value
    return {'database': {'v_bad': video}}


MALFORMED_ACTIVITYNET = {
    'missing annotations': (_with(annotations=None), 'annotations', 'missing key'),
    'missing segment': (_with(segment=None), 'segment', 'missing key'),
    'missing label': (_with(label=None), 'label', 'missing key'),
    'non-numeric': (_with(segment=['one', 2.0]), 'segment', 'must be a number'),
    'reversed': (_with(segment=[5.0, 2.0]), 'segment', 'reversed'),
    'negative': (_with(segment=[-1.0, 2.0]), 'segment', 'negative'),
    'past duration': (_with(segment=[1.0, 12.0]), 'segment', 'past the duration'),
    'one number': (_with(segment=[1.0]), 'segment', 'must be [start, end]'),
    'bad duration': (_with(duration='long'), 'duration', 'must be a number'),
    'zero duration': (_with(duration=0), 'duration', 'must be positive'),
    'annotations not a list': (_with(annotations={}), 'annotations', 'must be list'),
}


@pytest.mark.parametrize('case', sorted(MALFORMED_ACTIVITYNET))
def test_malformed_activitynet_names_file_video_and_field(tmp_path, case):
    content, field, message = MALFORMED_ACTIVITYNET[case]
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(content))
    with pytest.raises(InputError) as info:
        load_activitynet(path)
    text = str(info.value)
    assert str(path) in text and "'v_bad'" in text and field in text and message in text
    assert '\n' not in text


@pytest.mark.parametrize('content, message', [
    ('', 'empty'), ('{"database": ', 'not valid JSON'), ('[1, 2]', 'JSON object'),
    ('{"database": [1]}', 'database'), ('{"version": "1.3", "taxonomy": []}', 'database')])
def test_wrong_or_empty_json_is_an_input_error(tmp_path, content, message):
    path = tmp_path / 'gt.json'
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        load_activitynet(path)
    assert str(path) in str(info.value)


def test_float_noise_overshoot_is_clipped_with_one_counted_warning(tmp_path):
    videos = {f'v{i}': {'subset': 'validation', 'duration': 10.0,
                        'annotations': [{'segment': [1.0, 10.01], 'label': 'jump'}]}
              for i in range(3)}
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps({'database': videos}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ann = load_activitynet(path)
    assert [str(w.message).count('clipped 3 segments') for w in caught] == [1]
    assert (ann.instances['t_end'] == 10.0).all()


def test_unknown_subset_lists_the_known_ones(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(_with()))
    with pytest.raises(InputError, match="unknown subset 'training'.*'validation'"):
        load_activitynet(path, subset='training')


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match='not found'):
        load_activitynet(tmp_path / 'nope.json')


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
        load_activitynet_captions(path)
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
        load_charades_sta(path, {'vid1': 5.0})
    text = str(info.value)
    assert str(path) in text and record in text and message in text


def test_charades_video_missing_from_durations(tmp_path):
    path = tmp_path / 'sta.txt'
    path.write_text('vid2 1.0 2.0##a person sits.\n')
    with pytest.raises(InputError, match="'vid2', field 'duration'"):
        load_charades_sta(path, {'vid1': 5.0})


@pytest.mark.parametrize('text, message', [
    ('video,type,start\nv,a,1\n', 'unknown THUMOS14 CSV header'),
    ('', 'empty'),
    ('video-name,t-init,t-end,label-idx\nv1,1.0,2.0,25\n', 'label-idx'),
    ('video-name,t-init,t-end,label-idx\nv1,1.0\n', "'line 2'"),
    ('video,type,start,end\nv1,Jump,abc,2.0\n', "'v1', field 'start'")])
def test_malformed_thumos_csv(tmp_path, text, message):
    path = tmp_path / 'gt.csv'
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_thumos14(path)


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
        load_grounding_json(path)
    text = str(info.value)
    assert str(path) in text and field in text and message in text
