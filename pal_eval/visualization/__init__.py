"""pal-eval visualization stage."""
