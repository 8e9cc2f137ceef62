# Released encoders on Charades-STA with equal features per video: PAL's grid (4-frame clips,
# one feature every 4 frames at 30 fps) with each encoder's native clip centred on every
# PAL feature (pal_eval/extraction/equal_features.py).
_base_ = ['../../_base_/default_runtime.py']

sampling = dict(policy='sliding', stride=4, fps=30.0)
encoder = dict(frames_per_clip=None, frame_interval=None, input_size=None)
equal_features = dict(target_frames_per_clip=4, target_frame_interval=1, span='native')
data = dict(batch_size=8, num_workers=2)
seed = 0
