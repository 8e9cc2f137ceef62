# Charades-STA VGG-16 RGB features as 2D-TAN reads them, in place: vgg_rgb_features.hdf5
# maps a Charades video id to an [N, 4096] array (the AI2 Charades_v1_features_rgb frames,
# converted by 2D-TAN's data/Charades-STA/convert_vgg_features_to_hdf5.py).
# Grid: N equal bins over the video's duration (2D-TAN pools them with
# average_to_fixed_length and places clip k at [k, k + 1] * duration / num_clips); the
# durations come from Charades_v1_{train,test}.csv (the datasets' durations_file).
# Sources: microsoft/2D-TAN lib/datasets/charades.py (h5py '{VIS_INPUT_TYPE}_features.hdf5'
# with VIS_INPUT_TYPE vgg_rgb, hdf5_file[vid][:]; durations from Charades_v1_*.csv),
# lib/datasets/__init__.py (average_to_fixed_length).
feature_source = dict(
    format='hdf5',
    streams=[['vgg_rgb_features.hdf5']],
    key='{video_id}',
    grid=dict(uniform=True),
    source="2D-TAN Charades-STA VGG features (microsoft/2D-TAN lib/datasets/charades.py)")
