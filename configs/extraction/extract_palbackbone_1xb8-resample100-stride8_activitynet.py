# ActivityNet convention: sliding clips every 8 frames at the native rate, then the sequence
# is resampled to exactly 100 snippets (linear interpolation between clip centres; set
# resample='mean' to average the clips falling into each of the 100 bins instead).
_base_ = ['../_base_/default_runtime.py']

sampling = dict(policy='resample', stride=8, fps=None, num_snippets=100, resample='linear')
encoder = dict(frames_per_clip=None, frame_interval=None, input_size=None)  # None: from metadata
data = dict(batch_size=8, num_workers=2)
seed = 0
random_init = dict(base_channels=64)
