"""End to end: `mim train` 1 epoch + `--resume`, and 2-process CPU DDP with the queue gathered."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests'))
CPU_CONFIG = REPO / 'configs' / 'pretrain' / 'pal_r2plus1d-18-w8_1xb8-6x2x32-5e_synth.py'
NUM_VIDEOS = 5  # tiny_videos fixture


def _tiny_config(tmp_path: Path, data_root: Path, batch_size: int = 2) -> Path:
    cfg = tmp_path / 'pal_tiny.py'
    cfg.write_text(f"""_base_ = [{str(CPU_CONFIG)!r}]
model = dict(backbone=dict(base_channels=4), clips_per_video=4, queue_size=32, embed_dim=8)
train_dataloader = dict(batch_size={batch_size}, num_workers=0, dataset=dict(
    data_root={str(data_root)!r}, ann_file='list.txt', data_prefix=dict(video=''),
    clips_per_video=4, frames_per_clip=2, input_size=16, decode_size=(32, 32)))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
""")
    return cfg


def _queue_filled(checkpoint: Path) -> int:
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    return int(state['queue.num_filled'])


@pytest.mark.slow
def test_mim_train_one_epoch_then_resume_and_export(tiny_videos, tmp_path):
    from mim_utils import run_mim

    import pal_eval  # noqa: F401
    from pal_eval.pretrain.export import export_backbone, load_backbone

    cfg, work = _tiny_config(tmp_path, tiny_videos), tmp_path / 'work'
    run_mim(['train', 'mmaction2', cfg, '--work-dir', work], cwd=tmp_path)
    assert _queue_filled(work / 'epoch_1.pth') == NUM_VIDEOS
    run_mim(['train', 'mmaction2', cfg, '--work-dir', work, '--resume',
             '--cfg-options', 'train_cfg.max_epochs=2'], cwd=tmp_path)
    # Resumed: the second epoch continued the first one's queue instead of a fresh one.
    assert _queue_filled(work / 'epoch_2.pth') == 2 * NUM_VIDEOS
    meta = export_backbone(work / 'epoch_2.pth', tmp_path / 'backbone.pth')
    assert meta['pretext'] == 'pal' and meta['clips_per_video'] == 4
    assert meta['input_size'] == 16 and meta['frames_per_clip'] == 2
    model, _ = load_backbone(tmp_path / 'backbone.pth')
    assert model(torch.zeros(1, 3, 2, 16, 16)).shape[1] == meta['feature_dim']


@pytest.mark.slow
def test_two_process_cpu_ddp_gathers_queue_keys(tiny_videos, tmp_path):
    from mim_utils import run_torchrun

    cfg, work = _tiny_config(tmp_path, tiny_videos), tmp_path / 'work'
    run_torchrun([cfg, '--work-dir', work], cwd=tmp_path, nproc=2, port=29657)
    # DistributedSampler pads 5 videos to 6: 3 samples per rank. Gathered across ranks,
    # the queue got all 6 keys; a per-rank queue would only hold its own 3.
    assert _queue_filled(work / 'epoch_1.pth') == 6
