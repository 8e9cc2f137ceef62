"""A user's mistake under ``mim train`` / ``mim test`` is one ``error:`` line, not a
traceback through MMEngine's Runner (issue 11, items 7 and 11)."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from pal_eval.errors import InputError
from tests.mim_utils import BIN, _env

CONFIG = 'configs/proposal/bmn_feat_1xb4-t64-20e_synthetic.py'


def _mim_train(repo_root, tmp_path, *options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / 'mim'), 'train', 'mmaction2', str(repo_root / CONFIG), '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *options],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)


def _assert_one_error_line(proc, expected: str) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith('error: ')]
    assert errors == [expected], output[-3000:]
    # The training process printed no traceback: the one left is mim's own report that
    # its subprocess failed (mim never imports pal-eval).
    assert 'pal_eval.errors.InputError' not in output
    assert output.count('Traceback (most recent call last)') == 1
    assert 'CalledProcessError' in output


@pytest.mark.slow
def test_mim_train_with_a_missing_ann_file_prints_one_error_line(repo_root, tmp_path):
    features = tmp_path / 'features'
    features.mkdir()
    (features / 'meta.json').write_text('{"feature_dim": 8}')
    proc = _mim_train(repo_root, tmp_path,
                      f'train_dataloader.dataset.ann_file={tmp_path}/nope.json',
                      *(f'{split}_dataloader.dataset.feature_dir={features}'
                        for split in ('train', 'val', 'test')))
    _assert_one_error_line(proc, f'error: {tmp_path}/nope.json: file not found')


@pytest.mark.slow
def test_mim_train_before_extraction_prints_one_error_line(repo_root, tmp_path):
    # The config's feature folder (data/synthetic/features/pal) does not exist here: the
    # runner reads feat_dim from it before anything else.
    proc = _mim_train(repo_root, tmp_path, 'train_cfg.max_epochs=1')
    _assert_one_error_line(proc, 'error: data/synthetic/features/pal: feature folder not found')


def _hook_output(monkeypatch, capsys, exception: BaseException, argv0: str) -> str:
    from pal_eval import registration

    monkeypatch.setattr(sys, 'argv', [argv0])
    monkeypatch.delenv(registration.TRACEBACK_ENV, raising=False)
    seen = []
    monkeypatch.setattr(sys, 'excepthook', lambda *args: seen.append(args[0]))
    installed = registration.install_error_hook()
    sys.excepthook(type(exception), exception, None)
    return installed, seen, capsys.readouterr().err


def test_the_hook_prints_user_errors_only(monkeypatch, capsys):
    tool = '/venv/lib/site-packages/mmaction/.mim/tools/train.py'
    installed, seen, err = _hook_output(monkeypatch, capsys, InputError('a.json', 'bad'), tool)
    assert installed and seen == [] and err == 'error: a.json: bad\n'
    installed, seen, err = _hook_output(monkeypatch, capsys, ValueError('bug'), tool)
    assert installed and seen == [ValueError] and err == ''   # a bug keeps its traceback


def test_the_hook_is_only_installed_under_the_tools(monkeypatch, capsys):
    installed, seen, _ = _hook_output(monkeypatch, capsys, InputError('a', 'b'), 'my_script.py')
    assert not installed and seen == [InputError]


def test_a_text_file_as_mmengine_checkpoint_is_an_input_error(tmp_path):
    from pal_eval.compat import load_mmengine_checkpoint

    path = tmp_path / 'epoch_1.pth'
    path.write_text('not a checkpoint\n')
    with pytest.raises(InputError, match='not a torch checkpoint') as caught:
        load_mmengine_checkpoint(str(path))
    assert isinstance(caught.value, pickle.UnpicklingError)  # what MMEngine callers expect
