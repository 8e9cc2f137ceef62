"""pal-eval extraction stage."""
