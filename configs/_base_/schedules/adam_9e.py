# BMN's schedule: Adam lr 1e-3 / weight decay 1e-4, 9 epochs, lr / 10 after epoch 7.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=9, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[7], gamma=0.1)]
