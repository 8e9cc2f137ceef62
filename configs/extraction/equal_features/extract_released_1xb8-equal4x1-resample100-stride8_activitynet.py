# Released encoders (CoCLR, XDC, VideoMoCo, RSPNet) on ActivityNet with equal features per
# video: PAL's grid (4-frame clips every 8 frames at the native rate, resampled to 100
# snippets) with each encoder's native clip centred on every PAL feature
# (pal_eval/extraction/equal_features.py). Input size and normalisation: the encoder's.
_base_ = ['../../_base_/extraction.py']

sampling = dict(policy='resample', stride=8, fps=None, num_snippets=100, resample='linear')
equal_features = dict(target_frames_per_clip=4, target_frame_interval=1, span='native')
