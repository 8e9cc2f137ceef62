# G-TAD on THUMOS14 from G-TAD's own TSN release ({flow,rgb}_{val,test}.h5, per-frame rows,
# every 5th kept) read in place (_base_/features/tsn-gtad_thumos14_h5.py), with G-TAD's
# annotation CSVs (their frame columns give each video's frame rate) and UntrimmedNet's
# video-level classes (uNet_test.npy, as G-TAD's gtad_postprocess.py). Compared with
# gtad_tsn_thumos14_{repo,opentad}.
# Layout: <data_root>/features/tsn_gtad/{flow,rgb}_{val,test}.h5,
#         <data_root>/annotations/{val,test}_Annotation.csv, uNet_test.npy
#         (frostinassiky/gtad data/thumos_annotations/ and data/).
# Run: mim train mmaction2 configs/detection/gtad_tsn-gtad_1xb8-t256d64-10e_thumos14.py
_base_ = ['./gtad_feat_1xb8-t256d64-10e_thumos14.py',
          '../_base_/features/tsn-gtad_thumos14_h5.py']

data_root = 'data/thumos14/'
feature_dir = data_root + 'features/tsn_gtad'
train_ann = data_root + 'annotations/val_Annotation.csv'
test_ann = data_root + 'annotations/test_Annotation.csv'
model = dict(class_fusion=dict(score_file=data_root + 'annotations/uNet_test.npy',
                               ann_file=test_ann))
_data = dict(feature_dir=feature_dir, feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=dict(_data, ann_file=train_ann))
val_dataloader = dict(dataset=dict(_data, ann_file=test_ann))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=test_ann)
test_evaluator = dict(ann_file=test_ann)
del _data
