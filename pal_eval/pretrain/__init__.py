"""Pre-training: PAL, MoCo-v2 baseline, the clip encoder (PALBackbone). Importing registers them.

Functional cores (:mod:`.compositing`, :mod:`.checkpoint`) import no MMEngine; the
modules imported here register ``PALBackbone``, ``PAL``, ``MoCoV2``, the unlabeled
video data set and the compositing transform into ``mmaction.registry``.
"""
from pal_eval.pretrain.backbone import PALBackbone

__all__ = ['PALBackbone']
