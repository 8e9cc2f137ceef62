# BMN on ActivityNet v1.3 from the BSN / mmaction2 two-stream TSN release (csv_mean_100),
# read in place (_base_/features/tsn-bsn_activitynet_csv-mean-100.py), with mmaction2's
# annotation files: anet_anno_{train,val}.json cover exactly the videos the release has
# (9,649 training, 4,728 validation). Compared with bmn_tsn_anet_proposal_{paper,opentad}.
# Layout: <data_root>/features/tsn_bsn/csv_mean_100/v_*.csv,
#         <data_root>/annotations/anet_anno_{train,val}.json (mmaction2
#         tools/data/activitynet/process_annotations.py).
# Run: mim train mmaction2 configs/proposal/bmn_tsn-bsn_1xb16-t100-9e_activitynet.py
_base_ = ['./bmn_feat_1xb16-t100-9e_activitynet.py',
          '../_base_/features/tsn-bsn_activitynet_csv-mean-100.py']

data_root = 'data/activitynet/'
feature_dir = data_root + 'features/tsn_bsn'
train_ann = data_root + 'annotations/anet_anno_train.json'
val_ann = data_root + 'annotations/anet_anno_val.json'
_data = dict(feature_dir=feature_dir, feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=dict(_data, ann_file=train_ann))
val_dataloader = dict(dataset=dict(_data, ann_file=val_ann))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=val_ann)
test_evaluator = dict(ann_file=val_ann)
del _data
