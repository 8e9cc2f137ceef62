"""Downstream heads, registered in ``mmaction.registry.MODELS`` on import.

* :mod:`heads.bmn`: ``BoundaryMatchingNetwork`` (BMN, proposals; detection by class fusion)
* :mod:`heads.gtad`: ``GTAD`` (G-TAD, detection)
* :mod:`heads.tan2d`: ``TAN2D`` (2D-TAN, natural-language grounding)
"""
from heads import bmn, gtad, tan2d  # noqa: F401  (import registers the models)
