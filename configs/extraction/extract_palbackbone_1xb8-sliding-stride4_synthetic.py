# The synthetic benchmark (`pal-eval synth`): one feature every 4 frames at the videos'
# native rate. Clip length, frame interval and input size come from the encoder's
# metadata (the CPU pretraining configs: 2 frames x 32 x 32); `random_init` gives the
# random-init baseline the same encoder and input as the pretrained ones.
_base_ = ['../_base_/extraction.py']

sampling = dict(policy='sliding', stride=4, fps=None)
random_init = dict(base_channels=8, frames_per_clip=2, frame_interval=1, input_size=32)
