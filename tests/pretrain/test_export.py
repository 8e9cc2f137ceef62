"""Export round trip, PALBackbone's Pretrained init, random init, and unsafe files refused."""
from __future__ import annotations

import os

import pytest
import torch

META = dict(data='data/synth/unlabeled/list.txt', clips_per_video=4, frames_per_clip=2,
            frame_interval=1, input_size=16)


def _pal_checkpoint(path, arch='r2plus1d_18'):
    """An MMEngine-style checkpoint of a PAL run whose query and key encoders differ."""
    from mmengine.config import Config

    from pal_eval.pretrain.pal import PAL

    model_cfg = dict(type='PAL', backbone=dict(type='PALBackbone', arch=arch, base_channels=4),
                     clips_per_video=4, queue_size=8, embed_dim=8,
                     data_preprocessor=dict(type='ActionDataPreprocessor', mean=[1., 2., 3.],
                                            std=[4., 5., 6.], format_shape='NCTHW'))
    torch.manual_seed(0)
    model = PAL(**{k: v for k, v in model_cfg.items() if k != 'type'})
    model.init_weights()
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(0.1 * torch.randn_like(param))
    cfg_text = Config(dict(model=model_cfg)).pretty_text
    torch.save({'meta': {'cfg': cfg_text, 'dataset_meta': dict(META)},
                'state_dict': model.state_dict()}, path)
    return model


def _features(module, x):
    module.eval()
    with torch.no_grad():
        return module(x)


def test_export_round_trip_gives_identical_features(tmp_path):
    from pal_eval.pretrain.backbone import PALBackbone
    from pal_eval.pretrain.export import export_backbone, load_backbone, sha256_of

    model = _pal_checkpoint(tmp_path / 'epoch_1.pth')
    meta = export_backbone(tmp_path / 'epoch_1.pth', tmp_path / 'backbone.pth')
    assert meta['pretext'] == 'pal' and meta['feature_dim'] == 32
    assert meta['mean'] == [1., 2., 3.] and meta['std'] == [4., 5., 6.]
    assert meta['source_sha256'] == sha256_of(tmp_path / 'epoch_1.pth')
    for key, value in META.items():
        assert meta[key] == value
    # The file loads with weights_only=True on its own.
    payload = torch.load(tmp_path / 'backbone.pth', weights_only=True)
    assert payload['meta'] == meta

    x = torch.randn(2, 3, 2, 16, 16)
    expected = _features(model.backbone, x)
    assert not torch.allclose(expected, _features(model.key_backbone, x))  # the query's
    loaded, loaded_meta = load_backbone(tmp_path / 'backbone.pth')
    assert loaded_meta == meta and not loaded.training
    assert torch.equal(_features(loaded, x), expected)
    for source in ('backbone.pth', 'epoch_1.pth'):   # Pretrained init from either file
        backbone = PALBackbone(base_channels=4, init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / source)))
        backbone.init_weights()
        assert torch.equal(_features(backbone, x), expected)
    raw, raw_meta = load_backbone(tmp_path / 'epoch_1.pth')
    assert raw_meta == meta and torch.equal(_features(raw, x), expected)


def test_export_refuses_to_overwrite(tmp_path):
    from pal_eval.errors import PalEvalError
    from pal_eval.pretrain.export import export_backbone

    _pal_checkpoint(tmp_path / 'epoch_1.pth')
    (tmp_path / 'backbone.pth').write_bytes(b'mine')
    with pytest.raises(PalEvalError, match='exists'):
        export_backbone(tmp_path / 'epoch_1.pth', tmp_path / 'backbone.pth')
    assert (tmp_path / 'backbone.pth').read_bytes() == b'mine'


def test_wrong_arch_is_a_one_line_error(tmp_path):
    from pal_eval.errors import InputError
    from pal_eval.pretrain.backbone import PALBackbone

    _pal_checkpoint(tmp_path / 'r3d.pth', arch='r3d_18')
    backbone = PALBackbone(base_channels=4, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'r3d.pth')))
    with pytest.raises(InputError, match='r3d.pth') as info:
        backbone.init_weights()
    assert '\n' not in str(info.value)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_malicious_pickle_is_refused_and_never_run(tmp_path):
    from pal_eval.errors import PalEvalError
    from pal_eval.pretrain.backbone import PALBackbone
    from pal_eval.pretrain.export import load_backbone

    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'encoder.x': torch.zeros(1)}, 'payload': _Evil(marker)}, evil)
    with pytest.raises(PalEvalError, match='refused to load.*system'):
        load_backbone(evil)
    backbone = PALBackbone(base_channels=4, init_cfg=dict(type='Pretrained',
                                                          checkpoint=str(evil)))
    with pytest.raises(PalEvalError, match='refused'):
        backbone.init_weights()
    assert not marker.exists()


def test_random_init_is_seeded():
    from pal_eval.pretrain.export import load_backbone

    x = torch.randn(1, 3, 2, 16, 16)
    a, meta = load_backbone('random', seed=3, base_channels=4, frames_per_clip=2)
    b, _ = load_backbone(None, seed=3, base_channels=4)
    c, _ = load_backbone('random', seed=4, base_channels=4)
    assert meta['pretext'] == 'random' and meta['frames_per_clip'] == 2
    assert meta['backbone_cfg'] == dict(type='PALBackbone', arch='r2plus1d_18', base_channels=4)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_flops_count_matches_hand_formula():
    from pal_eval.pretrain.flops import clip_macs, video_table

    conv = torch.nn.Conv3d(3, 5, kernel_size=(1, 3, 3), padding=(0, 1, 1), bias=False)
    # one multiply-add per output element per kernel tap per input channel
    assert clip_macs(conv, 2, 8) == 5 * 2 * 8 * 8 * 3 * 3 * 3
    rows = video_table(1_000_000_000, [4, 8])
    assert [r['gmacs_per_video'] for r in rows] == [4.0, 8.0]
    assert rows[1]['gflops_per_video'] == 16.0 and rows[1]['paper_gflops'] == 28.6


def test_cli_reports_an_unsafe_file_in_one_line(tmp_path, capsys):
    from pal_eval.cli import main

    evil = tmp_path / 'evil.pth'
    torch.save({'payload': _Evil(tmp_path / 'pwned')}, evil)
    assert main(['export-backbone', str(evil), '--out', str(tmp_path / 'b.pth')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith('error: ') and 'refused' in err[-1]
    assert not (tmp_path / 'b.pth').exists() and not (tmp_path / 'pwned').exists()
