"""Released encoders: official layouts convert and load exactly; features through the CLI."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from encoder_fixtures import VIDEOS, released_state_dict, write_config
from official_layouts import read_fixture

from pal_eval.cli import main as cli_main
from pal_eval.data.features import FeatureStore
from pal_eval.encoders.convert import convert_state_dict
from pal_eval.encoders.external import load_external, target_layout
from pal_eval.encoders.registry import ENCODERS
from pal_eval.errors import InputError

#: How each official training script saves its file (the outer container).
CONTAINERS = {'coclr_s3d': lambda sd: {'epoch': 182, 'state_dict': sd},
              'xdc_r2plus1d_18': lambda sd: sd,
              'videomoco_r2plus1d_18': lambda sd: {'epoch': 200, 'arch': 'r2plus1d_18',
                                                   'state_dict': sd},
              'rspnet_s3dg': lambda sd: {'epoch': 200, 'model': sd},
              'rspnet_r2plus1d': lambda sd: {'epoch': 200, 'model': sd},
              'rspnet_c3d': lambda sd: {'state_dict': sd}}
#: The query encoder's prefix in each official layout (independent of the registry).
OFFICIAL_PREFIX = {'coclr_s3d': 'encoder_q.0.', 'xdc_r2plus1d_18': '',
                   'videomoco_r2plus1d_18': 'module.encoder_q.',
                   'rspnet_s3dg': 'module.encoder_q.encoder.',
                   'rspnet_r2plus1d': 'module.encoder_q.encoder.',
                   'rspnet_c3d': 'module.encoder_q.encoder.'}


def save_released(name, folder, file_name=None):
    state = released_state_dict(name)
    path = folder / (file_name or ENCODERS[name].weights_file)
    torch.save(CONTAINERS[name](state), path)
    return path, state


@pytest.mark.parametrize('name', list(ENCODERS))
def test_official_layout_converts_with_no_missing_or_unexpected_key(name):
    state = released_state_dict(name)
    target = target_layout(ENCODERS[name])
    weights = convert_state_dict(state, target, f'{name}.pth', preferred=ENCODERS[name].prefixes)
    assert set(weights) == set(target)  # exact: nothing missing, nothing left over
    prefix = OFFICIAL_PREFIX[name]
    for key, value in weights.items():
        assert value is state[prefix + key]  # values are the released ones, not copies of zeros
    dropped = {k for k in state if not k.startswith(prefix)} | \
        {prefix + k for k in target}
    leftovers = set(state) - dropped
    # what the converter threw away under the encoder's prefix: heads and CoCLR duplicates
    assert all(k[len(prefix):].split('.')[0] in ('fc', 'linear', 'block1', 'block2', 'block3',
                                                 'block4', 'block5', '2', '4')
               for k in leftovers), sorted(leftovers)[:5]


def test_torchvision_r2plus1d_18_parameter_count_matches_the_official_model():
    # torchvision's r2plus1d_18 (400-way fc) has 31,505,325 parameters: the fixture
    # (derived from resnet.py) and our module must agree with that count.
    fixture = [shape for key, shape in read_fixture('xdc_r2plus1d_18')
               if not key.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
    assert sum(math.prod(s) for s in fixture) == 31_505_325
    ours = target_layout(ENCODERS['xdc_r2plus1d_18'])
    params = sum(v.numel() for k, v in ours.items()
                 if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    assert params == 31_505_325 - (400 * 512 + 400)


def _expected_clips(num_frames: int, window: int, stride: int = 4) -> int:
    # by hand: clips start every `stride` frames until one reaches the last frame
    count, start = 1, 0
    while start + window < num_frames:
        start += stride
        count += 1
    return count


@pytest.mark.parametrize('name', list(ENCODERS))
def test_released_file_extracts_features_of_the_documented_shape(name, tiny_videos, tmp_path):
    path, state = save_released(name, tmp_path)
    config = write_config(tmp_path / 'extract.py')
    out = tmp_path / 'features'
    assert cli_main(['extract', str(config), '--checkpoint', str(path), '--videos',
                     str(tiny_videos), '--out', str(out), '--workers', '0',
                     '--no-progress']) == 0
    spec = ENCODERS[name]
    store = FeatureStore(out)
    assert store.meta['encoder'] == name and store.meta['pretext'] == spec.method
    assert store.meta['feature_dim'] == spec.feature_dim
    for video_id, (frames, _) in VIDEOS.items():
        loaded = store.load(video_id)
        assert loaded.features.shape == (_expected_clips(frames, spec.frames_per_clip),
                                         spec.feature_dim)
        assert np.isfinite(loaded.features).all() and loaded.features.std() > 0


def test_released_weights_land_in_the_model(tmp_path):
    path, state = save_released('coclr_s3d', tmp_path)
    model, meta = load_external(path)
    ours = model.backbone.state_dict()
    torch.testing.assert_close(ours['Mixed_5c.branch1.1.conv2.weight'],
                               state['encoder_q.0.Mixed_5c.branch1.1.conv2.weight'])
    assert meta['crop'] == 128 and meta['frames_per_clip'] == 32


def test_mismatched_file_is_one_line_listing_missing_and_unexpected_keys(tiny_videos,
                                                                         tmp_path, capsys):
    state = released_state_dict('xdc_r2plus1d_18')
    del state['layer3.1.conv2.1.weight']
    state['layer3.1.extra.weight'] = torch.zeros(3)
    path = tmp_path / ENCODERS['xdc_r2plus1d_18'].weights_file
    torch.save(state, path)
    config = write_config(tmp_path / 'extract.py')
    code = cli_main(['extract', str(config), '--checkpoint', str(path), '--videos',
                     str(tiny_videos), '--out', str(tmp_path / 'f'), '--workers', '0'])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert 'missing' in err and 'layer3.1.conv2.1.weight' in err
    assert 'unexpected' in err and 'layer3.1.extra.weight' in err
    assert not (tmp_path / 'f').exists()


def test_shared_architecture_needs_the_file_name_or_encoder(tmp_path):
    path, _ = save_released('xdc_r2plus1d_18', tmp_path, file_name='weights.pth')
    with pytest.raises(InputError, match='fits several encoders'):
        load_external(path)
    _, meta = load_external(path, name='xdc_r2plus1d_18')
    assert meta['pretext'] == 'xdc'
    # VideoMoCo's MoCo wrapper tells it apart even under another name
    path, _ = save_released('videomoco_r2plus1d_18', tmp_path, file_name='other.pth.tar')
    assert load_external(path)[1]['pretext'] == 'videomoco'


def test_unknown_file_is_one_clear_error(tmp_path):
    path = tmp_path / 'w.pth'
    torch.save({'conv.weight': torch.zeros(2, 3)}, path)
    with pytest.raises(InputError, match='matches no registered encoder'):
        load_external(path)
