# MoCo-v2 video-level baseline of PAL: the PAL model's encoder, head, queue and
# temperature; two J-clip views of one video are the positives (pal_eval/pretrain/moco.py).
_base_ = ['./pal.py']

model = dict(
    _delete_=True,
    type='MoCoV2',
    # every field from the PAL model this twin inherits: only the pretext differs
    backbone={{_base_.model.backbone}},
    clips_per_video={{_base_.model.clips_per_video}},
    embed_dim={{_base_.model.embed_dim}},
    queue_size={{_base_.model.queue_size}},
    momentum={{_base_.model.momentum}},
    temperature={{_base_.model.temperature}},
    in_batch_negatives={{_base_.model.in_batch_negatives}},
    symmetric={{_base_.model.symmetric}},
    bn_groups={{_base_.model.bn_groups}},
    shuffle_bn={{_base_.model.shuffle_bn}},
    data_preprocessor={{_base_.model.data_preprocessor}})
