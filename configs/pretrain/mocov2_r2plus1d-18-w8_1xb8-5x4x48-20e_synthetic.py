# MoCo-v2 baseline twin of the PAL CPU config: same encoder, data, clips per sample,
# head, queue, optimiser and schedule (tests/pretrain/test_configs.py checks the twins
# agree); two random 5-clip views of one video are the positives.
_base_ = ['./pal_r2plus1d-18-w8_1xb8-5x4x48-20e_synthetic.py']

model = dict(
    _delete_=True,
    type='MoCoV2',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=8),
    clips_per_video={{_base_.clips_per_video}},
    embed_dim=64,
    queue_size=128,
    momentum=0.99,
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
