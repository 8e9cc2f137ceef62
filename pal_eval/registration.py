"""Register every pal-eval module into ``mmaction.registry``.

Called by ``import pal_eval`` once MMEngine is imported (see :mod:`pal_eval`). The
modules below register themselves with ``@MODELS.register_module()`` and friends on
import; listing them here, instead of importing them from package ``__init__`` files,
keeps light packages (metrics core, annotation I/O, synthetic data) free of torch.

The downstream heads are not listed: the top-level ``heads`` package imports pal-eval,
never the reverse, and registers itself when imported (a config's ``custom_imports``
names both packages).
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from pal_eval import compat

#: Modules whose import registers pal-eval components into ``mmaction.registry``.
REGISTERED_MODULES: tuple[str, ...] = (
    'pal_eval.evaluation.metrics',   # METRICS: detection mAP, AR@AN, grounding recall
    'pal_eval.pretrain',             # MODELS: PAL, MoCoV2, PALBackbone; TRANSFORMS; DATASETS
    'pal_eval.encoders.models',      # MODELS: released encoders (CoCLR, XDC, RSPNet...)
    'pal_eval.data.datasets',        # DATASETS/TRANSFORMS: feature datasets for the heads
)

_done = False


def register_all_modules() -> None:
    """Apply the MMEngine/torch fixes and import every registering module (idempotent)."""
    global _done
    if _done:
        return
    _done = True
    install_error_hook()
    compat.make_mmengine_checkpoints_loadable()
    compat.make_ddp_work_on_cpu()
    for name in REGISTERED_MODULES:
        importlib.import_module(name)


#: set (to anything) to keep the full traceback of a PalEvalError under mim train / test
TRACEBACK_ENV = 'PAL_EVAL_TRACEBACK'


def running_mmengine_tool(argv0: str | None = None) -> bool:
    """Whether this process runs an OpenMMLab ``tools/train.py`` / ``tools/test.py``
    (what ``mim train`` / ``mim test`` / ``torchrun`` start).

    Examples:
        >>> running_mmengine_tool('/venv/site-packages/mmaction/.mim/tools/train.py')
        True
        >>> running_mmengine_tool('/venv/bin/pytest')
        False
    """
    script = Path(sys.argv[0] if argv0 is None else argv0)
    return script.name in ('train.py', 'test.py') and script.parent.name == 'tools'


def install_error_hook() -> bool:
    """Under ``mim train`` / ``mim test``, print an uncaught :class:`PalEvalError` (a bad
    ``ann_file``, a missing feature folder...) as one ``error: ...`` line, exit status 1,
    instead of a traceback through MMEngine's Runner that buries the one line that
    matters. Other exceptions keep their traceback; nothing changes in other programs.

    ``mim`` itself still reports the failed subprocess after that line (its own
    ``CalledProcessError``): that process never imports pal-eval.

    Returns:
        Whether the hook was installed.
    """
    if not running_mmengine_tool() or os.environ.get(TRACEBACK_ENV):
        return False
    from pal_eval.errors import PalEvalError

    previous = sys.excepthook

    def one_line_for_user_errors(kind, value, traceback):
        if isinstance(value, PalEvalError):
            print(f'error: {value}', file=sys.stderr, flush=True)
            return
        previous(kind, value, traceback)

    sys.excepthook = one_line_for_user_errors
    return True
