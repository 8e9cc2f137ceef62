"""The OpenMMLab entry points work end to end on CPU: mim train, --resume, mim test, DDP."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.compat import load_mmengine_checkpoint
from pal_eval.data.video_io import write_video
from tests.mim_utils import run_mim, run_torchrun

pytestmark = pytest.mark.slow
CONFIG = 'tests/fixtures/configs/tiny-r3d_1xb2-4x32x32-2e_toy.py'


@pytest.fixture(scope='module')
def toy_dir(tmp_path_factory):
    """A folder holding toy_videos/ (4 clips, 2 labels), as the tiny config expects."""
    root = tmp_path_factory.mktemp('toy')
    videos = root / 'toy_videos'
    videos.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for index in range(4):
        write_video(videos / f'v{index}.mp4', rng.integers(0, 255, (8, 32, 32, 3), np.uint8), 8)
        lines.append(f'v{index}.mp4 {index % 2}')
    (videos / 'list.txt').write_text('\n'.join(lines) + '\n')
    return root


def _load(path) -> dict:
    return load_mmengine_checkpoint(str(path), map_location='cpu')


def _state_keys(path) -> set[str]:
    return set(_load(path)['state_dict'])


def test_mim_train_resume_and_test(toy_dir, repo_root):
    config = repo_root / CONFIG
    work = toy_dir / 'single'
    run_mim(['train', 'mmaction2', config, '--work-dir', work,
             '--cfg-options', 'train_cfg.max_epochs=1'], cwd=toy_dir)
    assert (work / 'epoch_1.pth').exists() and not (work / 'epoch_2.pth').exists()

    resumed = run_mim(['train', 'mmaction2', config, '--work-dir', work, '--resume'], cwd=toy_dir)
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr
    assert (work / 'epoch_2.pth').exists()
    meta = _load(work / 'epoch_2.pth')['meta']
    assert meta['epoch'] == 2 and meta['iter'] == 4  # continued, not restarted

    tested = run_mim(['test', 'mmaction2', config, '--checkpoint', work / 'epoch_2.pth',
                      '--work-dir', toy_dir / 'test'], cwd=toy_dir)
    assert 'acc/top1' in tested.stdout + tested.stderr


def test_two_process_cpu_ddp(toy_dir, repo_root):
    config = repo_root / CONFIG
    run_torchrun([config, '--work-dir', toy_dir / 'ddp'], cwd=toy_dir, nproc=2)
    ddp_checkpoint = toy_dir / 'ddp' / 'epoch_2.pth'
    assert ddp_checkpoint.exists()
    run_mim(['train', 'mmaction2', config, '--work-dir', toy_dir / 'ref'], cwd=toy_dir)
    assert _state_keys(ddp_checkpoint) == _state_keys(toy_dir / 'ref' / 'epoch_2.pth')
