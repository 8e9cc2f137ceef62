"""Key names and shapes of the released encoders, derived from the official definitions.

Written by reading each official model file (named in :data:`SOURCES`) and listing what
its ``state_dict()`` holds: module attribute names in the order the official ``__init__``
registers them, ``nn.Sequential`` indices, duplicated registrations (CoCLR registers every
layer twice), heads and training wrappers. This is deliberately *not* built from
``pal_eval.encoders``: the tests check our modules against this independent reading.

``python tests/encoders/official_layouts.py`` rewrites ``tests/fixtures/encoders/*.txt``
(one ``key<TAB>shape`` line per tensor), which is what the tests read.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'encoders'

SOURCES = {
    'coclr_s3d': 'TengdaHan/CoCLR backbone/s3dg.py @7e392dae (S3D, gating=False); '
                 'wrapped as model/pretrain.py CoCLR: encoder_q = Sequential(backbone, pool, '
                 'Conv3d, ReLU, Conv3d), encoder_k, sampler, queues',
    'xdc_r2plus1d_18': 'pytorch/vision torchvision/models/video/resnet.py @0614eaca '
                       'r2plus1d_18 (num_classes=400), as loaded by HumamAlwassel/XDC xdc.py',
    'videomoco_r2plus1d_18': 'pytorch/vision torchvision/models/video/resnet.py @0614eaca '
                             'r2plus1d_18 wrapped by tinapan-pt/VideoMoCo moco/builder.py MoCo '
                             '(encoder_q / encoder_k with fc -> 128, queue) under DDP module.',
    'rspnet_s3dg': 'PeihaoChen/RSPNet models/s3dg.py @01a37c08 S3D_G inside '
                   'moco/split_wrapper.py MultiTaskWrapper (encoder, fc1, fc2) inside '
                   'moco/builder_diffspeed_diffloss.py MoCoDiffLossTwoFc under DDP module.',
    'rspnet_r2plus1d': 'PeihaoChen/RSPNet models/r2plus1d_vcop.py @01a37c08 '
                       'R2Plus1DNet((1,1,1,1), with_classifier=True) in the same wrappers',
    'rspnet_c3d': 'PeihaoChen/RSPNet models/c3d.py @01a37c08 C3D(with_classifier=True) in '
                  'the same wrappers',
}


def bn(prefix: str, channels: int) -> list:
    return [(f'{prefix}.{name}', (channels,)) for name in
            ('weight', 'bias', 'running_mean', 'running_var')] + \
        [(f'{prefix}.num_batches_tracked', ())]


# ----------------------------------------------------------------------------- CoCLR

def coclr_stconv(p, cin, cout, k):
    return [(f'{p}.conv1.weight', (cout, cin, 1, k, k)), *bn(f'{p}.bn1', cout),
            (f'{p}.conv2.weight', (cout, cout, k, 1, 1)), *bn(f'{p}.bn2', cout)]


def coclr_basic(p, cin, cout):
    return [(f'{p}.conv.weight', (cout, cin, 1, 1, 1)), *bn(f'{p}.bn', cout)]


def coclr_inception(p, cin, o):
    return [*coclr_basic(f'{p}.branch0.0', cin, o[0]),
            *coclr_basic(f'{p}.branch1.0', cin, o[1]),
            *coclr_stconv(f'{p}.branch1.1', o[1], o[2], 3),
            *coclr_basic(f'{p}.branch2.0', cin, o[3]),
            *coclr_stconv(f'{p}.branch2.1', o[3], o[4], 3),
            *coclr_basic(f'{p}.branch3.1', cin, o[5])]


#: Inception widths of backbone/s3dg.py (CoCLR) and models/s3dg.py (RSPNet), read from each.
MIXED = {'3b': (192, [64, 96, 128, 16, 32, 32]), '3c': (256, [128, 128, 192, 32, 96, 64]),
         '4b': (480, [192, 96, 208, 16, 48, 64]), '4c': (512, [160, 112, 224, 24, 64, 64]),
         '4d': (512, [128, 128, 256, 24, 64, 64]), '4e': (512, [112, 144, 288, 32, 64, 64]),
         '4f': (528, [256, 160, 320, 32, 128, 128]),
         '5b': (832, [256, 160, 320, 32, 128, 128]),
         '5c': (832, [384, 192, 384, 48, 128, 128])}


#: CoCLR's ``blockN`` Sequentials and the named layers they hold again (index -> name).
COCLR_BLOCKS = {'block1': {0: 'Conv_1a'}, 'block2': {1: 'Conv_2b', 2: 'Conv_2c'},
                'block3': {1: 'Mixed_3b', 2: 'Mixed_3c'},
                'block4': {i: f'Mixed_4{c}' for i, c in enumerate('bcdef', start=1)},
                'block5': {1: 'Mixed_5b', 2: 'Mixed_5c'}}


def coclr_s3d() -> list:
    """``S3D()`` of backbone/s3dg.py: named layers, then each ``blockN`` Sequential again."""
    mixed = MIXED
    layers = {'Conv_1a': coclr_stconv('Conv_1a', 3, 64, 7),
              'Conv_2b': coclr_basic('Conv_2b', 64, 64),
              'Conv_2c': coclr_stconv('Conv_2c', 64, 192, 3)}
    layers.update({f'Mixed_{k}': coclr_inception(f'Mixed_{k}', *v) for k, v in mixed.items()})
    keys = [item for entries in layers.values() for item in entries]
    for block, members in COCLR_BLOCKS.items():
        for index, layer in members.items():
            keys += [(f'{block}.{index}.' + k[len(layer) + 1:], s) for k, s in layers[layer]]
    return keys


def coclr_checkpoint() -> list:
    backbone = coclr_s3d()
    # encoder_q = Sequential(backbone, AdaptiveAvgPool3d, Conv3d, ReLU, Conv3d)
    head = [('2.weight', (1024, 1024, 1, 1, 1)), ('2.bias', (1024,)),
            ('4.weight', (128, 1024, 1, 1, 1)), ('4.bias', (128,))]
    encoder = [(f'0.{k}', s) for k, s in backbone] + head
    keys = [(f'{net}.{k}', s) for net in ('encoder_q', 'encoder_k', 'sampler') for k, s in encoder]
    return keys + [('queue', (128, 16384)), ('queue_ptr', (1,)), ('queue_second', (128, 16384)),
                   ('queue_vname', (16384,)), ('queue_label', (16384,))]


# ----------------------------------------------------------------------------- torchvision

def tv_r2plus1d_18(num_classes=400) -> list:
    keys = [('stem.0.weight', (45, 3, 1, 7, 7)), *bn('stem.1', 45),
            ('stem.3.weight', (64, 45, 3, 1, 1)), *bn('stem.4', 64)]
    inplanes = 64
    for layer, planes in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            cin = inplanes if block == 0 else planes
            mid = (cin * planes * 27) // (cin * 9 + 3 * planes)  # BasicBlock.__init__
            p = f'layer{layer}.{block}'
            keys += [(f'{p}.conv1.0.0.weight', (mid, cin, 1, 3, 3)), *bn(f'{p}.conv1.0.1', mid),
                     (f'{p}.conv1.0.3.weight', (planes, mid, 3, 1, 1)), *bn(f'{p}.conv1.1', planes),
                     (f'{p}.conv2.0.0.weight', (mid, planes, 1, 3, 3)), *bn(f'{p}.conv2.0.1', mid),
                     (f'{p}.conv2.0.3.weight', (planes, mid, 3, 1, 1)), *bn(f'{p}.conv2.1', planes)]
            if block == 0 and (layer > 1):
                keys += [(f'{p}.downsample.0.weight', (planes, cin, 1, 1, 1)),
                         *bn(f'{p}.downsample.1', planes)]
        inplanes = planes
    return keys + [('fc.weight', (num_classes, 512)), ('fc.bias', (num_classes,))]


def videomoco_checkpoint() -> list:
    encoder = tv_r2plus1d_18(num_classes=128)
    keys = [(f'module.{net}.{k}', s) for net in ('encoder_q', 'encoder_k') for k, s in encoder]
    return keys + [('module.queue', (128, 65536)), ('module.queue_ptr', (1,))]


# ----------------------------------------------------------------------------- RSPNet

def rsp_basic(p, cin, cout, kernel):
    return [(f'{p}.conv3d.weight', (cout, cin, *kernel)), *bn(f'{p}.bn', cout)]


def rsp_sepconv(p, cin, cout, k):
    return [*rsp_basic(f'{p}.sep_conv.0', cin, cout, (1, k, k)),
            *rsp_basic(f'{p}.sep_conv.1', cout, cout, (k, 1, 1)),
            (f'{p}.excitation.weight', (cout, cout, 1, 1, 1)), (f'{p}.excitation.bias', (cout,))]


def rsp_inc(p, cin, o):
    one = (1, 1, 1)
    return [*rsp_basic(f'{p}.branch0', cin, o[0], one),
            *rsp_basic(f'{p}.branch1.0', cin, o[1], one),
            *rsp_sepconv(f'{p}.branch1.1', o[1], o[2], 3),
            *rsp_basic(f'{p}.branch2.0', cin, o[3], one),
            *rsp_sepconv(f'{p}.branch2.1', o[3], o[4], 3),
            *rsp_basic(f'{p}.branch3.1', cin, o[5], one)]


def rspnet_s3dg(num_classes=1) -> list:
    f = 'feature'
    keys = [*rsp_sepconv(f'{f}.sepConv1', 3, 64, 7),
            *rsp_basic(f'{f}.basicConv3d', 64, 64, (1, 1, 1)),
            *rsp_sepconv(f'{f}.sep_conv2', 64, 192, 3)]
    for name, (cin, o) in MIXED.items():  # the same widths in models/s3dg.py
        keys += rsp_inc(f'{f}.sepInc_{name}', cin, o)
    return keys + [('fc.weight', (num_classes, 1024)), ('fc.bias', (num_classes,))]


def vcop_stconv(p, cin, cout, kernel, ):
    kt, kh, kw = kernel
    mid = int(math.floor((kt * kh * kw * cin * cout) / (kh * kw * cin + kt * cout)))
    return [(f'{p}.spatial_conv.weight', (mid, cin, 1, kh, kw)), *bn(f'{p}.bn', mid),
            (f'{p}.temporal_conv.weight', (cout, mid, kt, 1, 1))]


def vcop_r2plus1d(num_classes=1) -> list:
    keys = [*vcop_stconv('conv1', 3, 64, (3, 7, 7)), *bn('bn1', 64)]
    for layer, (cin, cout, down) in zip((2, 3, 4, 5), ((64, 64, False), (64, 128, True),
                                                         (128, 256, True), (256, 512, True))):
        p = f'conv{layer}.block1'
        if down:
            keys += [*vcop_stconv(f'{p}.downsampleconv', cin, cout, (1, 1, 1)),
                     *bn(f'{p}.downsamplebn', cout)]
        keys += [*vcop_stconv(f'{p}.conv1', cin, cout, (3, 3, 3)), *bn(f'{p}.bn1', cout),
                 *vcop_stconv(f'{p}.conv2', cout, cout, (3, 3, 3)), *bn(f'{p}.bn2', cout)]
    return keys + [('linear.weight', (num_classes, 512)), ('linear.bias', (num_classes,))]


def rspnet_c3d(num_classes=1) -> list:
    keys = []
    for name, cin, cout in (('1', 3, 64), ('2', 64, 128), ('3a', 128, 256), ('3b', 256, 256),
                            ('4a', 256, 512), ('4b', 512, 512), ('5a', 512, 512), ('5b', 512, 512)):
        keys += [(f'conv{name}.weight', (cout, cin, 3, 3, 3)), (f'conv{name}.bias', (cout,)),
                 *bn(f'bn{name}', cout)]
    return keys + [('linear.weight', (num_classes, 512)), ('linear.bias', (num_classes,))]


def rspnet_checkpoint(backbone: list, feat_dim: int) -> list:
    """DDP(MoCoDiffLossTwoFc(MultiTaskWrapper(net))): encoder_q / encoder_k, fc1 / fc2."""
    wrapper = [(f'encoder.{k}', s) for k, s in backbone] + \
        [(f'{fc}.2.{w}', (128, feat_dim) if w == 'weight' else (128,))
         for fc in ('fc1', 'fc2') for w in ('weight', 'bias')]
    keys = [(f'module.{net}.{k}', s) for net in ('encoder_q', 'encoder_k') for k, s in wrapper]
    return keys + [('module.queue', (128, 16384)), ('module.queue_ptr', (1,))]


LAYOUTS = {
    'coclr_s3d': coclr_checkpoint,
    'xdc_r2plus1d_18': tv_r2plus1d_18,
    'videomoco_r2plus1d_18': videomoco_checkpoint,
    'rspnet_s3dg': lambda: rspnet_checkpoint(rspnet_s3dg(), 1024),
    'rspnet_r2plus1d': lambda: rspnet_checkpoint(vcop_r2plus1d(), 512),
    'rspnet_c3d': lambda: rspnet_checkpoint(rspnet_c3d(), 512),
}


def write_fixtures() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, layout in LAYOUTS.items():
        lines = [f'# {name}: state dict of the released checkpoint, derived from',
                 f'# {SOURCES[name]}']
        lines += [f'{key}\t{",".join(map(str, shape))}' for key, shape in layout()]
        (FIXTURES / f'{name}.txt').write_text('\n'.join(lines) + '\n')


def read_fixture(name: str) -> list[tuple[str, tuple[int, ...]]]:
    """``[(key, shape)]`` of a fixture file."""
    rows = []
    for line in (FIXTURES / f'{name}.txt').read_text().splitlines():
        if line and not line.startswith('#'):
            key, _, shape = line.partition('\t')
            rows.append((key, tuple(int(v) for v in shape.split(',') if v)))
    return rows


if __name__ == '__main__':
    write_fixtures()
    sys.exit(0)
