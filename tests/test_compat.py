"""Each fix in pal_eval.compat has a test here that fails without the fix."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from pal_eval import compat


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_numpy_aliases_restored_for_mmaction(monkeypatch):
    monkeypatch.delattr(np, 'trapz', raising=False)
    monkeypatch.delattr(np, 'in1d', raising=False)
    assert sorted(compat.restore_numpy_aliases()) == ['in1d', 'trapz']
    # mmaction2's AR@AN code calls np.trapz; the area of y=x on [0, 1] is 1/2.
    assert np.trapz([0.0, 1.0], [0.0, 1.0]) == pytest.approx(0.5)
    assert np.in1d([1, 2, 3], [2]).tolist() == [False, True, False]
    monkeypatch.undo()


def test_mmaction_models_import_needs_the_drn_standin():
    if not compat._drn_is_missing():
        pytest.skip('this mmaction2 install ships localizers/drn: no stand-in needed')
    broken = _python('import mmaction.models')
    assert broken.returncode != 0 and 'drn' in broken.stderr
    fixed = _python("""
        import pal_eval, mmaction.models
        from mmaction.models.localizers.drn import DRN
        try:
            DRN()
        except ImportError as exc:
            print('refused:', exc)
    """)
    assert fixed.returncode == 0, fixed.stderr
    assert 'refused: DRN is not available' in fixed.stdout


def test_drn_standin_only_when_missing(tmp_path, monkeypatch):
    (tmp_path / 'mmaction' / 'models' / 'localizers' / 'drn').mkdir(parents=True)
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path / 'mmaction')])
    monkeypatch.setattr(compat.importlib.util, 'find_spec', lambda name: spec)
    assert compat._drn_is_missing() is False
    assert compat.install_drn_standin() is False


# A checkpoint as a stock MMEngine writes it: the message hub holds HistoryBuffers,
# which pickle their bound statistics methods (needs builtins.getattr to load).
_LEGACY_CHECKPOINT = """
    import numpy as np, torch
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.0)
    buffer.update(2.0)
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'seed': np.int64(3)},
                'message_hub': {'log_scalars': {'loss': buffer}}}, PATH)
"""


def test_mmengine_checkpoint_loads_with_safe_loading(tmp_path):
    path = tmp_path / 'legacy.pth'
    made = _python(_LEGACY_CHECKPOINT.replace('PATH', repr(str(path))))
    assert made.returncode == 0, made.stderr
    import torch

    import pal_eval.registration

    pal_eval.registration.register_all_modules()
    with pytest.raises(pickle.UnpicklingError):  # the breakage: safe loading refuses it
        torch.load(path, weights_only=True)
    checkpoint = compat.load_mmengine_checkpoint(str(path))
    assert checkpoint['message_hub']['log_scalars']['loss'].mean() == pytest.approx(1.5)
    assert int(checkpoint['meta']['seed']) == 3

    # New checkpoints carry no methods: plain weights_only loading works.
    resaved = tmp_path / 'new.pth'
    torch.save(checkpoint, resaved)
    assert torch.load(resaved, weights_only=True)['state_dict']['w'].sum() == 2


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


class _GetattrExploit:
    """``getattr`` reaching past HistoryBuffer (first step of a __globals__ escape)."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return (getattr, (self.owner, self.name))


def _payloads():
    from collections import OrderedDict

    from mmengine.logging import HistoryBuffer

    return [_Exploit(), _GetattrExploit(HistoryBuffer, '__init__'),
            _GetattrExploit(OrderedDict, 'fromkeys')]


@pytest.mark.parametrize('index', range(3))
def test_mmengine_checkpoint_loader_refuses_code(tmp_path, index):
    import torch

    payload = _payloads()[index]
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, path)
    with pytest.raises(pickle.UnpicklingError, match='refused to load'):
        compat.load_mmengine_checkpoint(str(path))


@pytest.mark.slow
def test_init_dist_pytorch_on_cpu():
    code = """
        import os
        os.environ.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                          MASTER_ADDR='127.0.0.1', MASTER_PORT='29655')
        {prelude}
        import torch
        from mmengine.dist import init_dist, get_world_size
        init_dist('pytorch', backend='nccl')
        print('world', get_world_size(), torch.distributed.get_backend())
    """
    broken = _python(code.format(prelude=''))
    assert broken.returncode != 0  # torch.cuda.set_device on a CPU-only machine
    # As under `mim train`: MMEngine is imported, then the config's custom_imports
    # import pal_eval.
    fixed = _python(code.format(prelude='import mmengine, pal_eval'))
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert 'world 1 gloo' in fixed.stdout


def test_import_pal_eval_stays_light():
    result = _python("""
        import sys, pal_eval, pal_eval.cli
        print(sorted(m for m in ('torch', 'mmengine', 'mmaction') if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


def test_registration_happens_when_mmengine_is_imported_later():
    result = _python("""
        import pal_eval
        from mmaction.registry import MODELS
        import pal_eval.registration as r
        print(r._done)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == 'True'


def test_legacy_format_checkpoint_header_is_restricted_too(tmp_path):
    # torch's pre-1.6 (non-zip) format starts with plain pickles read by
    # `pickle_module.load`; a payload there must be refused as well.
    path = tmp_path / 'legacy_format.pth'
    with open(path, 'wb') as handle:
        pickle.dump(_Exploit(), handle, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match='refused to load'):
        compat.load_mmengine_checkpoint(str(path))


def test_mmcv_lite_ops_warning_is_silenced():
    code = ('import warnings; warnings.simplefilter("default"); '
            '{prelude}import mmcv.cnn.bricks.transformer')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    run = [sys.executable, '-W', 'default', '-c']
    plain = subprocess.run(run + [code.format(prelude='')], capture_output=True, text=True,
                           env=env, timeout=120)
    assert 'MultiScaleDeformableAttention' in plain.stderr  # the noise exists
    quiet = subprocess.run(run + [code.format(prelude='import pal_eval; ')],
                           capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and 'MultiScaleDeformableAttention' not in quiet.stderr


def _python_with_cache(code: str, cache_home) -> subprocess.CompletedProcess:
    """A fresh interpreter whose user cache (yapf's grammar pickles) is ``cache_home``."""
    env = dict(os.environ, PYTHONWARNINGS='ignore', XDG_CACHE_HOME=str(cache_home))
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_broken_yapf_grammar_cache_is_rebuilt(tmp_path):
    """A pickle left empty (yapf renames it into place before flushing it) breaks every
    later ``import mmengine.config`` with EOFError; priming rebuilds it."""
    assert _python_with_cache('import yapf', tmp_path).returncode == 0
    pickles = sorted(tmp_path.rglob('*.pickle'))
    assert len(pickles) == 2                      # Grammar and PatternGrammar
    for path in pickles:
        path.write_bytes(b'')                     # what a reader can meet mid-write
    broken = _python_with_cache('import mmengine.config', tmp_path)
    assert broken.returncode != 0 and 'EOFError' in broken.stderr
    primed = _python_with_cache("""
        from pal_eval.compat import prime_yapf_grammar_cache
        print(prime_yapf_grammar_cache())
        import mmengine.config
        """, tmp_path)
    assert primed.returncode == 0, primed.stderr
    assert primed.stdout.split() == ['True']
    assert all(path.stat().st_size > 0 for path in pickles)
    assert _python_with_cache('import mmengine.config', tmp_path).returncode == 0


def test_primed_yapf_cache_is_only_read_by_later_processes(tmp_path):
    """After priming, importing yapf writes nothing (so no process can meet a file being
    written): a later import with ``Grammar.dump`` made fatal still succeeds, while an
    unprimed cache does call it."""
    fatal_dump = """
        from yapf_third_party._ylib2to3.pgen2 import grammar
        def dump(self, filename):
            raise SystemExit(3)
        grammar.Grammar.dump = dump
        import yapf
        """
    assert _python_with_cache(fatal_dump, tmp_path / 'fresh').returncode == 3
    primed = _python_with_cache(
        'from pal_eval.compat import prime_yapf_grammar_cache as p; print(p())',
        tmp_path / 'primed')
    assert primed.returncode == 0 and primed.stdout.split() == ['False']
    assert _python_with_cache(fatal_dump, tmp_path / 'primed').returncode == 0
