"""The released encoders of the methods PAL compares against, with their native input.

Every entry names where its architecture, input settings and weights were read (the
method's official repository, file and commit, looked up with the project's code search
on 2026-11-26) and says plainly which fields could not be verified there. Mean and std
are on the 0-255 scale used by the extractor (ImageNet: 0.485/0.456/0.406 and
0.229/0.224/0.225 times 255; torchvision's Kinetics video statistics likewise).

``input_size`` is the (height, width) every frame is resized to; ``crop`` the centre crop
the network sees (a square side), as in each method's test transform (resize, then
centre crop). Frames and crop together are the *native input*: the one FLOPs/clip is
counted at (``pal-eval flops --encoders``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
#: torchvision's video models (Kinetics statistics): 0.43216, 0.394666, 0.37645 /
#: 0.22803, 0.22145, 0.216989, times 255.
KINETICS_MEAN = (110.2008, 100.63983, 95.99475)
KINETICS_STD = (58.14765, 56.46975, 55.332195)


@dataclass(frozen=True)
class EncoderSpec:
    """One released encoder.

    Attributes:
        name: Registry key (``--encoder NAME``).
        method: The pretraining method (also the ``pretext`` in ``meta.json``).
        architecture: Human-readable architecture.
        model: ``dict(type=...)`` building the backbone from ``mmaction.registry.MODELS``.
        frames_per_clip: Native clip length.
        frame_interval: Native frame stride inside a clip.
        input_size: Resize before cropping, ``(height, width)``.
        crop: Centre-crop side the network sees.
        mean: RGB mean, 0-255.
        std: RGB std, 0-255.
        feature_dim: Channels of the last feature map.
        source: ``repo``, ``file``, ``commit`` of the architecture definition.
        input_source: Where the input settings were read.
        weights_url: The official download.
        weights_file: The file name it downloads as (matched to pick the method).
        prefixes: State-dict prefixes its checkpoints put before the backbone's keys.
        pretrain_data: What it was pretrained on.
        unverified: Fields that could not be verified in the official sources.
    """

    name: str
    method: str
    architecture: str
    model: dict
    frames_per_clip: int
    frame_interval: int
    input_size: tuple[int, int]
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_dim: int
    source: dict
    input_source: str
    weights_url: str
    weights_file: str
    prefixes: tuple[str, ...] = ('',)
    pretrain_data: str = 'Kinetics-400'
    unverified: tuple[str, ...] = field(default_factory=tuple)

    def meta(self) -> dict:
        """Encoder metadata in the format of exported backbones (see ``export.py``)."""
        return {'arch': self.name, 'backbone_cfg': dict(self.model), 'pretext': self.method,
                'data': self.pretrain_data, 'frames_per_clip': self.frames_per_clip,
                'frame_interval': self.frame_interval, 'input_size': list(self.input_size),
                'crop': self.crop, 'mean': list(self.mean), 'std': list(self.std),
                'feature_dim': self.feature_dim, 'weights_url': self.weights_url}

    def to_dict(self) -> dict:
        """Everything, JSON-ready."""
        return asdict(self)


_COCLR = dict(repo='TengdaHan/CoCLR', file='backbone/s3dg.py',
              commit='7e392dae6afb8f463c410c0e78f542828d77b29c')
_TORCHVISION = dict(repo='pytorch/vision', file='torchvision/models/video/resnet.py',
                    commit='0614eaca7e3ed8f3585d6f48e2e5398f3d2351af')
_RSPNET = 'PeihaoChen/RSPNet'
_RSPNET_COMMIT = '01a37c0820f080c46539ebcb3ae4028bde2c36c8'
_RSPNET_RELEASE = 'https://github.com/PeihaoChen/RSPNet/releases/download/pretrained_model/'

ENCODERS: dict[str, EncoderSpec] = {spec.name: spec for spec in (
    EncoderSpec(
        name='coclr_s3d', method='coclr', architecture='S3D',
        model=dict(type='CoCLRS3D'), frames_per_clip=32, frame_interval=1,
        input_size=(128, 171), crop=128, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        feature_dim=1024, source=_COCLR,
        input_source='TengdaHan/CoCLR README.md (c4ecba6a): --seq_len 32 --ds 1; '
                     'eval/main_classifier.py (5fc6258c): --img_dim 128, ImageNet Normalize',
        weights_url='http://www.robots.ox.ac.uk/~htd/coclr/CoCLR-k400-rgb-128-s3d.pth.tar',
        weights_file='CoCLR-k400-rgb-128-s3d.pth.tar',
        prefixes=('encoder_q.0.', 'module.encoder_q.0.', 'backbone.', ''),
        unverified=('input_size (resize before the 128 centre crop)',)),
    EncoderSpec(
        name='xdc_r2plus1d_18', method='xdc', architecture='R(2+1)D-18 (torchvision layout)',
        model=dict(type='VideoResNet2Plus1D'), frames_per_clip=32, frame_interval=1,
        input_size=(128, 171), crop=112, mean=KINETICS_MEAN, std=KINETICS_STD,
        feature_dim=512, source={**_TORCHVISION, 'via': 'HumamAlwassel/XDC xdc.py (b8813739)'},
        input_source='not stated in HumamAlwassel/XDC (README points to VMZ); torchvision '
                     'video statistics assumed',
        weights_url='https://github.com/HumamAlwassel/XDC/releases/download/model_weights/'
                    'r2plus1d_18_xdc_ig65m_kinetics-f24f6ffb.pth',
        weights_file='r2plus1d_18_xdc_ig65m_kinetics-f24f6ffb.pth',
        prefixes=('', 'module.'), pretrain_data='IG-Kinetics (IG65M)',
        unverified=('frames_per_clip', 'input_size', 'crop', 'mean', 'std')),
    EncoderSpec(
        name='videomoco_r2plus1d_18', method='videomoco',
        architecture='R(2+1)D-18 (torchvision layout)',
        model=dict(type='VideoResNet2Plus1D'), frames_per_clip=32, frame_interval=1,
        input_size=(128, 171), crop=112, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        feature_dim=512, source={**_TORCHVISION, 'via': 'tinapan-pt/VideoMoCo train.py '
                                 '(0ed0a132): torchvision.models.video'},
        input_source='tinapan-pt/VideoMoCo README.md (6f7f2a98): -a r2plus1d_18 -fpc 32; '
                     'train.py: crop 112; eval.py: ImageNet NormalizeVideo, CenterCrop',
        weights_url='https://drive.google.com/file/d/1DzA5Yn43x9ZuirX2jV8CuhhqCnSYky0x',
        weights_file='r2d_200.pth.tar',
        prefixes=('module.encoder_q.', 'encoder_q.', ''),
        unverified=('input_size (resize before the 112 centre crop)',
                    'weights_file (a Google Drive link; the repo holds model/r2d_200.pth.tar)')),
    EncoderSpec(
        name='rspnet_s3dg', method='rspnet', architecture='S3D-G',
        model=dict(type='RSPNetS3DG'), frames_per_clip=16, frame_interval=1,
        input_size=(256, 341), crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        feature_dim=1024, source=dict(repo=_RSPNET, file='models/s3dg.py', commit=_RSPNET_COMMIT),
        input_source='PeihaoChen/RSPNet config/pretrain/s3dg.jsonnet + moco-train-base.jsonnet: '
                     'size 224, 16 frames per clip; config/dataset/normalization.libsonnet',
        weights_url=_RSPNET_RELEASE + 'model_best_s3dg_200epoch.pth.tar',
        weights_file='model_best_s3dg_200epoch.pth.tar',
        prefixes=('module.encoder_q.encoder.', 'encoder_q.encoder.', 'module.encoder.',
                  'encoder.', ''),
        unverified=('input_size (resize before the 224 centre crop)',
                    'prefixes (checkpoint wrapper inferred from moco/split_wrapper.py)')),
    EncoderSpec(
        name='rspnet_r2plus1d', method='rspnet', architecture='R(2+1)D (VCOP layout, 1-1-1-1)',
        model=dict(type='VCOPR2Plus1D'), frames_per_clip=16, frame_interval=1,
        input_size=(128, 171), crop=112, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        feature_dim=512,
        source=dict(repo=_RSPNET, file='models/r2plus1d_vcop.py', commit=_RSPNET_COMMIT),
        input_source='PeihaoChen/RSPNet config/pretrain/r2plus1d.jsonnet: size 112, 16 frames',
        weights_url=_RSPNET_RELEASE + 'model_best_r21d_200epoch.pth.tar',
        weights_file='model_best_r21d_200epoch.pth.tar',
        prefixes=('module.encoder_q.encoder.', 'encoder_q.encoder.', 'module.encoder.',
                  'encoder.', ''),
        unverified=('input_size (resize before the 112 centre crop)', 'prefixes')),
    EncoderSpec(
        name='rspnet_c3d', method='rspnet', architecture='C3D (with BatchNorm)',
        model=dict(type='RSPNetC3D'), frames_per_clip=16, frame_interval=1,
        input_size=(128, 171), crop=112, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        feature_dim=512, source=dict(repo=_RSPNET, file='models/c3d.py', commit=_RSPNET_COMMIT),
        input_source='PeihaoChen/RSPNet config/pretrain/c3d.jsonnet + moco-train-base.jsonnet: '
                     'size 112, 16 frames',
        weights_url=_RSPNET_RELEASE + 'model_best_c3d_200epoch.pth.tar',
        weights_file='model_best_c3d_200epoch.pth.tar',
        prefixes=('module.encoder_q.encoder.', 'encoder_q.encoder.', 'module.encoder.',
                  'encoder.', ''),
        unverified=('input_size (resize before the 112 centre crop)', 'prefixes')),
)}


def get_spec(name: str) -> EncoderSpec:
    """The registered encoder ``name``.

    Raises:
        PalEvalError: unknown name (the message lists the known ones).
    """
    from pal_eval.errors import PalEvalError

    if name not in ENCODERS:
        raise PalEvalError(f'unknown encoder {name!r}; registered: {", ".join(ENCODERS)}')
    return ENCODERS[name]
