# ActivityNet v1.3 TSP features (R(2+1)D-34 pretrained with TSP on ActivityNet), read in
# place: one HDF5 file per split, each mapping a video name to an [N, 512] array.
# Grid: clips of 16 frames at 15 fps, stride 16 frames (non-overlapping): feature i is
# centred on frame 8 + 16 i of the 15 fps video, one feature per 16/15 ~= 1.067 s.
# Sources: HumamAlwassel/TSP README.md ("Pre-extracted TSP Features": file names, N x 512,
# "clips of 16 frames at a frame rate of 15 fps and a stride of 16 frames");
# extract_features/eval_video_dataset.py (clip i starts at frame 16 i after resampling to
# 15 fps). OpenTAD and ActionFormer read them with feat_stride=16, num_frames=16,
# default_fps=15 (configs/anet_tsp.yaml of happyharrycn/actionformer_release).
feature_source = dict(
    format='hdf5',
    streams=[['r2plus1d_34-tsp_on_activitynet-train_features.h5',
              'r2plus1d_34-tsp_on_activitynet-valid_features.h5',
              'r2plus1d_34-tsp_on_activitynet-test_features.h5']],
    key='{video_id}',
    grid=dict(fps=15.0, clip_length=16, stride=16),   # centre offset: half a clip, 8 frames
    source='TSP ActivityNet features (HumamAlwassel/TSP README.md)')
