"""pal-eval evaluation stage: exact, vectorised reproductions of the official metrics.

Torch-free functional core (``pal-eval evaluate`` never imports torch or mmaction), on
the project's one tIoU (:mod:`pal_eval.core.tiou`):

* :mod:`.detection`: ActivityNet detection mAP (also the THUMOS14 ANet-style preset).
* :mod:`.thumos_matlab`: THUMOS14 detection mAP as the official MATLAB kit computes it.
* :mod:`.proposal`: proposal AR@AN and AUC.
* :mod:`.grounding`: 2D-TAN ``R@n,IoU=m`` and mIoU.
* :mod:`.inputs`: ground truth from any supported file; :mod:`.grouping`: helpers.

:mod:`.metrics` holds the MMEngine ``BaseMetric`` adapters (imported only with MMEngine,
see :mod:`pal_eval.registration`). README text and measured numbers: ``docs/metrics.md``.
"""
