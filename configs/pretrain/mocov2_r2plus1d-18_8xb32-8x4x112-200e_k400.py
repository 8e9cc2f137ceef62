# MoCo-v2 baseline twin of pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py: same encoder, data,
# 2 x 8 clips of 4 frames per sample, head, queue, optimiser and epochs (the twins are
# checked by tests/pretrain/test_configs.py); video-level positives.
_base_ = ['./pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py']

model = dict(
    _delete_=True,
    type='MoCoV2',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64),
    clips_per_video={{_base_.clips_per_video}},
    embed_dim=128,
    queue_size=65536,
    momentum=0.999,
    temperature=0.2,
    in_batch_negatives=True,
    symmetric=True,
    bn_groups=1,
    shuffle_bn=True,
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

train_dataloader = dict(dataset=dict(mode='two_views'))
