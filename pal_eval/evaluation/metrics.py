"""MMEngine metrics (registered in mmaction.registry.METRICS) on top of the functional core."""
