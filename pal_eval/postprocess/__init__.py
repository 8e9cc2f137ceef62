"""pal-eval postprocess stage."""
