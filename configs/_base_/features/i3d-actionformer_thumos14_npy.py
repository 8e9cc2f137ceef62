# THUMOS14 two-stream I3D features of ActionFormer (also OpenTAD's
# i3d_actionformer_stride4_thumos), read in place: one <video>.npy per video, [T, 2048]
# (RGB and flow concatenated).
# Grid: 16-frame windows every 4 frames at the video's frame rate (ActionFormer's
# thumos14.json gives each video's fps): feature i is centred on frame 8 + 4 i.
# Sources: happyharrycn/actionformer_release configs/thumos_i3d.yaml (feat_stride 4,
# num_frames 16, input_dim 2048, file_ext .npy, no default_fps) and
# libs/datasets/thumos14.py (seconds = (index * feat_stride + 0.5 * num_frames) / fps);
# sming256/OpenTAD configs/_base_/datasets/thumos-14/features_i3d_pad.py
# (feature_stride=4, offset_frames=8).
feature_source = dict(
    format='npy',
    streams=['{video_id}.npy'],
    grid=dict(fps=None, clip_length=16, stride=4),     # fps: per video, from thumos14.json
    source='ActionFormer THUMOS14 I3D features (happyharrycn/actionformer_release '
           'configs/thumos_i3d.yaml)')
