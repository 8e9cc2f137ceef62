# MoCo-v2 video-level baseline of PAL: same encoder, head, queue and temperature; two
# J-clip views of one video are the positives (pal_eval/pretrain/moco.py).
model = dict(
    type='MoCoV2',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64),
    clips_per_video=8,
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
