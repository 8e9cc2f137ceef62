"""End to end: `mim train` + `--resume` (the queue restored), 2-process CPU DDP with the
queue gathered, and a short run on the tiny synthetic preset that learns its pretext."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests'))
CPU_CONFIG = next((REPO / 'configs' / 'pretrain').glob('pal_*_synthetic.py'))
NUM_VIDEOS = 5  # tiny_videos fixture


def _tiny_config(tmp_path: Path, data_root: Path, batch_size: int = 2) -> Path:
    cfg = tmp_path / 'pal_tiny.py'
    cfg.write_text(f"""_base_ = [{str(CPU_CONFIG)!r}]
model = dict(backbone=dict(base_channels=4), clips_per_video=4, queue_size=4, embed_dim=8)
train_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={str(data_root)!r}, ann_file='list.txt', data_prefix=dict(video=''),
    clips_per_video=4, frames_per_clip=2, frame_interval=1, input_size=16,
    decode_size=(32, 32)))
train_cfg = dict(max_epochs=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1))
""")
    return cfg


def _queue_state(state: dict) -> dict:
    return {k: state[f'queue.{k}'] for k in ('keys', 'ids', 'ptr', 'num_filled')}


@pytest.mark.slow
def test_mim_train_then_resume_restores_the_queue_and_exports(tiny_videos, tmp_path):
    from mim_utils import run_mim
    from mmengine.config import Config
    from mmengine.runner import Runner

    import pal_eval  # noqa: F401
    from pal_eval.pretrain.export import export_backbone, load_backbone

    cfg, work = _tiny_config(tmp_path, tiny_videos), tmp_path / 'work'
    run_mim(['train', 'mmaction2', cfg, '--work-dir', work], cwd=tmp_path)
    saved = _queue_state(torch.load(work / 'epoch_1.pth', map_location='cpu',
                                    weights_only=False)['state_dict'])
    assert int(saved['num_filled']) == 4 and set(saved['ids'].tolist()) <= set(range(5))
    # What `--resume` does, in process: the resumed model holds the saved queue.
    config = Config.fromfile(str(cfg))
    config.work_dir, config.resume, config.load_from = str(work), True, str(work / 'epoch_1.pth')
    runner = Runner.from_cfg(config)
    runner.load_or_resume()
    resumed = _queue_state(runner.model.state_dict())
    for key, value in saved.items():
        assert torch.equal(resumed[key], value), key
    run_mim(['train', 'mmaction2', cfg, '--work-dir', work, '--resume',
             '--cfg-options', 'train_cfg.max_epochs=2'], cwd=tmp_path)
    meta = export_backbone(work / 'epoch_2.pth', tmp_path / 'backbone.pth')
    assert meta['pretext'] == 'pal' and meta['clips_per_video'] == 4
    assert meta['input_size'] == 16 and meta['frames_per_clip'] == 2
    model, _ = load_backbone(tmp_path / 'backbone.pth')
    assert model(torch.zeros(1, 3, 2, 16, 16)).shape[1] == meta['feature_dim']


@pytest.mark.slow
def test_queue_larger_than_the_unlabeled_set_is_refused(tiny_videos, tmp_path):
    from mim_utils import BIN

    cfg = _tiny_config(tmp_path, tiny_videos)
    result = subprocess.run(
        [str(BIN / 'mim'), 'train', 'mmaction2', str(cfg), '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', 'model.queue_size=6'],
        cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'model.queue_size = 6 exceeds the 5 unlabeled videos' in result.stderr + result.stdout


@pytest.mark.slow
def test_two_process_cpu_ddp_gathers_queue_keys(tiny_videos, tmp_path):
    from mim_utils import run_torchrun

    cfg, work = _tiny_config(tmp_path, tiny_videos), tmp_path / 'work'
    run_torchrun([cfg, '--work-dir', work], cwd=tmp_path, nproc=2, port=29657)
    # DistributedSampler pads 5 videos to 6: 3 samples per rank, 2 keys each (symmetric):
    # 12 keys gathered per epoch, more than the 4 slots, so the queue is full and holds
    # keys of both ranks' videos; a per-rank queue would only know its own 3 videos.
    state = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    ids = set(state['state_dict']['queue.ids'].tolist())
    assert int(state['state_dict']['queue.num_filled']) == 4 and len(ids) >= 2


@pytest.mark.slow
def test_short_tiny_preset_run_learns_its_pretext(tmp_path):
    """The CPU PAL config on the tiny synthetic preset, 60 iterations (~30 s CPU):
    region retrieval ends well above chance and the positive wins well above its chance."""
    from mim_utils import run_mim

    from pal_eval.data.synthetic import generate

    data = tmp_path / 'synth'
    generate('tiny', 0, data, progress=False)
    work = tmp_path / 'work'
    run_mim(['train', 'mmaction2', CPU_CONFIG, '--work-dir', work, '--cfg-options',
             f'train_dataloader.dataset.data_root={data}', 'train_cfg.max_epochs=30',
             'model.queue_size=16', 'custom_hooks.2.interval=20'], cwd=tmp_path)
    lines = [json.loads(line) for line in
             next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    retrieval = [line for line in lines if 'retrieval' in line]
    chance = retrieval[-1]['retrieval_chance']
    assert chance == pytest.approx(1 / 16)
    assert retrieval[-1]['retrieval'] >= 4 * chance, retrieval
    logged = [line for line in lines if 'pos_acc' in line]
    late = logged[-10:]
    accuracy = sum(line['pos_acc'] for line in late) / len(late)
    assert accuracy >= 3 * late[-1]['pos_acc_chance'], late
