"""MMEngine metric adapters: registry, dict and ActionDataSample inputs, dump, numbers."""
from __future__ import annotations

import json

import numpy as np
import pytest
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample

import pal_eval  # noqa: F401  (registers pal-eval's metrics into mmaction's registry)

GT = {'database': {
    'a': {'subset': 'validation', 'duration': 40.0,
          'annotations': [{'segment': [0, 10], 'label': 'jump'},
                          {'segment': [20, 30], 'label': 'jump'}]},
    'b': {'subset': 'validation', 'duration': 10.0,
          'annotations': [{'segment': [0, 5], 'label': 'run'}]}}}


@pytest.fixture
def gt_file(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(GT))
    return path


def samples():
    # same predictions as the hand-worked detection case (AP jump .75/.5, run 0)
    as_dict = {'video_id': 'a', 'pred_segments': np.array([[0, 9], [0, 10]], float),
               'pred_scores': np.array([0.9, 0.8]), 'pred_labels': ['jump', 'jump']}
    element = ActionDataSample()
    element.set_metainfo({'video_id': 'c'})
    element.set_field(np.array([[0, 1]], float), 'pred_segments')
    element.set_field(np.array([0.7]), 'pred_scores')
    element.set_field(['jump'], 'pred_labels')
    last = {'metainfo': {'video_id': 'a'}, 'pred_segments': [[20, 30]], 'pred_scores': [0.6],
            'pred_labels': ['jump']}
    return [as_dict, element, last]


def test_detection_metric(gt_file, tmp_path):
    dump = tmp_path / 'dump.json'
    metric = METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                                tiou_thresholds=[0.5, 0.95], dump_path=str(dump)))
    batch = samples()
    metric.process({}, batch[:2])
    metric.process({}, batch[2:])
    result = metric.evaluate(size=3)
    assert result == {'mAP@0.5': 0.375, 'mAP@0.95': 0.25, 'average_mAP': 0.3125}
    dumped = json.loads(dump.read_text())['results']
    assert [r['score'] for r in dumped['a']] == [0.9, 0.8, 0.6] and 'c' in dumped


def test_proposal_metric_keys(gt_file):
    metric = METRICS.build(dict(type='ProposalRecallMetric', ann_file=str(gt_file)))
    metric.process({}, samples())
    result = metric.evaluate(size=3)
    assert set(result) == {'AR@1', 'AR@5', 'AR@10', 'AR@50', 'AR@100', 'AUC'}
    assert all(0 <= v <= 1 for v in result.values())


def test_grounding_metric(tmp_path):
    gt = tmp_path / 'g.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'v', 'duration': 20, 'segment': [0, 10], 'sentence': 's'},
        {'query_id': 'q2', 'video': 'v', 'duration': 20, 'segment': [5, 6], 'sentence': 't'}]}))
    metric = METRICS.build(dict(type='GroundingRecallMetric', ann_file=str(gt),
                                recalls=[1], ious=[0.7]))
    metric.process({}, [{'query_id': 'q1', 'pred_segments': np.array([[0, 8.0]]),
                         'pred_scores': np.array([1.0])}])
    assert metric.evaluate(size=1) == {'R@1,IoU=0.7': 0.5, 'mIoU': 0.4}


def test_detection_metric_only_processed_videos_and_matlab(gt_file):
    metric = METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                                tiou_thresholds=[0.5, 0.95], only_processed_videos=True))
    metric.process({}, samples())
    # video 'b' (class 'run') was never processed: only 'jump' counts -> AP .75 / .5
    assert metric.evaluate(size=3) == {'mAP@0.5': 0.75, 'mAP@0.95': 0.5, 'average_mAP': 0.625}
    matlab = METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                                tiou_thresholds=[0.5], protocol='thumos14-matlab'))
    matlab.process({}, samples())
    # MATLAB: gt [0,10] takes [0,10] (overlap 1 > .9), [0,9] is FP, 'c' FP, [20,30] TP:
    # order by score FP(.9) TP(.8) FP(.7) TP(.6) -> (1/2 + 2/4) / 2 = .5 ; 'run' 0
    assert matlab.evaluate(size=3) == {'mAP@0.5': 0.25, 'average_mAP': 0.25}


def _window(video_id, start, segments, scores, labels):
    return {'video_id': video_id, 'window_start': start, 'pred_segments': np.array(segments, float),
            'pred_scores': np.array(scores, float), 'pred_labels': labels}


def test_detection_metric_merges_overlapping_windows(gt_file):
    # Two overlapping windows of video 'a' both predict [0, 10]; merged, the duplicate
    # decays below the second true segment, so jump's AP is 1 instead of (1 + 2/3) / 2.
    windows = [_window('a', 0, [[0, 10]], [0.9], ['jump']),
               _window('a', 128, [[0, 10], [20, 30]], [0.85, 0.6], ['jump', 'jump']),
               _window('b', 0, [[0, 5]], [0.5], ['run'])]
    merged = METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                                tiou_thresholds=[0.5]))
    merged.process({}, windows)
    assert merged.evaluate(size=3) == {'mAP@0.5': 1.0, 'average_mAP': 1.0}
    unmerged = METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                                  tiou_thresholds=[0.5]))
    unmerged.process({}, [{k: v for k, v in w.items() if k != 'window_start'} for w in windows])
    # without merging: jump ranks TP, FP, TP -> AP (1 + 2/3) / 2; run AP 1
    assert unmerged.evaluate(size=3)['mAP@0.5'] == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)


def test_grounding_metric_float32_times_take_missing_durations_from_samples(tmp_path):
    """Charades-STA txt has no durations: in float32 mode the samples' ``duration`` serves.

    Same tie as ``test_float32_time_precision_changes_a_tie_at_the_nms_threshold``:
    30.96 s video, candidates [0, d/16] and [0, d/8], ground truth [0, d/8] (the query id
    of line 1 of the txt is 'AB12C_0'): R@2,IoU=0.7 is 0 in float64, 1 in float32.
    """
    d = 30.96
    gt = tmp_path / 'charades_sta_test.txt'
    gt.write_text(f'AB12C 0.0 {d / 8!r}##person opens the door.\n')
    sample = {'query_id': 'AB12C_0', 'duration': d,
              'pred_segments': np.array([[0, d / 16], [0, d / 8]]),
              'pred_scores': np.array([0.9, 0.8])}
    results = {}
    for precision in ('float64', 'float32'):
        metric = METRICS.build(dict(type='GroundingRecallMetric', ann_file=str(gt),
                                    recalls=[2], ious=[0.7], time_precision=precision))
        metric.process({}, [dict(sample)])
        results[precision] = metric.evaluate(size=1)['R@2,IoU=0.7']
    assert results == {'float64': 0.0, 'float32': 1.0}


def test_detection_metric_fuses_after_merging_windows(gt_file, tmp_path):
    """G-TAD THUMOS14's order (``class_fusion.after_window_merge``): the windows carry
    class-agnostic proposals and the video's class scores; the metric merges them with one
    Soft-NMS (G-TAD's loop: the last candidate of 'a', the decayed duplicate, is dropped),
    then fuses the top-2 classes and rounds. Video 'a': [0, 10] .9 and .85 (tIoU 1:
    decays to .85 exp(-1/.46) and is the last left), [20, 30] .6 -> 2 proposals x jump
    (.8) / run (.2): .72, .48 / .18, .12. An unknown window_merge key is an error."""
    from pal_eval.errors import PalEvalError

    def window(start, segments, scores):
        return {'video_id': 'a', 'window_start': start, 'pred_segments': np.array(segments),
                'pred_scores': np.array(scores), 'pred_class_scores': np.array([.8, .2]),
                'pred_taxonomy': ['jump', 'run'], 'top_k_classes': 2}

    dump = tmp_path / 'out.json'
    metric = METRICS.build(dict(
        type='TemporalDetectionMetric', ann_file=str(gt_file), tiou_thresholds=[0.5],
        only_processed_videos=True, dump_path=str(dump),
        window_merge=dict(keep_last=False, stop_at_zero=True, round_seconds=1,
                          round_scores=6)))
    metric.process({}, [window(0, [[0, 10]], [0.9]),
                        window(128, [[0, 10.04], [20, 30]], [0.85, 0.6])])
    # Only 'a' was processed: its two jumps are both found (run is not among its classes).
    assert metric.evaluate(size=2) == {'mAP@0.5': 1.0, 'average_mAP': 1.0}
    results = json.loads(dump.read_text())['results']['a']
    assert [(r['label'], r['score'], r['segment']) for r in results] == [
        ('jump', 0.72, [0.0, 10.0]), ('jump', 0.48, [20.0, 30.0]),
        ('run', 0.18, [0.0, 10.0]), ('run', 0.12, [20.0, 30.0])]
    with pytest.raises(PalEvalError, match='window_merge: unknown key.*sgima'):
        METRICS.build(dict(type='TemporalDetectionMetric', ann_file=str(gt_file),
                           window_merge=dict(sgima=0.5)))
