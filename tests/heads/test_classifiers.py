"""Video-level class scores: score files, the built-in classifier, the type= registry."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pal_eval  # noqa: F401  (registers into mmaction)
from heads.classifiers import (
    FeatureVideoClassifier,
    ScoreFileClassifier,
    VideoClassifier,
    build_video_classifier,
    dominant_labels,
    read_class_scores,
)
from pal_eval.errors import InputError, PalEvalError

TAXONOMY = ['jump', 'run', 'swim']


def test_score_file_dict_and_list(tmp_path):
    path = tmp_path / 'cls.json'
    path.write_text(json.dumps({'results': {'a': {'swim': 0.7, 'jump': 0.1},
                                            'b': [0.2, 0.3, 0.5]}}))
    scores = read_class_scores(path, TAXONOMY)
    np.testing.assert_array_equal(scores['a'], [0.1, 0.0, 0.7])
    np.testing.assert_array_equal(scores['b'], [0.2, 0.3, 0.5])


@pytest.mark.parametrize('results, needle', [
    ({'a': {'fly': 1.0}}, "unknown class 'fly'"),
    ({'a': [1.0]}, '1 scores for 3 classes'),
    ({'a': {'run': 'x'}}, 'scores must be numbers'),
    ({'a': 3}, 'expected a'),
])
def test_score_file_errors_name_file_and_video(tmp_path, results, needle):
    path = tmp_path / 'cls.json'
    path.write_text(json.dumps({'results': results}))
    with pytest.raises(InputError) as info:
        read_class_scores(path, TAXONOMY)
    message = str(info.value)
    assert str(path) in message and "video 'a'" in message and needle in message


def test_dominant_label_is_longest_total():
    df = pd.DataFrame({'video_id': ['v', 'v', 'v', 'w'], 't_start': [0, 10, 20, 0.0],
                       't_end': [3, 13, 24, 1.0], 'label': ['a', 'a', 'b', 'c']})
    assert dominant_labels(df) == {'v': 'a', 'w': 'c'}


def test_classifier_learns_separable_classes():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (3, 8))
    feats = {f'v{i}': rng.normal(centres[i % 3], 0.5, (12, 8)) for i in range(30)}
    labels = {f'v{i}': TAXONOMY[i % 3] for i in range(30)}
    clf = VideoClassifier.fit(feats, labels, TAXONOMY)
    for c in range(3):
        probs = clf.predict_scores(rng.normal(centres[c], 0.5, (12, 8)))
        assert probs.argmax() == c and np.isclose(probs.sum(), 1.0)


def test_the_type_picks_the_classifier_and_old_configs_keep_working(tmp_path):
    scores = tmp_path / 'cls.json'
    scores.write_text(json.dumps({'results': {'a': [0.2, 0.3, 0.5]}}))
    explicit = build_video_classifier(dict(type='ScoreFileClassifier', score_file=str(scores),
                                           taxonomy=TAXONOMY))
    implicit = build_video_classifier(dict(score_file=str(scores), taxonomy=TAXONOMY,
                                           feature_dir='ignored', subset='training'))
    assert type(explicit) is type(implicit) is ScoreFileClassifier
    np.testing.assert_array_equal(explicit.scores('a'), implicit.scores('a'))
    built_in = build_video_classifier(dict(ann_file='a.json', feature_dir='f', score_file=''))
    assert isinstance(built_in, FeatureVideoClassifier) and built_in.subset == 'training'
    assert build_video_classifier({}) is None  # scores must come with each sample
    with pytest.raises(PalEvalError, match='score_file=.*feature_dir'):
        build_video_classifier(dict(ann_file='a.json'))  # half a source
    with pytest.raises(PalEvalError, match='taxonomy'):
        ScoreFileClassifier(str(scores))  # no class order


def test_score_file_order_from_any_annotation_format(tmp_path):
    csv_file = tmp_path / 'test_Annotation.csv'  # THUMOS14 layout: taxonomy from its rows
    csv_file.write_text('video,type,type_idx,start,end\nv1,LongJump,1,0,1\n')
    scores = tmp_path / 'cls.json'
    scores.write_text(json.dumps({'results': {'v1': {'LongJump': 0.75}}}))
    from pal_eval.data.annotations.thumos import THUMOS14_CLASSES

    classifier = ScoreFileClassifier(str(scores), ann_file=str(csv_file))
    assert classifier.taxonomy == list(THUMOS14_CLASSES)
    assert classifier.scores('v1')[THUMOS14_CLASSES.index('LongJump')] == 0.75
    with pytest.raises(InputError, match="video 'v2'.*no class scores"):
        classifier.scores('v2')
