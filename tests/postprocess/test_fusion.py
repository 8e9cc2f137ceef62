"""Video-level class fusion, score files and the built-in classifier."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pal_eval.errors import InputError
from pal_eval.postprocess.fusion import (
    VideoClassifier,
    dominant_labels,
    fuse_proposals_with_classes,
    load_class_scores,
)
from pal_eval.postprocess.windows import merge_window_predictions

TAXONOMY = ['jump', 'run', 'swim']


def test_fusion_products_and_top_k():
    segments = np.array([[0.0, 1.0], [2.0, 5.0]])
    seg, scores, labels = fuse_proposals_with_classes(
        segments, np.array([0.5, 0.25]), np.array([0.1, 0.6, 0.3]), TAXONOMY, top_k_classes=2)
    assert labels == ['run', 'run', 'swim', 'swim']
    np.testing.assert_allclose(scores, [0.3, 0.15, 0.15, 0.075])
    np.testing.assert_array_equal(seg, np.vstack([segments, segments]))


def test_score_file_dict_and_list(tmp_path):
    path = tmp_path / 'cls.json'
    path.write_text(json.dumps({'results': {'a': {'swim': 0.7, 'jump': 0.1},
                                            'b': [0.2, 0.3, 0.5]}}))
    scores = load_class_scores(path, TAXONOMY)
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
        load_class_scores(path, TAXONOMY)
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


def test_merge_windows_per_class():
    seg, scores, labels = merge_window_predictions(
        [np.array([[0, 10.0]]), np.array([[0, 10.0], [0, 10.0]])],
        [np.array([0.9]), np.array([0.8, 0.6])], [['a'], ['a', 'b']], sigma=0.5)
    # The duplicate 'a' decays by exp(-1 / 0.5); 'b' is another class and keeps 0.6.
    assert labels == ['a', 'b', 'a']
    np.testing.assert_allclose(scores, [0.9, 0.6, 0.8 * np.exp(-2.0)])
    assert seg.shape == (3, 2)
