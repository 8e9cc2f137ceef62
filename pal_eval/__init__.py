"""pal-eval: PAL pre-training and downstream evaluation of temporal action localization.

``import pal_eval`` does two things and nothing heavy:

1. absorbs the known breakages of the pinned stack (:mod:`pal_eval.compat`);
2. registers every pal-eval module (models, backbones, datasets, transforms, metrics,
   hooks) into ``mmaction.registry``: at once when MMEngine is already
   imported (e.g. ``custom_imports`` in a config run by ``mim train``), otherwise
   right after ``mmaction`` itself is imported (``mmaction`` pulls in mmcv and
   MMEngine; registering any earlier would re-enter mmcv's half-done import).
   Commands that need no model (``pal-eval evaluate``, ``pal-eval synth``) therefore
   never import torch.

The downstream heads live in the top-level ``heads`` package, which imports pal-eval and
registers itself on import; a config names both::

    custom_imports = dict(imports=['pal_eval', 'heads'], allow_failed_imports=False)
"""
from pal_eval import compat as _compat
from pal_eval.version import __version__  # noqa: F401  (pal_eval.__version__)

_compat.silence_mmcv_lite_warning()
_compat.restore_numpy_aliases()
_compat.install_drn_standin()


def _setup_openmmlab() -> None:
    from pal_eval.registration import register_all_modules

    register_all_modules()


if _compat.module_ready('mmengine'):
    _setup_openmmlab()
else:
    _compat.run_when_imported('mmaction', _setup_openmmlab)
