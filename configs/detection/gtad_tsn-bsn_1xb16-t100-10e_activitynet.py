# G-TAD on ActivityNet v1.3 from the BSN / mmaction2 TSN release (csv_mean_100) read in
# place, mmaction2's anet_anno_{train,val}.json, detections by the CUHK video-level
# classes (cuhk_val_simp_share.json, its own "class" order). Compared with
# gtad_tsn_anet_{paper,opentad}.
# Run: mim train mmaction2 configs/detection/gtad_tsn-bsn_1xb16-t100-10e_activitynet.py
_base_ = ['./gtad_feat_1xb16-t100-10e_activitynet.py',
          '../_base_/features/tsn-bsn_activitynet_csv-mean-100.py']

data_root = 'data/activitynet/'
feature_dir = data_root + 'features/tsn_bsn'
train_ann = data_root + 'annotations/anet_anno_train.json'
val_ann = data_root + 'annotations/anet_anno_val.json'
model = dict(class_fusion=dict(ann_file=val_ann))   # the class names (taxonomy)
_data = dict(feature_dir=feature_dir, feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=dict(_data, ann_file=train_ann))
val_dataloader = dict(dataset=dict(_data, ann_file=val_ann))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=val_ann)
test_evaluator = dict(ann_file=val_ann)
del _data
