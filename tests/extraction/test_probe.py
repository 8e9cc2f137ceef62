"""Linear probe: labels from centre times, separable vs random features, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pal_eval.cli import main as cli_main
from pal_eval.data.features import FeatureStore, dump_meta, write_video_features
from pal_eval.errors import PalEvalError
from pal_eval.extraction.probe import ProbeData, gather, label_features, linear_probe


def test_labels_follow_centre_times():
    gt = pd.DataFrame({'video_id': ['v', 'v', 'w'], 't_start': [1.0, 1.5, 0.0],
                       't_end': [2.0, 3.0, 9.0], 'label': ['a', 'b', 'c']})
    centers = np.array([0.5, 1.0, 1.7, 2.5, 3.0, 3.5])
    foreground, labels = label_features('v', centers, gt)
    # by hand: 1.0 in a; 1.7 in a and b (a starts first); 2.5, 3.0 in b; ends inclusive
    assert labels.tolist() == ['', 'a', 'a', 'b', 'b', '']
    assert foreground.tolist() == [False, True, True, True, True, False]


def synthetic_store(root, separable: bool, videos: int = 8, seed: int = 0):
    """Features where foreground rows carry a class direction (or pure noise)."""
    rng = np.random.default_rng(seed)
    directions = {'a': rng.normal(size=8) * 3, 'b': rng.normal(size=8) * 3}
    rows = []
    for v in range(videos):
        label = 'ab'[v % 2]
        centers = np.arange(20) + 0.5
        feats = rng.normal(size=(20, 8))
        if separable:
            feats[5:12] += directions[label]
        write_video_features(root, f'v{v}', feats.astype(np.float32), centers, duration=20.0)
        rows.append((f'v{v}', 5.0, 12.0, label))
    dump_meta(root, {'feature_dim': 8})
    return pd.DataFrame(rows, columns=['video_id', 't_start', 't_end', 'label'])


def test_probe_separates_informative_features_and_not_noise(tmp_path):
    gt = synthetic_store(tmp_path / 'good', separable=True)
    good = linear_probe(gather(FeatureStore(tmp_path / 'good'), gt), folds=4)
    synthetic_store(tmp_path / 'noise', separable=False)
    noise = linear_probe(gather(FeatureStore(tmp_path / 'noise'), gt), folds=4)
    assert good['videos'] == 8 and good['features'] == 160
    assert good['foreground']['chance_ap'] == pytest.approx(7 / 20)
    assert good['foreground']['ap'] > 0.95 and good['class']['accuracy'] > 0.95
    assert noise['foreground']['ap'] < 0.6 and noise['class']['accuracy'] < 0.8


def test_probe_needs_two_videos_and_both_kinds_of_rows():
    one_video = ProbeData(np.zeros((4, 2)), np.array([True, False] * 2),
                          np.array(['a', ''] * 2, dtype=object), np.array(['v'] * 4, object))
    with pytest.raises(PalEvalError, match='>= 2 videos'):
        linear_probe(one_video)
    all_fg = ProbeData(np.zeros((4, 2)), np.ones(4, bool), np.array(['a'] * 4, object),
                       np.array(['v', 'v', 'w', 'w'], object))
    with pytest.raises(PalEvalError, match='nothing to probe'):
        linear_probe(all_fg)


def test_probe_cli(tmp_path, capsys):
    gt = synthetic_store(tmp_path / 'feats', separable=True)
    database = {v: {'subset': 'validation', 'duration': 20.0, 'annotations': [
        {'segment': [s, e], 'label': label}
        for _, s, e, label in gt[gt.video_id == v].itertuples(index=False)]}
        for v in gt.video_id}
    annotation = tmp_path / 'gt.json'
    annotation.write_text(json.dumps({'version': '1.3', 'database': database}))
    code = cli_main(['probe', str(tmp_path / 'feats'), '--annotations', str(annotation),
                     '--folds', '4', '--json', str(tmp_path / 'probe.json')])
    assert code == 0
    assert 'foreground/background' in capsys.readouterr().out
    assert json.loads((tmp_path / 'probe.json').read_text())['foreground']['ap'] > 0.95
    assert cli_main(['probe', str(tmp_path / 'missing'), '--annotations', str(annotation)]) == 2
