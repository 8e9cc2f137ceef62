# G-TAD on ActivityNet v1.3 from the TSP release read in place
# (_base_/features/tsp_activitynet_h5.py), CUHK video-level classes. Compared with
# gtad_tsp_anet_opentad (4,728 validation videos: OpenTAD's blocked.json, given with
# --cfg-options val_evaluator.blocked_videos=<file> test_evaluator.blocked_videos=<file>).
# Run: mim train mmaction2 configs/detection/gtad_tsp_1xb16-t100-10e_activitynet.py
_base_ = ['./gtad_feat_1xb16-t100-10e_activitynet.py', '../_base_/features/tsp_activitynet_h5.py']

feature_dir = 'data/activitynet/features/tsp'
_data = dict(feature_dir=feature_dir, feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = val_dataloader
del _data
