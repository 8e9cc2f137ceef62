# BMN on ActivityNet v1.3 from the TSP release (R(2+1)D-34, 512-d, one HDF5 file per
# split), read in place (_base_/features/tsp_activitynet_h5.py). Compared with
# bmn_tsp_anet_proposal_opentad, which scores the 4,728 validation videos left by OpenTAD's
# blocked.json: give it with --cfg-options val_evaluator.blocked_videos=<file>
# test_evaluator.blocked_videos=<file> (`pal-eval leaderboard` does).
# Layout: <data_root>/features/tsp/r2plus1d_34-tsp_on_activitynet-{train,valid,test}_features.h5
# Run: mim train mmaction2 configs/proposal/bmn_tsp_1xb16-t100-9e_activitynet.py
_base_ = ['./bmn_feat_1xb16-t100-9e_activitynet.py', '../_base_/features/tsp_activitynet_h5.py']

feature_dir = 'data/activitynet/features/tsp'
_data = dict(feature_dir=feature_dir, feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = val_dataloader
del _data
