"""Absorb the known breakages of the pinned OpenMMLab stack, so users never meet them.

Each fix is one small function, applied once by ``import pal_eval`` (the numpy and
mmaction2 fixes) or as soon as MMEngine is imported (the torch/MMEngine fixes), and
each has a test in ``tests/test_compat.py`` that fails without it.

The fixes:

* :func:`restore_numpy_aliases`: numpy>=2.4 removed ``np.trapz`` and ``np.in1d``,
  which mmaction2's evaluation code still calls.
* :func:`install_drn_standin`: the mmaction2 1.2.0 wheel ships without
  ``mmaction/models/localizers/drn``, so ``import mmaction.models`` fails. A stand-in
  module is put in place only when the subpackage is really missing.
* :func:`make_mmengine_checkpoints_loadable`: torch>=2.6 loads with
  ``weights_only=True`` by default, and MMEngine's checkpoints carry a few non-tensor
  objects (its ``HistoryBuffer`` with bound methods, numpy arrays and scalars in the
  message hub). We allow-list exactly those types and stop ``HistoryBuffer`` from
  pickling methods: ``--resume``, ``load_from`` and ``mim test`` work again while
  safe loading stays on everywhere.
* :func:`make_ddp_work_on_cpu`: MMEngine's ``pytorch`` launcher calls
  ``torch.cuda.set_device`` and wraps the model with ``device_ids=[LOCAL_RANK]``
  even when there is no GPU; on CPU we initialise the process group with gloo and
  build DDP without device ids.
* :func:`prime_yapf_grammar_cache`: yapf 0.43 (imported by ``mmengine.config``) renames
  its grammar cache into place before flushing it, so processes that import MMEngine
  together right after an install can read an empty pickle (``EOFError``; a killed
  writer leaves it broken for good). The leaderboard runner and ``make install`` build
  the cache once, in one process, and a broken one is rebuilt.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import pickle
import sys
import types
from collections.abc import Callable

from pal_eval.errors import InputError, PalEvalError

__all__ = [
    'silence_mmcv_lite_warning',
    'restore_numpy_aliases',
    'install_drn_standin',
    'make_mmengine_checkpoints_loadable',
    'load_mmengine_checkpoint',
    'make_ddp_work_on_cpu',
    'prime_yapf_grammar_cache',
    'module_ready',
    'run_when_imported',
]


def silence_mmcv_lite_warning() -> None:
    """Hide mmcv-lite's import-time warning about its missing compiled ops.

    mmcv-lite has no ``mmcv.ops`` by design (we pin it because full mmcv needs
    compiling); its ``MultiScaleDeformableAttention`` warning on every import of
    ``mmcv.cnn`` says nothing a pal-eval user can act on.
    """
    import warnings

    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``',
                            category=UserWarning)


def restore_numpy_aliases() -> list[str]:
    """Re-create ``np.trapz``/``np.in1d`` where numpy>=2.4 removed them.

    Returns:
        The names that were added (empty when numpy still has them).
    """
    import numpy as np

    added = []
    if not hasattr(np, 'trapz'):
        np.trapz = np.trapezoid
        added.append('trapz')
    if not hasattr(np, 'in1d'):
        def in1d(ar1, ar2, assume_unique=False, invert=False):
            return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)
        np.in1d = in1d
        added.append('in1d')
    return added


DRN_MODULE = 'mmaction.models.localizers.drn'


def _drn_is_missing() -> bool:
    """Whether the installed mmaction lacks ``models/localizers/drn`` (without importing it)."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False  # mmaction is not installed: nothing to repair.
    for root in spec.submodule_search_locations:
        if os.path.isdir(os.path.join(root, 'models', 'localizers', 'drn')):
            return False
    return True


def install_drn_standin(force: bool = False) -> bool:
    """Provide ``mmaction.models.localizers.drn`` when the wheel lacks it.

    ``mmaction/models/localizers/__init__.py`` does ``from .drn.drn import DRN``.
    Pre-seeding ``sys.modules`` with a package and a module exposing a ``DRN``
    placeholder lets that import succeed; building a DRN model then fails with a
    clear message instead of every ``import mmaction.models`` failing.

    Args:
        force: Install even when the subpackage exists (used by tests).

    Returns:
        True if the stand-in was installed.
    """
    if DRN_MODULE in sys.modules or not (force or _drn_is_missing()):
        return False

    class DRN:  # noqa: D401 - placeholder with an explicit error
        """Placeholder: mmaction2 1.2.0's wheel does not ship the DRN localizer."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'DRN is not available: the mmaction2 1.2.0 wheel does not ship '
                'mmaction/models/localizers/drn (pal-eval installed a stand-in). '
                'Use TAN2D from pal-eval for grounding.')

    package = types.ModuleType(DRN_MODULE)
    package.__path__ = []  # a package, so `.drn.drn` resolves below it
    module = types.ModuleType(DRN_MODULE + '.drn')
    module.DRN = DRN
    package.drn = module
    package.DRN = DRN
    package.__pal_eval_standin__ = True
    sys.modules[DRN_MODULE] = package
    sys.modules[DRN_MODULE + '.drn'] = module
    return True


def _mmengine_checkpoint_types() -> list:
    """The non-tensor types MMEngine stores in checkpoints (message hub, meta, config)."""
    import numpy as np
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    types_ = [HistoryBuffer, ConfigDict, np.ndarray, np.dtype,
              np._core.multiarray._reconstruct, np._core.multiarray.scalar]
    # numpy>=1.25 pickles dtypes by their class (np.dtypes.Float64DType, ...).
    types_ += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return types_


def _history_buffer_getstate(self) -> dict:
    # MMEngine pickles the *bound statistics methods* of every HistoryBuffer, which
    # needs ``builtins.getattr`` at load time: unloadable with weights_only=True. The
    # methods are registered on the class at import time and restored by
    # ``__setstate__`` anyway, so the state need not carry them.
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def _restricted_legacy_pickle_module():
    """A pickle module whose Unpickler admits only torch's safe globals, MMEngine's
    checkpoint types and ``getattr`` restricted to ``HistoryBuffer`` statistics methods.

    Checkpoints written by a stock MMEngine (before the ``__getstate__`` fix above)
    reference ``getattr(HistoryBuffer, 'mean')``; this lets them load without
    admitting arbitrary callables (``getattr`` on anything else is refused).
    """
    import pickle

    from mmengine.logging import HistoryBuffer
    from torch import _weights_only_unpickler as safe

    allowed = dict(safe._get_allowed_globals())
    allowed.update(safe._get_user_allowed_globals())
    for obj in _mmengine_checkpoint_types():
        allowed[f'{obj.__module__}.{obj.__name__}'] = obj

    def history_buffer_getattr(obj, name):
        if obj is HistoryBuffer and not name.startswith('_'):
            return getattr(obj, name)
        raise pickle.UnpicklingError(f'getattr({obj!r}, {name!r}) is not allowed')

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in (('builtins', 'getattr'), ('__builtin__', 'getattr')):
                return history_buffer_getattr
            qualified = f'{module}.{name}'
            if qualified in allowed:
                return allowed[qualified]
            raise pickle.UnpicklingError(f'global {qualified} is not allowed in a checkpoint')

    def load(file, **kwargs):
        # torch's legacy (non-zip) format reads its header with `pickle_module.load`:
        # it must go through the same restrictions.
        return Unpickler(file, **kwargs).load()

    module = types.ModuleType('pal_eval_restricted_pickle')
    module.Unpickler = Unpickler
    module.load = load
    module.__name__ = 'pal_eval_restricted_pickle'
    return module


class UnreadableCheckpoint(InputError, pickle.UnpicklingError):
    """A checkpoint refused or unreadable: one ``error:`` line under ``mim train`` /
    ``mim test`` (an :class:`InputError`), still the ``UnpicklingError`` that MMEngine's
    and torch's callers expect."""


def load_mmengine_checkpoint(filename: str, map_location=None):
    """Load a checkpoint for MMEngine (``--resume``, ``load_from``, ``mim test``) safely.

    ``torch.load(weights_only=True)`` with MMEngine's own types allow-listed; for
    checkpoints written by a stock MMEngine, a restricted unpickler (see
    :func:`_restricted_legacy_pickle_module`). Anything else is refused.

    Raises:
        UnreadableCheckpoint: refused (unsafe globals) or not a checkpoint at all.
    """
    import torch

    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass
    except Exception as exc:  # noqa: BLE001 - a text / truncated / random file
        raise UnreadableCheckpoint(filename, f'not a torch checkpoint ({type(exc).__name__}: '
                                   f'{str(exc).splitlines()[0][:120] if str(exc) else "-"})'
                                   ) from None
    try:
        return torch.load(filename, map_location=map_location, weights_only=False,
                          pickle_module=_restricted_legacy_pickle_module())
    except pickle.UnpicklingError as exc:
        if 'not allowed' not in str(exc):   # not a refusal of ours: no pickle at all
            raise UnreadableCheckpoint(filename, f'not a torch checkpoint ({exc})') from None
        raise UnreadableCheckpoint(
            filename, f'refused to load: {exc}. Only tensors and MMEngine checkpoint '
            'state are loaded (safe loading).') from None
    except Exception as exc:  # noqa: BLE001 - same as above, in the legacy format
        raise UnreadableCheckpoint(filename, f'not a torch checkpoint ({type(exc).__name__})'
                                   ) from None


def make_mmengine_checkpoints_loadable() -> None:
    """Make MMEngine's own checkpoint loading work with torch's safe loading kept on.

    * allow-lists the non-tensor types MMEngine stores (``HistoryBuffer``, numpy
      arrays/dtypes/scalars, ``ConfigDict``) in torch's safe globals;
    * stops ``HistoryBuffer`` from pickling bound methods (new checkpoints need no
      ``getattr``);
    * routes MMEngine's local-file checkpoint scheme through
      :func:`load_mmengine_checkpoint`.
    """
    import torch
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(_mmengine_checkpoint_types())
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_mmengine_checkpoint)


def make_ddp_work_on_cpu() -> None:
    """Let MMEngine's ``--launcher pytorch`` run on CPU (gloo).

    MMEngine 0.10.7 calls ``torch.cuda.set_device(LOCAL_RANK)`` unconditionally and
    always passes ``device_ids=[LOCAL_RANK]`` to DDP; both fail without CUDA. With
    CUDA present, MMEngine's behaviour is unchanged.
    """
    import torch
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as mm_ddp

    if getattr(dist_utils._init_dist_pytorch, '__pal_eval_patched__', False):
        return
    original_init = dist_utils._init_dist_pytorch

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if torch.cuda.is_available():
            return original_init(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'  # nccl needs GPUs; gloo is torch's CPU backend
        torch_dist.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch.__pal_eval_patched__ = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_ddp_init = mm_ddp.MMDistributedDataParallel.__init__

    def __init__(self, module, detect_anomalous_params=False, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original_ddp_init(self, module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    mm_ddp.MMDistributedDataParallel.__init__ = __init__


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Run a callback right after a given top-level module finished importing."""

    def __init__(self, name: str, callback: Callable[[], None]):
        self.name = name
        self.callback = callback

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module
        callback = self.callback

        def exec_module(module):
            original_exec(module)
            callback()

        loader.exec_module = exec_module
        return spec


def module_ready(name: str) -> bool:
    """Whether module ``name`` is imported and done initialising."""
    module = sys.modules.get(name)
    spec = getattr(module, '__spec__', None)
    return module is not None and not getattr(spec, '_initializing', False)


def run_when_imported(name: str, callback: Callable[[], None]) -> None:
    """Call ``callback`` now if module ``name`` is imported, else right after its import.

    This keeps ``import pal_eval`` light (no torch) for commands such as
    ``pal-eval evaluate``, while anything that touches MMAction2 still finds every
    pal-eval module registered.
    """
    if module_ready(name):
        callback()
    else:
        sys.meta_path.insert(0, _PostImportHook(name, callback))


def _unloadable_yapf_pickles(error: BaseException) -> list[str]:
    """The grammar pickles a failed ``import yapf`` could not load: the ``gp`` argument
    of ``yapf_third_party/_ylib2to3/pgen2/driver.py::load_grammar`` in the traceback's
    frames (asking yapf for its cache path would import yapf again)."""
    paths, frame = [], error.__traceback__
    while frame is not None:
        code, local = frame.tb_frame.f_code, frame.tb_frame.f_locals
        if code.co_name == 'load_grammar' and isinstance(local.get('gp'), str):
            paths.append(local['gp'])
        frame = frame.tb_next
    return paths


def prime_yapf_grammar_cache() -> bool:
    """Build yapf's grammar cache in this process; rebuild a pickle in it that is broken.

    ``import yapf`` re-pickles its two grammars into the user cache whenever the cache is
    older than the installed ``Grammar.txt`` (every fresh install) and renames each pickle
    into place *before* its buffer is flushed (``pgen2/grammar.py::Grammar.dump``): a
    second process importing yapf in that moment loads an empty file and dies with
    ``EOFError: Ran out of input`` (seen: a fresh clone's ``make demo`` starting its two
    pretraining stages at once). Importing yapf here first, alone, leaves a fresh cache the
    stage processes only read. A pickle that does not load (a writer killed in that
    moment) would break every later import: it is deleted, and yapf writes it anew.

    Returns:
        True if a broken pickle was found and rebuilt.

    Raises:
        PalEvalError: the cache still does not load (names what failed).
    """
    if importlib.util.find_spec('yapf') is None or module_ready('yapf'):
        return False  # absent, or imported already: its cache loaded in this process
    rebuilt = False
    for _ in range(3):  # Grammar, PatternGrammar: each may be broken
        try:
            import yapf  # noqa: F401
            return rebuilt
        except (EOFError, pickle.UnpicklingError, ValueError) as error:
            broken = _unloadable_yapf_pickles(error)
            if not broken:
                raise PalEvalError(f"yapf's grammar cache does not load ({error!r}); delete "
                                   'its folder (~/.cache/YAPF)') from None
            for path in broken:
                os.remove(path)
            for name in [m for m in sys.modules
                         if m.split('.')[0] in ('yapf', 'yapf_third_party')]:
                del sys.modules[name]
            rebuilt = True
    raise PalEvalError("yapf's grammar cache does not load after a rebuild; delete its "
                       'folder (~/.cache/YAPF)')
