"""Pre-training: PAL, MoCo-v2 baseline, the clip encoder (PALBackbone). Importing registers them."""
