"""Pre-training: PAL, MoCo-v2 baseline, the clip encoder (PALBackbone). Importing registers them.

Functional cores (:mod:`.compositing`, :mod:`.checkpoint`) import no MMEngine; the
modules imported here register ``PALBackbone``, ``PAL``, ``MoCoV2``, the unlabeled
video data set and the compositing transform into ``mmaction.registry``.
"""
# Import MMEngine before mmaction: pal_eval registers its modules right after MMEngine's
# import completes, and that must not happen in the middle of mmcv's own import.
import mmengine  # noqa: F401, I001

from pal_eval.pretrain.backbone import PALBackbone
from pal_eval.pretrain.dataset import UnlabeledVideoDataset
from pal_eval.pretrain.hooks import EpochSeedHook, PretextMonitorHook, TorchThreadsHook
from pal_eval.pretrain.moco import MoCoV2
from pal_eval.pretrain.pal import PAL

__all__ = ['PALBackbone', 'PAL', 'MoCoV2', 'UnlabeledVideoDataset',
           'TorchThreadsHook', 'EpochSeedHook', 'PretextMonitorHook']
