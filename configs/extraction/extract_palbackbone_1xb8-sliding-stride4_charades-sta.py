# Charades-STA: dense sliding clips, one feature every 4 frames at 30 fps (the THUMOS14
# grid; videos with another rate are resampled to 30 fps first). 2D-TAN averages whatever
# the video has into 256 clips over its duration, so the grid only sets the detail kept.
# Clip length, frame interval and input size come from the encoder's export metadata.
_base_ = ['../_base_/extraction.py']

sampling = dict(policy='sliding', stride=4, fps=30.0)
