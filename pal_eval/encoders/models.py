"""Import every architecture module so their classes register in ``mmaction.registry.MODELS``."""
from pal_eval.encoders import c3d, r2plus1d, s3d  # noqa: F401
