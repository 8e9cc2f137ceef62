# ActivityNet convention: sliding clips every 8 frames at the native rate, then the sequence
# is resampled to exactly 100 snippets (linear interpolation between clip centres; set
# resample='mean' to average the clips falling into each of the 100 bins instead).
_base_ = ['../_base_/extraction.py']

sampling = dict(policy='resample', stride=8, fps=None, num_snippets=100, resample='linear')
