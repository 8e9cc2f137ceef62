"""``pal-eval features import``: a release as our folder, same numbers as read in place."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.cli import main
from pal_eval.data.feature_sources import open_feature_store
from pal_eval.data.features import FeatureStore
from tests.data import published_layouts as layouts

FEATURES = layouts.REPO / 'configs' / '_base_' / 'features'


def test_import_tsp_with_annotations(tmp_path, capsys):
    layout = layouts.tsp_h5(tmp_path / 'data')
    out = tmp_path / 'ours'
    entry = FEATURES / 'tsp_activitynet_h5.py'
    assert main(['features', 'import', str(entry), '--root', str(layout.features),
                 '--out', str(out), '--ann', str(layout.files['gt'])]) == 0
    assert 'wrote 3 videos (512-d)' in capsys.readouterr().out
    ours = FeatureStore(out)
    assert ours.video_ids == ['aaa', 'bbb', 'ccc'] and ours.feature_dim == 512
    from mmengine.config import Config

    release = open_feature_store(layout.features, dict(Config.fromfile(entry).feature_source))
    for video_id in ours.video_ids:
        mine, theirs = ours.load(video_id), release.load(video_id, duration=None)
        np.testing.assert_array_equal(mine.features, theirs.features)
        np.testing.assert_allclose(mine.centers, layout.expected_centers[video_id])
        assert mine.duration == layout.timing[video_id]['duration']
    # a second import into the same folder is refused without --force
    assert main(['features', 'import', str(entry), '--root', str(layout.features),
                 '--out', str(out)]) == 2
    assert 'not empty' in capsys.readouterr().err


def test_import_of_a_uniform_release_without_durations_is_one_error(tmp_path, capsys):
    layout = layouts.tan2d_charades_vgg(tmp_path / 'data')
    args = ['features', 'import', str(FEATURES / 'vgg-tan2d_charades-sta_hdf5.py'),
            '--root', str(layout.features), '--out', str(tmp_path / 'ours')]
    assert main(args) == 2
    assert 'no duration' in capsys.readouterr().err
    assert not (tmp_path / 'ours').exists()   # nothing half-written
    durations = layout.root / 'annotations' / 'Charades_v1_train.csv'
    assert main([*args, '--ann', str(layout.files['train']), '--durations',
                 str(durations)]) == 0
    ours = FeatureStore(tmp_path / 'ours')
    np.testing.assert_allclose(ours.load('AO8RW').centers, layout.expected_centers['AO8RW'])


@pytest.mark.parametrize('text, needle', [
    ("x = 1\n", 'no feature_source'),
    ("feature_source = dict(format='npy', streams=['{video_id}.npy'], strid=1)\n",
     "unknown key 'strid'"),
])
def test_bad_source_configs(tmp_path, capsys, text, needle):
    config = tmp_path / 'f.py'
    config.write_text(text)
    assert main(['features', 'import', str(config), '--root', str(tmp_path), '--out',
                 str(tmp_path / 'o')]) == 2
    assert needle in capsys.readouterr().err
