# THUMOS14 convention: dense sliding clips, one feature every 4 frames at 30 fps
# (videos with another rate are resampled to 30 fps first, so every feature is 4/30 s apart).
# Clip length, frame interval and input size come from the encoder's export metadata.
# No epochs in the name: extraction trains nothing.
_base_ = ['../_base_/extraction.py']

sampling = dict(policy='sliding', stride=4, fps=30.0)
