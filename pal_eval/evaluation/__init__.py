"""pal-eval evaluation stage."""
