# THUMOS14 as extracted features (`pal-eval extract`) at their native rate, cut into
# sliding windows of 256 features every 128 (half overlap; the last one zero-padded).
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
                temporal_scale=temporal_scale, window_stride=128)
train_dataloader = dict(batch_size=8, dataset=dict(_windows, subset='validation'))
val_dataloader = dict(batch_size=8, dataset=dict(_windows, subset='test'))
test_dataloader = val_dataloader
del _windows
