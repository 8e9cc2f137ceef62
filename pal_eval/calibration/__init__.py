"""Calibration of the measuring instrument: feature-free floors and oracle ceilings.

* :mod:`~pal_eval.calibration.oracle`: oracle features built from the annotations on a
  data set's feature time grid (the ceiling rows);
* :mod:`~pal_eval.calibration.floor`: the best fixed predictions learned from training
  ground truth (the floor rows).

The command is ``pal-eval calibrate {oracle,floor}`` (``pal_eval/cli/calibrate.py``).
"""
