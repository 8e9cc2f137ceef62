"""plot_timeline: one bar per ground-truth instance and per shown prediction."""
from __future__ import annotations

from pal_eval.visualization.timeline import plot_timeline


def test_timeline_draws_top_k_predictions_and_writes_png(tmp_path):
    gt = [(1.0, 3.0, 'jump'), (5.0, 6.0, 'run')]
    predictions = [(1.1, 2.9, 'jump', 0.9), (4.8, 6.1, 'run', 0.3), (0.0, 1.0, 'run', 0.1)]
    fig = plot_timeline(gt, predictions, 8.0, top_k=2, out=tmp_path / 't.png')
    ax = fig.axes[0]
    # ground truth row + 2 prediction rows; the lowest-scoring prediction is left out
    assert len(ax.collections) == len(gt) + 2
    labels = [t.get_text() for t in ax.texts]
    assert ' jump 0.90' in labels and ' run 0.30' in labels and ' run 0.10' not in labels
    assert (tmp_path / 't.png').read_bytes()[:4] == b'\x89PNG'
