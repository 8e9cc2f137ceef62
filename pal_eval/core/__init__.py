"""The ground floor: numpy-only math every stage shares, importing no other pal-eval package.

* :mod:`.tiou`: the one temporal IoU (float64; ActivityNet sum or hull union);
* :mod:`.time_grid`: feature centre times <-> boundary positions <-> seconds;
* :mod:`.resample`: features re-sampled onto another time grid (the ActivityNet ``T``).

Nothing here imports torch, MMEngine, pandas or another pal-eval package (only
:mod:`pal_eval.errors`); ``tests/test_layering.py`` holds the tree to that.
"""
