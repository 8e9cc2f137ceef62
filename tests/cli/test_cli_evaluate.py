"""``pal-eval evaluate``: tables, JSON, plots, and one clear error line for bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pal_eval.cli import main

GT = {'version': 'VERSION 1.3', 'taxonomy': [], 'database': {
    'a': {'subset': 'validation', 'duration': 40.0,
          'annotations': [{'segment': [0, 10], 'label': 'jump'},
                          {'segment': [20, 30], 'label': 'jump'}]},
    'b': {'subset': 'validation', 'duration': 10.0,
          'annotations': [{'segment': [0, 5], 'label': 'run'}]},
    'c': {'subset': 'testing', 'duration': 10.0, 'annotations': []}}}
PRED = {'version': 'VERSION 1.3', 'external_data': {}, 'results': {
    'a': [{'label': 'jump', 'score': 0.9, 'segment': [0, 9]},
          {'label': 'jump', 'score': 0.8, 'segment': [0, 10]},
          {'label': 'jump', 'score': 0.6, 'segment': [20, 30]}],
    'zz': [{'label': 'jump', 'score': 0.7, 'segment': [0, 1]}]}}


@pytest.fixture
def files(tmp_path):
    gt, pred = tmp_path / 'gt.json', tmp_path / 'pred.json'
    gt.write_text(json.dumps(GT))
    pred.write_text(json.dumps(PRED))
    return tmp_path, gt, pred


def run(capsys, *argv):
    code = main(['evaluate', *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_detection_table_json_and_plot(files, capsys):
    folder, gt, pred = files
    code, out, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                         '--tiou-thresholds', '0.5,0.95', '--out', str(folder / 'm.json'),
                         '--plot', str(folder / 'm.png'))
    assert code == 0, err
    metrics = json.loads((folder / 'm.json').read_text())
    # hand-worked in tests/evaluation/test_detection_map.py: jump .75/.5, run 0
    assert metrics['mAP'] == [0.375, 0.25] and metrics['average_mAP'] == 0.3125
    assert metrics['ap_per_class'] == {'jump': [0.75, 0.5], 'run': [0.0, 0.0]}
    assert '37.50' in out and '31.25' in out  # percent table
    assert (folder / 'm.png').read_bytes()[:4] == b'\x89PNG'
    # existing outputs are not overwritten silently
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       '--out', str(folder / 'm.json'))
    assert code == 2 and 'already exists' in err


def test_proposal_json_keys(files, capsys):
    folder, gt, pred = files
    code, out, err = run(capsys, 'proposal', '--gt', str(gt), '--pred', str(pred),
                         '--out', str(folder / 'p.json'), '--plot', str(folder / 'p.png'))
    assert code == 0, err
    metrics = json.loads((folder / 'p.json').read_text())
    assert set(metrics) == {'tiou_thresholds', 'AR@1', 'AR@5', 'AR@10', 'AR@50', 'AR@100',
                            'AUC', 'curve'}
    assert len(metrics['curve']['avg_proposals']) == 100
    assert all(0 <= metrics[k] <= 1 for k in ('AR@1', 'AR@100', 'AUC'))


def test_grounding_canonical_json(tmp_path, capsys):
    gt = tmp_path / 'g.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'v', 'duration': 20, 'segment': [0, 10], 'sentence': 's'},
        {'query_id': 'q2', 'video': 'v', 'duration': 20, 'segment': [5, 6], 'sentence': 't'}]}))
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': {'q1': [{'segment': [0, 8], 'score': 1.0}]}}))
    code, out, err = run(capsys, 'grounding', '--gt', str(gt), '--pred', str(pred),
                         '--out', str(tmp_path / 'm.json'))
    assert code == 0, err
    metrics = json.loads((tmp_path / 'm.json').read_text())
    assert metrics['R@1,IoU=0.7'] == 0.5 and metrics['mIoU'] == 0.4


def test_grounding_time_precision_flag(tmp_path, capsys):
    """--time-precision float32: 2D-TAN's float32 times (the tie of
    tests/evaluation/test_grounding_recall.py: R@2,IoU=0.7 0 in float64, 1 in float32)."""
    d = 30.96
    gt = tmp_path / 'g.json'
    gt.write_text(json.dumps({'queries': [{'query_id': 'q', 'video': 'v', 'duration': d,
                                           'segment': [0, d / 8], 'sentence': 's'}]}))
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': {'q': [{'segment': [0, d / 16], 'score': 0.9},
                                                  {'segment': [0, d / 8], 'score': 0.8}]}}))
    got = {}
    for precision in ('float64', 'float32'):
        out_file = tmp_path / f'{precision}.json'
        code, _, err = run(capsys, 'grounding', '--gt', str(gt), '--pred', str(pred),
                           '--recalls', '2', '--ious', '0.7', '--time-precision', precision,
                           '--out', str(out_file))
        assert code == 0, err
        got[precision] = json.loads(out_file.read_text())['R@2,IoU=0.7']
    assert got == {'float64': 0.0, 'float32': 1.0}


def bad_pred(tmp_path, content):
    path = tmp_path / 'bad.json'
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def one(video_results):
    return {'results': {'a': video_results}}


@pytest.mark.parametrize('content, expected', [
    ('', 'file is empty'),
    ('{"results": {', 'not valid JSON'),
    ({'version': 'x'}, "field 'results'"),
    ({'results': {}}, 'contains no predictions'),
    (one([{'label': 'jump', 'score': 1, 'segment': [5, 'late']}]),
     "video 'a', field 'results[0].segment': must be a number"),
    (one([{'label': 'jump', 'score': float('nan'), 'segment': [0, 1]}]),
     "video 'a', field 'results[0].score': must be finite"),
    (one([{'label': 'jump', 'score': float('inf'), 'segment': [0, 1]}]), 'must be finite'),
    (one([{'label': 'jump', 'segment': [0, 1]}]), "field 'results[0].score': missing key"),
    (one([{'score': 1, 'segment': [0, 1]}]), "field 'results[0].label': missing key"),
    (one([{'label': 'jump', 'score': 1, 'segment': [0]}]), 'must be [start, end]'),
    (one([{'label': 'jump', 'score': 'high', 'segment': [0, 1]}]), 'must be a number'),
    ({'results': {'a': 'oops'}}, 'must be a list'),
    (GT, 'this is a ground-truth file'),
])
def test_bad_predictions_exit_2_with_one_line(files, capsys, content, expected):
    folder, gt, _ = files
    path = bad_pred(folder, content)
    code, out, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(path),
                         '--out', str(folder / 'never.json'))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and str(path) in lines[0]
    assert expected in lines[0]
    assert 'Traceback' not in err and not (folder / 'never.json').exists()


def test_bad_ground_truth_and_subset(files, capsys):
    folder, gt, pred = files
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       '--subset', 'testing')  # subset with no instance: undefined metric
    assert code == 2 and 'no ground-truth instances' in err and str(gt) in err
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       '--subset', 'nope')
    assert code == 2 and 'unknown subset' in err
    code, _, err = run(capsys, 'detection', '--gt', str(pred), '--pred', str(pred))
    assert code == 2 and 'error:' in err


def test_unknown_labels_warn_or_fail_with_strict(files, capsys):
    folder, gt, _ = files
    results = dict(PRED['results'])
    results['b'] = [{'label': 'fly', 'score': 1.0, 'segment': [0, 5]}]
    path = bad_pred(folder, {'results': results})
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(path))
    assert code == 0 and "ignored 1 predictions" in err and "'fly'" in err
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(path), '--strict')
    assert code == 2 and 'fly' in err


@pytest.mark.slow
def test_evaluate_process_never_imports_torch_or_mmaction(files):
    folder, gt, pred = files
    script = (
        'import sys\n'
        'from pal_eval.cli import main\n'
        f'code = main(["evaluate", "detection", "--gt", {str(gt)!r}, "--pred", {str(pred)!r},'
        f' "--plot", {str(folder / "x.png")!r}])\n'
        '# pal_eval.compat pre-seeds a file-less DRN stand-in; only real modules count\n'
        'heavy = sorted(m for m, mod in sys.modules.items() if m.split(".")[0] in ("torch",'
        ' "mmaction", "mmengine", "mmcv") and getattr(mod, "__file__", None))\n'
        'assert code == 0 and not heavy, heavy\n')
    done = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_thumos_matlab_protocol_uses_ambiguous(tmp_path, capsys):
    gt = tmp_path / 'thumos.json'
    gt.write_text(json.dumps({'database': {'video_test_1': {'subset': 'test', 'annotations': [
        {'segment': ['0', '10'], 'label': 'HighJump'},
        {'segment': ['20', '30'], 'label': 'HighJump'},
        {'segment': ['40', '50'], 'label': 'Ambiguous'}]}}}))
    pred = tmp_path / 'pred.json'
    pred.write_text(json.dumps({'results': {'video_test_1': [
        {'label': 'HighJump', 'score': 0.9, 'segment': [0, 10]},
        {'label': 'HighJump', 'score': 0.8, 'segment': [41, 45]},
        {'label': 'HighJump', 'score': 0.7, 'segment': [60, 70]},
        {'label': 'HighJump', 'score': 0.6, 'segment': [20, 30]}]}}))
    out = tmp_path / 'm.json'
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       '--protocol', 'thumos14-matlab', '--tiou-thresholds', '0.5',
                       '--out', str(out))
    assert code == 0, err
    # hand-worked in tests/evaluation/test_thumos_matlab.py: (1 + 2/3) / 2
    assert abs(json.loads(out.read_text())['average_mAP'] - 5 / 6) < 1e-15
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       '--preset', 'thumos14', '--out', str(out), '--force')
    assert code == 0, err
    metrics = json.loads(out.read_text())
    assert metrics['tiou_thresholds'] == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert metrics['mAP'][2] == 0.75  # ANet-style: TP FP FP TP


def test_grounding_charades_sta_txt(shared_annotations, tmp_path, capsys):
    """Real Charades-STA test file: exact segments for even lines, a miss for odd ones."""
    txt = shared_annotations / 'microsoft_2D-TAN' / 'charades_sta_test.txt'
    lines = [line for line in txt.read_text().splitlines() if line.strip()]
    seen, results = {}, {}
    for number, line in enumerate(lines):
        vid, start, end = line.split('##')[0].split()
        query_id = f'{vid}_{seen.get(vid, 0)}'
        seen[vid] = seen.get(vid, 0) + 1
        segment = [float(start), float(end)] if number % 2 == 0 else [1000.0, 1001.0]
        results[query_id] = [{'segment': segment, 'score': 1.0}]
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': results}))
    out = tmp_path / 'm.json'
    code, _, err = run(capsys, 'grounding', '--gt', str(txt), '--pred', str(pred),
                       '--out', str(out))
    assert code == 0, err
    metrics = json.loads(out.read_text())
    expected = (len(lines) + 1) // 2 / len(lines)
    assert metrics['R@1,IoU=0.7'] == expected and metrics['R@5,IoU=0.3'] == expected
    assert abs(metrics['mIoU'] - expected) < 1e-12


@pytest.mark.parametrize('outputs, expected', [
    (['--out', '{d}/x.json', '--plot', '{d}/x.json'], 'the same file as --out'),
    (['--out', '{d}/pred.json', '--force'], 'is also an input'),
    (['--out', '{d}/gt.json', '--force'], 'is also an input'),
    (['--out', '{d}/m.json', '--plot', '{d}/m.banana'], 'cannot draw a .banana image'),
    (['--out', '{d}/gt.json/m.json'], 'is a file, not a folder'),
])
def test_outputs_that_would_destroy_or_half_write_are_refused(files, capsys, outputs,
                                                               expected):
    folder, gt, pred = files
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, _, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                       *[a.format(d=folder) for a in outputs])
    assert code == 2 and expected in err and err.count('\n') == 1, err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written


@pytest.mark.parametrize('task', ['detection', 'proposal'])
def test_a_submission_sharing_no_video_with_the_ground_truth_is_an_error(files, capsys,
                                                                         task):
    folder, gt, _ = files
    other = folder / 'other.json'
    other.write_text(json.dumps({'results': {
        f'x{i}': [{'label': 'jump', 'score': 1, 'segment': [0, 1]}] for i in range(5)}}))
    code, _, err = run(capsys, task, '--gt', str(gt), '--pred', str(other))
    assert code == 2 and err.count('\n') == 1, err
    assert "other.json: no video id of the predictions is in the ground truth" in err
    assert "'x0', 'x1', 'x2', ..." in err and "ground truth: 'a', 'b'" in err


def test_grounding_predictions_sharing_no_query_are_an_error(tmp_path, capsys):
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'v', 'duration': 10, 'segment': [0, 5],
         'sentence': 'a person runs'}]}))
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': {'z9': [{'segment': [0, 5], 'score': 1}]}}))
    code, _, err = run(capsys, 'grounding', '--gt', str(gt), '--pred', str(pred))
    assert code == 2 and "p.json: no query id of the predictions is in the ground truth" in err


def test_reversed_predictions_are_scored_with_one_warning(files, capsys):
    folder, gt, _ = files
    pred = folder / 'rev.json'
    pred.write_text(json.dumps({'results': {'a': [
        {'label': 'jump', 'score': 0.9, 'segment': [9, 2]},
        {'label': 'jump', 'score': 0.8, 'segment': [0, 10]}]}}))
    code, out, err = run(capsys, 'detection', '--gt', str(gt), '--pred', str(pred),
                         '--tiou-thresholds', '0.5', '--out', str(folder / 'm.json'))
    assert code == 0, err
    assert err.count('warning:') == 1 and '1 of 2 predictions have end < start' in err
    # jump: FP (reversed: tIoU 0 with both ground truths) then TP -> AP 1/2 * 1/2 recall
    metrics = json.loads((folder / 'm.json').read_text())
    assert metrics['ap_per_class']['jump'] == [0.25]


@pytest.mark.parametrize('option, value, expected', [
    ('--ious', '1.5', '--ious must be in [0, 1)'),
    ('--ious', '-0.1', '--ious must be in [0, 1)'),
    ('--nms-thresh', 'nan', '--nms-thresh must be a number >= 0'),
    ('--nms-thresh', '-1', '--nms-thresh must be a number >= 0'),
    ('--recalls', '1.5', '--recalls must be positive integers'),
    ('--recalls', '0', '--recalls must be positive integers'),
])
def test_grounding_options_out_of_range_are_errors(tmp_path, capsys, option, value,
                                                   expected):
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'v', 'duration': 10, 'segment': [0, 5],
         'sentence': 'a person runs'}]}))
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': {'q1': [{'segment': [0, 5], 'score': 1}]}}))
    code, _, err = run(capsys, 'grounding', '--gt', str(gt), '--pred', str(pred),
                       f'{option}={value}')
    assert code == 2 and expected in err and err.count('\n') == 1, err


@pytest.mark.parametrize('value', ['0', 'nan', '-5'])
def test_max_avg_proposals_must_be_positive(files, capsys, value):
    _, gt, pred = files
    code, _, err = run(capsys, 'proposal', '--gt', str(gt), '--pred', str(pred),
                       f'--max-avg-proposals={value}')
    assert code == 2 and '--max-avg-proposals must be a positive number' in err


def test_matlab_protocol_without_ambiguous_segments_warns(files, capsys):
    _, gt, pred = files
    code, _, err = run(capsys, 'detection', '--protocol', 'thumos14-matlab', '--subset',
                       'validation', '--gt', str(gt), '--pred', str(pred))
    assert code == 0 and 'no Ambiguous segments' in err
