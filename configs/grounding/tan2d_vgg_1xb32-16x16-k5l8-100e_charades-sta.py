# 2D-TAN (pool) on Charades-STA from 2D-TAN's VGG release (vgg_rgb_features.hdf5) read in
# place (_base_/features/vgg-tan2d_charades-sta_hdf5.py), durations from Charades_v1_*.csv
# as 2D-TAN's loader. Compared with tan2d_pool_charades_sta.
# Layout: <data_root>/features/tan2d_vgg/vgg_rgb_features.hdf5,
#         <data_root>/annotations/charades_sta_{train,test}.txt, Charades_v1_{train,test}.csv
# Run: mim train mmaction2 configs/grounding/tan2d_vgg_1xb32-16x16-k5l8-100e_charades-sta.py
_base_ = ['./tan2d_feat_1xb32-16x16-k5l8-100e_charades-sta.py',
          '../_base_/features/vgg-tan2d_charades-sta_hdf5.py']

_data = dict(feature_dir='features/tan2d_vgg', feature_source={{_base_.feature_source}})
train_dataloader = dict(dataset=dict(_data, durations_file='annotations/Charades_v1_train.csv'))
val_dataloader = dict(dataset=dict(_data, durations_file='annotations/Charades_v1_test.csv'))
test_dataloader = val_dataloader
del _data
