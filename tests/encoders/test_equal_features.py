"""Equal features per video: encoders with different clip lengths give PAL's grid exactly."""
from __future__ import annotations

import numpy as np
import pytest
from encoder_fixtures import VIDEOS, write_config

from pal_eval.cli import main as cli_main
from pal_eval.data.features import FeatureStore
from pal_eval.extraction.equal_features import AlignedSampling
from pal_eval.extraction.sampling import SamplingPolicy

#: PAL's grid on these videos, by hand: 4-frame clips every 4 frames at the native rate;
#: centre = middle of [start, min(start + 4, N)] frames. alpha: 30 frames at 10 fps.
HAND_CENTRES = {'alpha': [0.2, 0.6, 1.0, 1.4, 1.8, 2.2, 2.6, 2.9],
                'beta': [2 / 15, 6 / 15, 10 / 15, 14 / 15, 18 / 15, 20.5 / 15],
                'gamma': [0.15]}


def test_three_encoders_with_different_clip_lengths_give_identical_features(tiny_videos,
                                                                            tmp_path):
    config = write_config(tmp_path / 'equal.py', equal_features=True)
    runs = {'pal (4 frames)': ['--checkpoint', 'random'],
            'rspnet_c3d (16 frames)': ['--checkpoint', 'random', '--encoder', 'rspnet_c3d'],
            'coclr_s3d (32 frames)': ['--checkpoint', 'random', '--encoder', 'coclr_s3d']}
    stores = {}
    for name, args in runs.items():
        out = tmp_path / name.split()[0]
        assert cli_main(['extract', str(config), *args, '--videos', str(tiny_videos), '--out',
                         str(out), '--workers', '0', '--no-progress']) == 0
        stores[name] = FeatureStore(out)
    clip_lengths = {s.meta['frames_per_clip'] for s in stores.values()}
    assert clip_lengths == {4, 16, 32}
    for video_id in VIDEOS:
        for name, store in stores.items():
            loaded = store.load(video_id)
            np.testing.assert_allclose(loaded.centers, HAND_CENTRES[video_id], atol=1e-9,
                                       err_msg=f'{name} {video_id}')
            assert loaded.features.shape[0] == len(HAND_CENTRES[video_id])
    meta = stores['coclr_s3d (32 frames)'].meta
    assert meta['sampling']['equal_features'] and meta['sampling']['target']['window'] == 4
    assert meta['sampling']['span'] == 'native' and meta['stride'] == 4


@pytest.mark.parametrize('span', ['native', 'match'])
def test_encoder_clips_are_centred_on_the_target_centres(span):
    target = SamplingPolicy(frames_per_clip=4, stride=4)
    for frames_per_clip in (2, 8, 16, 32):
        aligned = AlignedSampling(target, frames_per_clip, 1, span)
        indices = aligned.frame_indices(200, 10.0)  # no clamping away from the ends
        centres = aligned.center_times(200, 10.0)
        inner = slice(8, -8)
        # mean frame position of each clip (frame k shows time (k + 0.5) / fps)
        clip_centres = (indices[inner].mean(axis=1) + 0.5) / 10.0
        assert np.abs(clip_centres - centres[inner]).max() <= 0.05 + 1e-9  # half a frame
        spread = indices[inner, -1] - indices[inner, 0]
        expected = (frames_per_clip - 1) * (1 if span == 'native' else 4 / frames_per_clip)
        assert np.abs(spread - expected).max() <= 1


def test_unknown_equal_features_key_is_a_one_line_error(tiny_videos, tmp_path, capsys):
    config = write_config(tmp_path / 'bad.py')
    config.write_text(config.read_text() + "equal_features = dict(target_frames=4)\n")
    assert cli_main(['extract', str(config), '--checkpoint', 'random', '--videos',
                     str(tiny_videos), '--out', str(tmp_path / 'f'), '--workers', '0']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'equal_features' in err and 'target_frames' in err
