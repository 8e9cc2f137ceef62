# THUMOS14 as extracted features (`pal-eval extract`) at their native rate, cut into
# sliding windows of 256 features every 128 (half overlap) as G-TAD's THUMOS14 code does
# (frostinassiky/gtad master:gtad_lib/dataset.py::_get_data): a last window at n - 256
# only when more than 51 features remain (windows='official'; 'cover' scores every
# feature); training keeps a ground truth overlapping a window at all, unclipped, and
# a window whose best ground truth is > 90 % inside (gt_rule='official'; 'coverage' is
# >= 75 % inside, clipped); boundary b at snippet b's centre time (boundary_at='center':
# G-TAD's frame 5 (w + b); 'edge' is between snippets).
# Training on the validation videos, testing on the test videos, as in G-TAD. The
# annotations may be any THUMOS14 file `load_actions` reads (G-TAD's JSON, the official
# CSVs, the per-class txt folder).
_base_ = ['./activitynet-features_t100.py']

data_root = 'data/thumos14/'
feature_dir = data_root + 'features/pal'
ann_file = data_root + 'annotations/thumos14.json'
class_score_file = data_root + 'annotations/uNet_test.npy'  # UntrimmedNet (G-TAD / BSN data/)
temporal_scale = 256

_windows = dict(type='ThumosFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
                temporal_scale=temporal_scale, window_stride=128, windows='official',
                gt_rule='official', boundary_at='center')
train_dataloader = dict(batch_size=8, dataset=dict(_windows, subset='validation'))
val_dataloader = dict(batch_size=8, dataset=dict(_windows, subset='test'))
test_dataloader = val_dataloader
del _windows
