"""pal-eval data stage."""
