"""MMEngine datasets reading extracted features for the downstream heads (registered on import).

* :mod:`.localization`: ActivityNet-style (resampled to T) and THUMOS-style (sliding windows)
* :mod:`.grounding`: sentence queries over clip features
* :mod:`.runner`: the runner that reads ``model.feat_dim`` from the features
"""
from pal_eval.data.datasets import grounding, localization, runner  # noqa: F401
