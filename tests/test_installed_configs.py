"""The configs ship with the package: a wheel holds them and ``mim train`` runs one from there."""
from __future__ import annotations

import fnmatch
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_package_data_patterns_cover_every_config():
    patterns = tomllib.loads((REPO / 'pyproject.toml').read_text())['tool']['setuptools'][
        'package-data']['pal_eval']
    link = REPO / 'pal_eval' / '.mim' / 'configs'
    assert link.is_symlink() and link.resolve() == (REPO / 'configs').resolve()
    for path in (REPO / 'configs').rglob('*'):
        if path.is_file():
            name = '.mim/configs/' + str(path.relative_to(REPO / 'configs'))
            assert any(fnmatch.fnmatch(name, p.replace('**/', '*')) for p in patterns), name


@pytest.mark.slow
def test_mim_train_runs_a_config_installed_from_the_wheel(tmp_path):
    """Outside a checkout: the wheel's copy of a published-feature config trains with
    ``mim train`` as documented, no ``model.feat_dim`` given, predictions under --work-dir."""
    from tests.data import published_layouts as layouts
    from tests.mim_utils import run_mim

    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                    '-q', '-w', str(tmp_path / 'dist'), str(REPO)], check=True,
                   capture_output=True, timeout=300)
    wheel = next((tmp_path / 'dist').glob('pal_eval-*.whl'))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / 'installed')
    shipped = {f'pal_eval/.mim/configs/{p.relative_to(REPO / "configs")}'
               for p in (REPO / 'configs').rglob('*') if p.is_file()}
    assert shipped <= names
    config = (tmp_path / 'installed' / 'pal_eval' / '.mim' / 'configs' / 'proposal' /
              'bmn_tsn-bsn_1xb16-t100-9e_activitynet.py')
    layout = layouts.bsn_csv_mean_100(tmp_path / 'data')
    options = ['model.temporal_scale=16', 'model.hidden_dim_1d=16', 'model.hidden_dim_2d=8',
               'model.hidden_dim_3d=16', 'model.num_samples=8', 'train_cfg.max_epochs=1',
               'env_cfg.dist_cfg.backend=gloo', 'default_hooks.checkpoint.save_best=None',
               f'val_evaluator.ann_file={layout.files["val"]}',
               f'test_evaluator.ann_file={layout.files["val"]}']
    for loader, split in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        options += [f'{loader}_dataloader.dataset.feature_dir={layout.features}',
                    f'{loader}_dataloader.dataset.ann_file={layout.files[split]}',
                    f'{loader}_dataloader.dataset.temporal_scale=16',
                    f'{loader}_dataloader.batch_size=2', f'{loader}_dataloader.num_workers=0',
                    f'{loader}_dataloader.persistent_workers=False']
    work = tmp_path / 'work'
    cwd = tmp_path / 'elsewhere'
    cwd.mkdir()
    train = run_mim(['train', 'mmaction2', config, '--work-dir', work, '--cfg-options',
                     *options], cwd=cwd, timeout=400)
    assert 'AUC' in train.stdout + train.stderr
    run_mim(['test', 'mmaction2', config, '--checkpoint', work / 'epoch_1.pth', '--work-dir',
             work, '--cfg-options', *options], cwd=cwd, timeout=400)
    assert (work / 'proposals.json').is_file() and not (cwd / 'work_dirs').exists()
