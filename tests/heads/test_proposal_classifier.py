"""Per-proposal classification (the synthetic detection protocol): pooling and fusion by
hand, the classifier, the protocol against video-level fusion, the registered object."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from heads.classifiers import ProposalClassifier, build_video_classifier
from pal_eval.core.resample import pool_segments
from pal_eval.data.features import dump_meta, write_video_features
from pal_eval.evaluation.detection import evaluate_detection
from pal_eval.postprocess.fusion import (
    fuse_proposals_with_classes,
    fuse_proposals_with_proposal_classes,
)


def test_pool_segments_by_hand():
    features = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 3.0], [6.0, 3.0]])
    centers = np.array([0.5, 1.5, 2.5, 3.5])
    pooled = pool_segments(features, centers, np.array([[0.0, 2.0], [1.0, 4.0], [2.9, 3.1]]))
    # [0, 2]: centres 0.5, 1.5; [1, 4]: 1.5, 2.5, 3.5; [2.9, 3.1]: none -> interpolated at 3.0
    np.testing.assert_allclose(pooled, [[1.0, 1.0], [4.0, 7 / 3], [5.0, 3.0]])


def test_per_proposal_fusion_keeps_each_proposals_top_classes():
    segments, scores, labels = fuse_proposals_with_proposal_classes(
        np.array([[0.0, 1.0], [5.0, 6.0]]), np.array([0.5, 0.8]),
        np.array([[0.1, 0.7, 0.2], [0.6, 0.1, 0.3]]), ['a', 'b', 'c'], top_k_classes=2)
    assert labels == ['b', 'c', 'a', 'c']
    np.testing.assert_allclose(scores, [0.35, 0.1, 0.48, 0.24])
    np.testing.assert_array_equal(segments, [[0, 1], [0, 1], [5, 6], [5, 6]])


def _three_class_video(rng, length=30):
    """One-hot-ish features of classes 0, 1, 2 in thirds of a 30 s video, with noise."""
    labels = np.repeat([0, 1, 2], length // 3)
    features = np.eye(3)[labels] + rng.normal(0, 0.1, (length, 3))
    return features, np.arange(length) + 0.5


def test_per_proposal_labels_every_instance_where_video_fusion_cannot():
    """Three classes in one video: top-2 video fusion must miss one, per proposal none."""
    rng = np.random.default_rng(0)
    videos = {f'v{i}': _three_class_video(rng) for i in range(4)}
    instances = [(v, 10.0 * c, 10.0 * (c + 1), 'abc'[c]) for v in videos for c in range(3)]
    classifier = ProposalClassifier.fit(videos, instances, ['a', 'b', 'c'])
    truth = pd.DataFrame(instances, columns=['video_id', 't_start', 't_end', 'label'])
    proposals = np.array([[0.0, 10.0], [10.0, 20.0], [20.0, 30.0]])
    scores = np.array([0.9, 0.8, 0.7])
    per_proposal, video_level = [], []
    for video, (features, centers) in videos.items():
        seg, sc, lab = fuse_proposals_with_proposal_classes(proposals, scores,
                                       classifier.predict_scores(features, centers, proposals),
                                       classifier.taxonomy, top_k_classes=2)
        per_proposal += [(video, *s, c, lab_) for s, c, lab_ in zip(seg, sc, lab)]
        video_scores = np.array([1 / 3 + 0.01, 1 / 3, 1 / 3 - 0.01])  # a perfect classifier
        seg, sc, lab = fuse_proposals_with_classes(proposals, scores, video_scores, 'abc')
        video_level += [(video, *s, c, lab_) for s, c, lab_ in zip(seg, sc, lab)]
    columns = ['video_id', 't_start', 't_end', 'score', 'label']
    ours = evaluate_detection(truth, pd.DataFrame(per_proposal, columns=columns), [0.5])
    fused = evaluate_detection(truth, pd.DataFrame(video_level, columns=columns), [0.5])
    assert ours.mAP[0] == pytest.approx(1.0)
    assert fused.ap_per_class['c'] == [0.0]  # class 'c' is never among a video's top 2


def test_registered_classifier_trains_from_its_config_and_reads_the_video(tmp_path):
    rng = np.random.default_rng(1)
    features_dir = tmp_path / 'features'
    database = {}
    for i in range(4):
        features, centers = _three_class_video(rng)
        write_video_features(features_dir, f'v{i}', features.astype(np.float32), centers,
                             duration=30.0)
        database[f'v{i}'] = {'subset': 'training' if i < 3 else 'testing', 'duration': 30.0,
                             'annotations': [{'segment': [10.0 * c, 10.0 * (c + 1)],
                                              'label': 'abc'[c]} for c in range(3)]}
    dump_meta(features_dir, {'feature_dim': 3})
    ann = tmp_path / 'anet.json'
    ann.write_text(json.dumps({'version': 'VERSION 1.3', 'database': database}))
    classifier = build_video_classifier(dict(
        type='ProposalFeatureClassifier', ann_file=str(ann), feature_dir=str(features_dir),
        subset='training'))
    assert classifier.per_proposal and classifier.taxonomy == ['a', 'b', 'c']
    scores = classifier.segment_scores('v3', np.array([[21.0, 29.0], [1.0, 9.0]]))
    assert scores.argmax(axis=1).tolist() == [2, 0] and scores.shape == (2, 3)
