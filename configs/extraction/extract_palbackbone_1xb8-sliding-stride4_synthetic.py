# The synthetic benchmark (`pal-eval synth`): small CPU encoder input (4 x 64 x 64 clips),
# one feature every 4 frames at the videos' native rate.
_base_ = ['../_base_/default_runtime.py']

sampling = dict(policy='sliding', stride=4, fps=None)
encoder = dict(frames_per_clip=None, frame_interval=None, input_size=64)
data = dict(batch_size=8, num_workers=2)
seed = 0
random_init = dict(base_channels=8)
