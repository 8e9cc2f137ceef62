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
    compat.make_mmengine_checkpoints_loadable()
    compat.make_ddp_work_on_cpu()
    for name in REGISTERED_MODULES:
        importlib.import_module(name)
