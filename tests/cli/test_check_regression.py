"""``pal-eval check-regression``: exit 0 / 1 / 2 and one line per dropped metric."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pal_eval.cli import main
from pal_eval.leaderboard.regression import check_regression, load_baseline, parse_bounds

DETECTION = {'tiou_thresholds': [0.5, 0.75, 0.95], 'mAP': [0.52, 0.35, 0.08],
             'average_mAP': 0.34, 'ap_per_class': {'a': [0.5, 0.3, 0.1]}}
PROPOSALS = {'tiou_thresholds': [0.5], 'AR@1': 0.33, 'AR@100': 0.75, 'AUC': 0.67,
             'curve': {'avg_proposals': [1.0], 'average_recall': [0.33]}}


@pytest.fixture
def files(tmp_path):
    def write(name: str, content) -> str:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)
    return write


def test_passes_when_nothing_dropped(files, capsys):
    baseline = files('b.yaml', 'metrics:\n  average_mAP: {value: 0.35, tolerance: 0.02}\n'
                               '  mAP@0.5: 0.5\n  AR@100: {floor: 0.7}\n')
    code = main(['check-regression', files('d.json', DETECTION), files('p.json', PROPOSALS),
                 '--baseline', baseline])
    assert code == 0
    assert capsys.readouterr().out.startswith('ok: 3 metrics')


def test_names_each_dropped_metric(files, capsys):
    # average_mAP 0.34 < 0.36 - 0.01; mAP@0.75 0.35 < floor 0.4; AR@100 missing (no file);
    # mAP@0.5 is fine and must not be named.
    baseline = files('b.yaml', 'metrics:\n  average_mAP: {value: 0.36, tolerance: 0.01}\n'
                               '  mAP@0.75: 0.4\n  mAP@0.5: {floor: 0.5}\n  AR@100: 0.7\n')
    code = main(['check-regression', files('d.json', DETECTION), '--baseline', baseline])
    err = capsys.readouterr().err
    assert code == 1
    regressions = [line for line in err.splitlines() if line.startswith('REGRESSION')]
    assert [line.split()[1] for line in regressions] == ['average_mAP:', 'mAP@0.75:', 'AR@100:']
    assert '0.34 < 0.35' in regressions[0] and 'missing' in regressions[2]
    assert '3 of 4 metrics' in err


def test_bound_is_inclusive_despite_float_noise():
    # 0.7 - 0.05 is 0.6499999999999999 in binary floating point: 0.65 must still pass,
    # and anything below it must fail.
    bounds = parse_bounds({'AR@100': {'value': 0.7, 'tolerance': 0.05}})
    assert check_regression({'AR@100': 0.65}, bounds) == []
    assert len(check_regression({'AR@100': 0.6499}, bounds)) == 1
    # a rise never fails
    assert check_regression({'AR@100': 0.99}, bounds) == []


@pytest.mark.parametrize('text, field', [
    ('metrics:\n  AUC: {value: 0.5}\n', 'metrics.AUC'),
    ('metrics:\n  AUC: {value: 0.5, tolerance: -0.1}\n', 'metrics.AUC.tolerance'),
    ('metrics:\n  AUC: high\n', 'metrics.AUC'),
    ('metrics:\n  AUC: {floor: .nan}\n', 'metrics.AUC.floor'),
    ('thresholds: {}\n', 'metrics'),
    ('metrics: {}\n', 'metrics'),
])
def test_malformed_baseline_is_one_error_line(files, capsys, text, field):
    baseline = files('b.yaml', text)
    assert main(['check-regression', files('p.json', PROPOSALS), '--baseline', baseline]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0
    assert err.startswith(f'error: {baseline}') and f"field '{field}'" in err


def test_bad_results_and_duplicates_are_input_errors(files, capsys):
    baseline = files('b.yaml', 'metrics: {AUC: 0.5}\n')
    assert main(['check-regression', files('x.json', '{"AUC": "n/a"}'),
                 '--baseline', baseline]) == 2
    assert "field 'AUC'" in capsys.readouterr().err
    p = files('p.json', PROPOSALS)
    assert main(['check-regression', p, p, '--baseline', baseline]) == 2
    assert 'earlier results file' in capsys.readouterr().err
    assert main(['check-regression', str(p) + '.missing', '--baseline', baseline]) == 2
    assert 'file not found' in capsys.readouterr().err


def test_floors_file_loader_keeps_notes(files):
    # The format the end-to-end floors YAML uses (tests/regression, wired by the lead).
    path = files('floors.yaml', 'description: tiny e2e\nmetrics:\n'
                                '  AR@100: {floor: 0.4, note: "measured 0.55, margin 0.15"}\n')
    (bound,) = load_baseline(path)
    assert (bound.metric, bound.minimum, bound.value) == ('AR@100', 0.4, None)
    assert bound.note.startswith('measured')


@pytest.mark.slow
def test_console_script_exit_status(files):
    baseline = files('b.yaml', 'metrics: {AUC: 0.9}\n')
    done = subprocess.run([sys.executable, '-m', 'pal_eval.cli', 'check-regression',
                           files('p.json', PROPOSALS), '--baseline', baseline],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert 'REGRESSION AUC: 0.67 < 0.9' in done.stderr
    assert 'Traceback' not in done.stderr
