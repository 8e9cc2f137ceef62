# Released encoders on Charades-STA with equal features per video: the THUMOS14 settings
# (PAL's grid: 4-frame clips, one feature every 4 frames at 30 fps, each encoder's native
# clip centred on every PAL feature), as the PAL extraction config for Charades-STA.
_base_ = ['./extract_released_1xb8-equal4x1-sliding-stride4_thumos14.py']
