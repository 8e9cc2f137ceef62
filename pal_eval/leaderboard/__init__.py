"""pal-eval leaderboard stage."""
