# 2D-TAN (pool) on ActivityNet Captions from the C3D release 2D-TAN uses
# (sub_activitynet_v1-3.c3d.hdf5) read in place
# (_base_/features/c3d-tan2d_activitynet-captions_hdf5.py). Compared with
# tan2d_pool_anet_captions.
# Layout: <data_root>/features/c3d/sub_activitynet_v1-3.c3d.hdf5,
#         <data_root>/annotations/{train,val_1,val_2}.json
# Run: mim train mmaction2 configs/grounding/tan2d_c3d_1xb32-64x64-k9l4-100e_activitynet-captions.py
_base_ = ['./tan2d_feat_1xb32-64x64-k9l4-100e_activitynet-captions.py',
          '../_base_/features/c3d-tan2d_activitynet-captions_hdf5.py']

_data = dict(feature_dir='features/c3d', feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
del _data
