"""Downstream heads; ``import heads`` registers them in ``mmaction.registry.MODELS``.

* :mod:`heads.bmn`: ``BoundaryMatchingNetwork`` (BMN, proposals; detection by class fusion)
* :mod:`heads.gtad`: ``GTAD`` (G-TAD, detection)
* :mod:`heads.tan2d`: ``TAN2D`` (2D-TAN, natural-language grounding)
* :mod:`heads.classifiers`: ``ScoreFileClassifier``, ``FeatureVideoClassifier`` (video-level
  class scores for class fusion)

They share :mod:`heads.base` (``forward(mode)``, loss convention, predict) and
:mod:`heads.targets` (training targets). The dependency runs one way: ``heads`` imports
``pal_eval``, never the reverse; a config names both packages::

    custom_imports = dict(imports=['pal_eval', 'heads'], allow_failed_imports=False)
"""
from heads import bmn, classifiers, gtad, tan2d  # noqa: F401  (import registers the models)
