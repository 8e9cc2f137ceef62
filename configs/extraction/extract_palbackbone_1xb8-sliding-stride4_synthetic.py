# The synthetic benchmark (`pal-eval synth`): one feature every 4 frames at the videos'
# native rate (8-10 fps: 0.4-0.5 s apart). Clip length, frame interval and input size
# come from the encoder's metadata, i.e. the CPU pretraining configs' clips: 4 frames
# every 2nd frame (a 7-frame window, ~0.8 s: the classes' motion) at 48x48 px, so the
# stride (4) never exceeds the clip window (7) and every frame is seen.
# `random_init` gives the random-init baseline the same encoder and input as the
# pretrained ones (tests/pretrain/test_configs.py checks they agree).
_base_ = ['../_base_/extraction.py']

sampling = dict(policy='sliding', stride=4, fps=None)
random_init = dict(base_channels=8, frames_per_clip=4, frame_interval=2, input_size=48)
