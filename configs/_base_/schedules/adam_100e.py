# 2D-TAN's schedule: Adam lr 1e-4, no weight decay, no gradient clipping, a constant
# learning rate for 100 epochs, validated every 5.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0), clip_grad=None)
param_scheduler = []
