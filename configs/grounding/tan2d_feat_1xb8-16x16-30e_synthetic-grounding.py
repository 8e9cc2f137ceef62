# 2D-TAN, CPU-sized, on the synthetic benchmark's grounding splits (sentences name the
# colour, shape and motion of the object): 16 clips, hidden 64, 2 map convolutions of
# kernel 3, a 1-layer LSTM over 32-d learned word embeddings (no GloVe file), batch 8.
# Train on `train`, select the checkpoint on `val`, report on `test`.
# Schedule (measured, docs/calibration.md): Adam 3e-3 for 30 epochs (1.3k steps): oracle
# R@1,IoU=0.5 on `test` 55.9 / 55.0 (seeds 0 / 1) with the official MapConv; 1e-3 x 20
# epochs gave only 42.7, and the former 1e-2 x 4 epochs (96 steps) ranked the whole-video
# cell first for almost every query.
# Layout: `pal-eval synth --out data/synthetic`, then
# `pal-eval extract ... --out data/synthetic/features/pal` (see the README, "Grounding").
_base_ = ['../_base_/default_runtime.py', '../_base_/models/tan2d.py',
          '../_base_/datasets/synthetic-grounding-features_16clips.py',
          '../_base_/schedules/adam_100e.py']

model = dict(num_clips={{_base_.num_clips}}, clip_pool=1,
             hidden_dim=64, map_layers=2, map_kernel=3, map_padding=None, word_dim=32,
             word_vectors=None, tokenizer='words',  # learned embeddings: no GloVe file
             lstm_layers=1, lstm_hidden=64, nms_thresh=0.5,
             vocabulary=dict(ann_file={{_base_.vocabulary_file}}))
test_evaluator = dict(dump_path='predictions.json')
train_cfg = dict(max_epochs=30, val_begin=5, val_interval=5)
optim_wrapper = dict(optimizer=dict(lr=3e-3), clip_grad=None)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(save_best='R@1,IoU=0.5', rule='greater'))
