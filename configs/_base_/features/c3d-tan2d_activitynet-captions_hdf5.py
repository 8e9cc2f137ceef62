# ActivityNet C3D features (the ActivityNet challenge 2016 release, PCA to 500-d) as 2D-TAN
# reads them for ActivityNet Captions, in place: sub_activitynet_v1-3.c3d.hdf5 maps
# v_<youtube id> to a group whose 'c3d_features' dataset is [N, 500].
# Grid: N equal bins over the video's duration (2D-TAN's average_to_fixed_length; clip k
# spans [k, k + 1] * duration / num_clips); durations are in the captions JSON.
# Sources: microsoft/2D-TAN lib/datasets/activitynet.py (h5py 'sub_activitynet_v1-3.c3d.hdf5',
# f[vid]['c3d_features'][:]), data/ActivityNet/download.sh (the challenge16 C3D files).
feature_source = dict(
    format='hdf5',
    streams=[['sub_activitynet_v1-3.c3d.hdf5']],
    key='{video_id}/c3d_features',
    grid=dict(uniform=True),
    source='2D-TAN ActivityNet Captions C3D features (microsoft/2D-TAN '
           'lib/datasets/activitynet.py)')
