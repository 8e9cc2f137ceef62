"""THUMOS14 annotations (G-TAD JSON, both CSVs, the txt folder) through ``load_actions``.

Counts are recomputed here with plain ``json``/``csv`` reads, never copied from our
loaders' output.
"""
from __future__ import annotations

import collections
import csv
import json
import math

import pytest

from pal_eval.data.annotations import load_actions
from pal_eval.data.annotations.canonical import AMBIGUOUS_LABEL, AnnotationWarning
from pal_eval.data.annotations.thumos import THUMOS14_CLASSES
from pal_eval.errors import InputError


def test_thumos_gt_json_counts_match_a_plain_read(shared_annotations):
    path = shared_annotations / 'frostinassiky_gtad' / 'thumos_gt.json'
    database = json.loads(path.read_text())['database']
    ann = load_actions(path)
    assert len(ann.videos) == len(database) == 410
    subsets = collections.Counter(v.subset for v in ann.videos.values())
    assert subsets == collections.Counter(e['subset'] for e in database.values())
    assert subsets['train'] == 200 and subsets['test'] == 210
    test = load_actions(path, subset='test')
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
        gt = load_actions(folder / 'thumos14_test_groundtruth.csv')
    by_name = load_actions(folder / 'test_Annotation.csv')
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
        load_actions(folder / 'test_Annotation.csv', subset='validation')


def test_thumos_txt_folder(shared_annotations, tmp_path):
    rows = list(csv.DictReader(open(shared_annotations / 'frostinassiky_gtad'
                                    / 'test_Annotation.csv')))
    by_class = collections.defaultdict(list)
    for r in rows:
        by_class[r['type']].append(f"{r['video']}  {r['start']} {r['end']}")
    for label, lines in by_class.items():
        (tmp_path / f'{label}_test.txt').write_text('\n'.join(lines) + '\n')
    (tmp_path / 'BaseballPitch_val.txt').write_text('video_validation_0000051 1.5 3.0\n')
    ann = load_actions(tmp_path, subset='test')
    assert len(ann.instances) + len(ann.ambiguous) == len(rows)
    assert len(ann.ambiguous) == len(by_class[AMBIGUOUS_LABEL])
    assert set(ann.taxonomy) == set(by_class) - {AMBIGUOUS_LABEL}
    everything = load_actions(tmp_path)
    assert everything.videos['video_validation_0000051'].subset == 'validation'
    with pytest.raises(InputError, match="unknown subset 'train'"):
        load_actions(tmp_path, subset='train')


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
        load_actions(path)
