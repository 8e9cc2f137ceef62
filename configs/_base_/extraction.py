# What every extraction config shares. Read by `pal-eval extract` / `pal-eval visualize`
# (not by an MMEngine Runner: extraction trains nothing, so no training runtime here).
encoder = dict(frames_per_clip=None, frame_interval=None, input_size=None)  # None: from metadata
data = dict(batch_size=8, num_workers=2)  # CPU: 2 decoding workers
seed = 0  # --checkpoint random: seeded random init (the random-init baseline)
random_init = dict(base_channels=64)
