# 2D-TAN's schedule: Adam lr 1e-4, no weight decay, gradient norm clipped at 10
# (train.py clip_grad_norm_(10)), a constant learning rate for 100 epochs, validated every 5.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0),
                     clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = []
