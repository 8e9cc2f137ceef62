"""pal-eval leaderboard stage: published numbers, reproduction plans, comparison, CI bounds.

Functional core (no torch, no MMEngine runner):

* :mod:`~pal_eval.leaderboard.reference`: ``benchmarks/reference_results.yaml`` (published
  numbers, each with its source and whether it was verified);
* :mod:`~pal_eval.leaderboard.metrics_io`: the metric JSONs of ``pal-eval evaluate`` as
  one flat ``{name: value}`` mapping (``average_mAP``, ``mAP@0.5``, ``AR@100``, ...);
* :mod:`~pal_eval.leaderboard.compare`: ours vs published with a tolerance -> pandas ->
  markdown;
* :mod:`~pal_eval.leaderboard.plan`: a spec -> ordered stage commands (``mim train``,
  ``pal-eval export-backbone / extract / evaluate``);
* :mod:`~pal_eval.leaderboard.layout`: dry-run checks of configs, data and feature folders;
* :mod:`~pal_eval.leaderboard.runner`: resumable execution of a plan;
* :mod:`~pal_eval.leaderboard.regression`: baseline / floor YAMLs for
  ``pal-eval check-regression`` and the end-to-end floors test.

The CLI adapters are ``pal_eval/cli/leaderboard.py`` and ``pal_eval/cli/check_regression.py``.
"""
