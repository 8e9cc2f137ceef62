"""ActivityNet-style annotations through ``load_actions``, on real and malformed files.

Counts are recomputed here with plain ``json``/``csv`` reads, never copied from our
loaders' output.
"""
from __future__ import annotations

import json
import warnings

import pytest

from pal_eval.data.annotations import load_actions
from pal_eval.errors import InputError


def test_mmaction2_bare_database_form(shared_annotations):
    path = shared_annotations / 'open-mmlab_mmaction2' / 'eval_localization_gt.json'
    data = json.loads(path.read_text())
    ann = load_actions(path, subset='validation')
    assert set(ann.videos) == set(data)
    assert len(ann.instances) == sum(len(e['annotations']) for e in data.values())
    assert ann.videos['v_bYUmtLBL7W4'].resolution == '1920x1080'


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
        load_actions(path)
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
        load_actions(path)
    assert str(path) in str(info.value)


def test_float_noise_overshoot_is_clipped_with_one_counted_warning(tmp_path):
    videos = {f'v{i}': {'subset': 'validation', 'duration': 10.0,
                        'annotations': [{'segment': [1.0, 10.01], 'label': 'jump'}]}
              for i in range(3)}
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps({'database': videos}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ann = load_actions(path)
    assert [str(w.message).count('clipped 3 segments') for w in caught] == [1]
    assert (ann.instances['t_end'] == 10.0).all()


def test_unknown_subset_lists_the_known_ones(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(_with()))
    with pytest.raises(InputError, match="unknown subset 'training'.*'validation'"):
        load_actions(path, subset='training')


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match='not found'):
        load_actions(tmp_path / 'nope.json')
