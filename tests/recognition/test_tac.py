"""TAC: a Recognizer3D with our R(2+1)D-18 learns the synthetic motion classes; extract takes it.

Until the generator writes ``unlabeled/labels.txt`` (engineer ``pretrain``'s branch), the
label files here are written by :func:`tac_fixtures.write_labeled_clips` in its format.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests'))
sys.path.insert(0, str(Path(__file__).parent))

from mim_utils import run_mim  # noqa: E402
from tac_fixtures import write_labeled_clips  # noqa: E402

CONFIG = REPO / 'configs' / 'recognition' / 'tac_r2plus1d-18-w16_1xb8-8x1x1-12e_synthetic.py'


@pytest.mark.slow
def test_tac_learns_above_chance_and_extract_accepts_its_checkpoint(tmp_path):
    from pal_eval.cli import main as cli_main
    from pal_eval.data.features import FeatureStore

    root = write_labeled_clips(tmp_path / 'synth', {'labels': 160, 'val': 40})
    cfg = tmp_path / 'tac.py'
    cfg.write_text(f"""_base_ = [{str(CONFIG)!r}]
train_dataloader = dict(num_workers=0, dataset=dict(data_root={str(root)!r}))
val_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler',
    shuffle=False), dataset=dict(type='VideoDataset', data_root={str(root)!r},
    ann_file='unlabeled/val.txt', data_prefix=dict(video='unlabeled'),
    pipeline={{{{_base_.test_pipeline}}}}, test_mode=True))
val_evaluator = dict(type='AccMetric')
val_cfg = dict(_delete_=True, type='ValLoop')
""")
    work = tmp_path / 'work'
    run_mim(['train', 'mmaction2', cfg, '--work-dir', work], cwd=REPO, timeout=900)
    log = next(work.glob('*/*.log')).read_text()
    accuracies = [float(v) for v in re.findall(r'Epoch\(val\) \[\d+\].*?acc/top1: ([\d.]+)', log)]
    assert len(accuracies) == 12
    # 10 balanced classes: chance is 0.10; 8 of 40 held-out clips right by chance has p ~ 0.04
    assert accuracies[-1] >= 0.2, accuracies

    checkpoint = (work / 'last_checkpoint').read_text().strip()
    extract_cfg = tmp_path / 'extract.py'
    extract_cfg.write_text("sampling = dict(policy='sliding', stride=4, fps=None)\n"
                           'encoder = dict(frames_per_clip=None, frame_interval=None, '
                           'input_size=None)\ndata = dict(batch_size=4, num_workers=0)\n')
    out = tmp_path / 'features'
    assert cli_main(['extract', str(extract_cfg), '--checkpoint', checkpoint, '--videos',
                     str(root / 'unlabeled'), '--out', str(out), '--workers', '0',
                     '--no-progress']) == 0
    store = FeatureStore(out)
    assert store.meta['pretext'] == 'tac' and store.meta['feature_dim'] == 128
    assert store.meta['frames_per_clip'] == 8 and store.meta['input_size'] == [48, 64]
