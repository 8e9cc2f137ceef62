"""pal-eval visualization: similarity maps (PAL supplementary Figs 1-4) and timelines.

Light on import (numpy only); matplotlib is imported, with the Agg backend, when drawing.
"""
from pal_eval.visualization.similarity import (
    cosine_similarity_matrix,
    localization_score,
    plot_similarity_maps,
    transform_frame_indices,
)
from pal_eval.visualization.timeline import plot_timeline

__all__ = ['cosine_similarity_matrix', 'localization_score', 'plot_similarity_maps',
           'plot_timeline', 'transform_frame_indices']
