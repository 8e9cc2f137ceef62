"""The pretraining configs: MoCo-v2 twins match PAL, queues fit the unlabeled sets, the
synthetic extraction matches the pretraining clips, and the full-scale config syncs BN."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from mmengine.config import Config

from pal_eval.data.synthetic import PRESETS
from pal_eval.extraction.sampling import SamplingPolicy

REPO = Path(__file__).resolve().parents[2]
PRETRAIN = REPO / 'configs' / 'pretrain'
SHARED_MODEL_KEYS = ('backbone', 'clips_per_video', 'embed_dim', 'queue_size', 'momentum',
                     'temperature', 'symmetric', 'in_batch_negatives', 'bn_groups',
                     'shuffle_bn', 'data_preprocessor')


def _load(pattern: str) -> Config:
    (path,) = PRETRAIN.glob(pattern)
    return Config.fromfile(str(path))


@pytest.mark.parametrize('dataset', ['synthetic', 'k400'])
def test_mocov2_twin_matches_pal_except_the_pretext(dataset):
    pal, moco = _load(f'pal_*_{dataset}.py'), _load(f'mocov2_*_{dataset}.py')
    assert pal.model.type == 'PAL' and moco.model.type == 'MoCoV2'
    for key in SHARED_MODEL_KEYS:
        assert pal.model[key] == moco.model[key], key
    pal_data = copy.deepcopy(pal.train_dataloader.to_dict())
    moco_data = copy.deepcopy(moco.train_dataloader.to_dict())
    assert pal_data.pop('dataset').pop('mode') == 'pal'
    assert moco_data.pop('dataset').pop('mode') == 'two_views'
    assert pal_data == moco_data
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'custom_hooks'):
        assert pal[key] == moco[key], key


def test_synthetic_queue_fits_the_demo_unlabeled_set():
    for name in ('pal_*_synthetic.py', 'mocov2_*_synthetic.py'):
        cfg = _load(name)
        assert cfg.model.queue_size <= PRESETS['small'].num_clips
        assert cfg.train_dataloader.persistent_workers
        assert any(h['type'] == 'EpochSeedHook' for h in cfg.custom_hooks)
        assert any(h['type'] == 'PretextMonitorHook' for h in cfg.custom_hooks)


def test_synthetic_extraction_matches_the_pretraining_clips():
    (path,) = (REPO / 'configs' / 'extraction').glob('extract_*_synthetic.py')
    extraction = Config.fromfile(str(path))
    data = _load('pal_*_synthetic.py').train_dataloader.dataset
    model = _load('pal_*_synthetic.py').model
    random_init = extraction.random_init
    assert random_init.frames_per_clip == data.frames_per_clip
    assert random_init.frame_interval == data.frame_interval
    assert random_init.input_size == data.input_size
    assert random_init.base_channels == model.backbone.base_channels
    policy = SamplingPolicy(frames_per_clip=data.frames_per_clip,
                            frame_interval=data.frame_interval,
                            stride=extraction.sampling.stride)
    assert not policy.skips_frames                    # stride <= clip window
    # a clip spans ~1 s of the benchmark's 8-10 fps videos, >= 4 frames
    assert data.frames_per_clip >= 4
    assert 0.6 <= policy.window / max(PRESETS['small'].fps_choices) <= 1.2


def test_full_scale_config_syncs_batchnorm_and_keeps_workers():
    cfg = _load('pal_*_k400.py')
    assert cfg.sync_bn == 'torch'
    assert cfg.train_dataloader.persistent_workers
    assert cfg.param_scheduler[0].type == 'LinearLR'      # warmup
