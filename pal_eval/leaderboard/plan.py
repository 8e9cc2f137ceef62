"""Leaderboard plans: which stage commands reproduce which row, in which order.

A *spec* (a YAML file, or the built-in :data:`FULL_SCALE_SPEC` / :func:`synthetic_spec`)
names the data, the encoders and the rows; :func:`build_plan` turns it into an ordered
list of :class:`Stage` objects, each one shell command of a stage CLI (``mim train`` /
``mim test``, ``pal-eval export-backbone``, ``pal-eval extract``, ``pal-eval evaluate``)
with the files it reads and writes. Stages shared by several rows (one PAL pretraining
feeds every PAL row) appear once. ``plan`` prints the commands, ``--dry-run`` checks the
inputs (:mod:`pal_eval.leaderboard.layout`), ``run`` executes them resumably
(:mod:`pal_eval.leaderboard.runner`).

Spec schema (strings may use ``{data_root}`` and ``{work_dir}``)::

    data:                    # data set name -> paths
      activitynet: {videos: DIR, annotations: FILE, subset: validation,
                    extract_config: CONFIG, features: DIR (optional, pre-extracted),
                    train_annotations: FILE (optional, default: annotations),
                    train_subset: training (optional: the subset floors learn from),
                    val_annotations: FILE (optional, default: annotations; the file
                                     heads select their checkpoint on),
                    class_scores: FILE (optional, video-level class scores),
                    blocked_videos: FILE (optional; evaluate --blocked-videos for the
                    rows whose references used a blocked list, see below)}
    encoders:                # encoder name -> how its backbone is obtained
      pal: {pretrain_config: CONFIG, gpus: 8,     # mim train + export-backbone
            cfg_options: {KEY: VALUE}}            # e.g. the unlabeled data's root
      random: {}                                  # random init, no pretraining
      tsp: {features_only: true}                  # only rows with data.<set>.features
      tac: {pretrain_config: CONFIG, export: false}   # a recognizer: its checkpoint is
                                                  # the extract --checkpoint (no export)
      coclr: {checkpoint: FILE, encoder: coclr_s3d,   # released weights (--dry-run names
              extract_config: {activitynet: CONFIG}}  # a missing file); per-set configs
      oracle: {oracle: true}                      # pal-eval calibrate oracle (ceiling)
      floor: {floor: true}                        # pal-eval calibrate floor, no head
    calibration: true        # default: add a floor and an oracle row for every
                             # (data set, task, head config) of the rows
    rows:
      - id: pal_gtad_anet         # results land in {work_dir}/results/<id>/metrics.json
        encoder: pal
        dataset: activitynet
        task: detection           # detection | proposal | grounding
        head_config: CONFIG
        cfg_options: {KEY: VALUE} # replaces DEFAULT_HEAD_OPTIONS for mim train/test;
        extra_cfg_options: {...}  # added to them; {features}, {annotations},
                                  # {train_annotations}, {val_annotations},
                                  # {class_scores}, {predictions} are filled in per row
                                  # (model.feat_dim never: the head configs read it from
                                  # the features)
        checkpoint: last          # or best: test the config's save_best checkpoint
                                  # (only when it validates on a split not reported)
        reference: [gtad_tsp_anet_opentad]

Published features (:data:`PUBLISHED_FEATURE_ROWS`, part of the full-scale spec): rows of
encoder ``published`` (``features_only``) train the heads on a public release read in
place (``data.<set>.features``, the head config names its ``feature_source``); ``--dry-run``
names the release folder, annotation and score files a user still has to download.

ActivityNet blocked videos: a row is evaluated with ``--blocked-videos`` when its first
reference records ``blocked_videos: opentad`` in ``benchmarks/reference_results.yaml``
(OpenTAD's 4,728 validation videos); the data set must then give the list
(``blocked_videos``), and ``--dry-run`` reports it when the file is absent.
"""
from __future__ import annotations

import copy
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pal_eval.encoders.registry import ENCODERS
from pal_eval.errors import InputError

TASKS = ('detection', 'proposal', 'grounding')
#: the encoders of the calibration rows (pal_eval.calibration): no features, oracle features
FLOOR, ORACLE = 'floor', 'oracle'


@dataclass(frozen=True)
class Stage:
    """One resumable step of a leaderboard run.

    Attributes:
        id: Unique id, also the name of its completion stamp (``pretrain/pal``, ...).
        kind: ``pretrain``, ``export``, ``extract``, ``head`` or ``evaluate``.
        command: The shell command (paths quoted).
        outputs: Files or folders that must exist after a successful run.
        inputs: Files or folders the command reads that no earlier stage writes.
        configs: Config files the command reads.
        cfg_options: ``--cfg-options`` keys the command sets (checked by ``--dry-run``).
        needs: Ids of the stages that must run first.
    """

    id: str
    kind: str
    command: str
    outputs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    cfg_options: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Stages in execution order, plus what each leaderboard row needs."""

    stages: list[Stage]
    rows: dict[str, list[str]] = field(default_factory=dict)  # row id -> its stage ids
    results: dict[str, str] = field(default_factory=dict)     # row id -> metrics.json
    references: dict[str, list[str]] = field(default_factory=dict)  # row id -> reference ids
    annotations: dict[str, tuple[str, str]] = field(default_factory=dict)  # feature dir ->
    # (annotation file, subset) whose videos must all have features
    info: dict[str, dict] = field(default_factory=dict)  # row id -> encoder, dataset, task,
    # head_config, predictions, annotations, subset (what the calibrated tables read)
    head_configs: dict[str, str] = field(default_factory=dict)  # feature dir -> a head
    # config reading it (its feature_source says how: a published release read in place)

    def stage(self, stage_id: str) -> Stage:
        """The stage with id ``stage_id``."""
        return next(s for s in self.stages if s.id == stage_id)


def _configs() -> Path:
    from pal_eval.io import configs_root

    return configs_root()


def project_config(pattern: str) -> str:
    """The project config matching ``pattern`` (a glob under ``configs/``).

    Config names carry settings that still move (epochs, batch); matching on the stable
    part (``detection/gtad_*_synthetic.py``) keeps the plans valid. Returns the path
    relative to the working directory when possible; with no single match, the pattern
    itself (``--dry-run`` then reports the config as not found).

    Examples:
        >>> project_config('pretrain/pal_*_k400.py')
        'configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py'
    """
    matches = sorted(_configs().glob(pattern))
    if len(matches) != 1:
        return f'configs/{pattern}'
    try:
        return str(matches[0].relative_to(Path.cwd()))
    except ValueError:
        return str(matches[0])


#: where the pretraining configs take their unlabeled videos from
_UNLABELED_ROOT = 'train_dataloader.dataset.data_root'
#: ``--cfg-options`` a head run receives by default (the feature-dataset contract of
#: ``pal_eval/data/datasets``); a spec row's ``cfg_options`` replaces them. No
#: ``model.feat_dim``: the head configs read it from the features (FeatureAwareRunner).
DEFAULT_HEAD_OPTIONS = {
    'train_dataloader.dataset.feature_dir': '{features}',
    'val_dataloader.dataset.feature_dir': '{features}',
    'test_dataloader.dataset.feature_dir': '{features}',
    'train_dataloader.dataset.ann_file': '{train_annotations}',
    'val_dataloader.dataset.ann_file': '{val_annotations}',
    'test_dataloader.dataset.ann_file': '{annotations}',
    'val_evaluator.ann_file': '{val_annotations}',
    'test_evaluator.ann_file': '{annotations}',
    'test_evaluator.dump_path': '{predictions}',
}
#: extra options per head family (added to the defaults by the rows that use them)
GTAD_SYNTHETIC_OPTIONS = {  # class fusion from a classifier trained on the same features
    'model.class_fusion.feature_dir': '{features}',
    'model.class_fusion.ann_file': '{train_annotations}',
}
GTAD_OPTIONS = {  # class fusion from published video-level scores (CUHK, UntrimmedNet)
    'model.class_fusion.score_file': '{class_scores}',
    'model.class_fusion.ann_file': '{annotations}',
}
# Feature datasets join data_root to relative paths (feature_dir, ann_file, ...), and the
# 2D-TAN configs set one (data/<set>/; the BMN / G-TAD configs spell whole paths): the
# plan's paths are relative to where it runs, so the root is the working folder (without
# it a relative --work-dir reads data/synthetic/work_dirs/...).
TAN2D_OPTIONS = {'model.vocabulary.ann_file': '{train_annotations}',
                 **{f'{split}_dataloader.dataset.data_root': '.'
                    for split in ('train', 'val', 'test')}}
# The real-data 2D-TAN configs read frozen GloVe 6B-300d (never downloaded): the data root holds it.
TAN2D_GLOVE_OPTIONS = {**TAN2D_OPTIONS,
                       'model.word_vectors': '{data_root}/glove/glove.6B.300d.txt'}


#: The released encoders of PAL's comparison: leaderboard encoder name -> registry name.
RELEASED_ENCODERS = {'coclr': 'coclr_s3d', 'xdc': 'xdc_r2plus1d_18',
                     'videomoco': 'videomoco_r2plus1d_18', 'rspnet': 'rspnet_s3dg'}

#: The paper-scale reproduction (Kinetics-400 pretraining, real downstream data sets).
#: Config names follow the project's convention; edit a copy (``--spec``) to change them.
FULL_SCALE_SPEC: dict = {
    'data': {
        'kinetics400': {'videos': '{data_root}/kinetics400/videos_train'},
        'activitynet': {
            'videos': '{data_root}/activitynet/videos',
            'annotations': '{data_root}/activitynet/annotations/activity_net.v1-3.min.json',
            'class_scores': '{data_root}/activitynet/annotations/cuhk_val_simp_share.json',
            'blocked_videos': '{data_root}/activitynet/annotations/blocked.json',  # OpenTAD's
            'subset': 'validation',
            'extract_config':
                project_config('extraction/extract_*_activitynet.py')},
        'thumos14': {
            'videos': '{data_root}/thumos14/videos',
            'annotations': '{data_root}/thumos14/annotations/thumos14.json',
            'class_scores': '{data_root}/thumos14/annotations/uNet_test.npy',  # G-TAD's data/
            'subset': 'test',
            'train_subset': 'validation',  # THUMOS14 trains on its validation videos
            'extract_config':
                project_config('extraction/extract_*_thumos14.py')},
        'charades_sta': {
            'videos': '{data_root}/charades/videos',
            'annotations': '{data_root}/charades/annotations/charades_sta_test.txt',
            'train_annotations': '{data_root}/charades/annotations/charades_sta_train.txt',
            'subset': 'test',
            'extract_config':
                project_config('extraction/extract_*_charades-sta.py')},
        'activitynet_captions': {  # the ActivityNet videos, so their features are reused
            'annotations': '{data_root}/activitynet_captions/val_2.json',
            'train_annotations': '{data_root}/activitynet_captions/train.json',
            'val_annotations': '{data_root}/activitynet_captions/val_1.json',
            'subset': 'test',
            'features_from': 'activitynet'},
    },
    'encoders': {
        'pal': {'pretrain_config': project_config('pretrain/pal_*_k400.py'),
                'gpus': 8, 'cfg_options': {_UNLABELED_ROOT: '{data_root}/kinetics400'}},
        'mocov2': {
            'pretrain_config': project_config('pretrain/mocov2_*_k400.py'),
            'gpus': 8, 'cfg_options': {_UNLABELED_ROOT: '{data_root}/kinetics400'}},
        'random': {},
        # TAC, the supervised baseline: a Recognizer3D with the PAL encoder on K400 labels.
        'tac': {'pretrain_config': project_config('recognition/tac_*_k400.py'), 'gpus': 8,
                'export': False},
        # Released encoders (download each file to {data_root}/weights/), extracted with
        # equal features per video on PAL's grid.
        **{method: {'checkpoint': f'{{data_root}}/weights/{ENCODERS[name].weights_file}',
                    'encoder': name, 'extract_config': {
                        dataset: project_config(f'extraction/equal_features/*_{suffix}.py')
                        for dataset, suffix in (('activitynet', 'activitynet'),
                                                ('thumos14', 'thumos14'),
                                                ('charades_sta', 'charades-sta'))}}
           for method, name in RELEASED_ENCODERS.items()},
    },
    'rows': [
        row for encoder in ('pal', 'mocov2', 'random', 'tac', *RELEASED_ENCODERS) for row in (
            {'id': f'{encoder}_bmn_anet', 'encoder': encoder, 'dataset': 'activitynet',
             'task': 'proposal',
             'head_config': project_config('proposal/bmn_*_activitynet.py'),
             'reference': ['bmn_tsn_anet_proposal_paper', 'bmn_tsp_anet_proposal_opentad']},
            {'id': f'{encoder}_gtad_anet', 'encoder': encoder, 'dataset': 'activitynet',
             'task': 'detection',
             'head_config': project_config('detection/gtad_*_activitynet.py'),
             'extra_cfg_options': GTAD_OPTIONS,
             'reference': ['gtad_tsn_anet_paper', 'gtad_tsp_anet_opentad']},
            {'id': f'{encoder}_gtad_thumos14', 'encoder': encoder, 'dataset': 'thumos14',
             'task': 'detection',
             'head_config': project_config('detection/gtad_*_thumos14.py'),
             'extra_cfg_options': GTAD_OPTIONS,
             'reference': ['gtad_tsn_thumos14_opentad']},
            {'id': f'{encoder}_tan2d_charades', 'encoder': encoder, 'dataset': 'charades_sta',
             'task': 'grounding',
             'head_config': project_config('grounding/tan2d_*_charades-sta.py'),
             'extra_cfg_options': TAN2D_GLOVE_OPTIONS,
             'reference': ['tan2d_pool_charades_sta']},
            {'id': f'{encoder}_tan2d_anet_captions', 'encoder': encoder,
             'dataset': 'activitynet_captions', 'task': 'grounding',
             'head_config': project_config('grounding/tan2d_*_activitynet-captions.py'),
             'extra_cfg_options': TAN2D_GLOVE_OPTIONS,
             'reference': ['tan2d_pool_anet_captions']},
        )
    ],
}


#: Public feature releases the published-feature rows train on, read in place (each head
#: config's header gives the layout; configs/_base_/features/ the grid and the source).
PUBLISHED_FEATURE_DATA: dict = {
    'activitynet_tsn_bsn': {  # BSN / mmaction2 TSN csv_mean_100 + mmaction2's split files
        'features': '{data_root}/activitynet/features/tsn_bsn',
        'annotations': '{data_root}/activitynet/annotations/anet_anno_val.json',
        'train_annotations': '{data_root}/activitynet/annotations/anet_anno_train.json',
        'class_scores': '{data_root}/activitynet/annotations/cuhk_val_simp_share.json',
        'blocked_videos': '{data_root}/activitynet/annotations/blocked.json',
        'subset': 'validation'},
    'activitynet_tsp': {      # TSP's per-split HDF5 files + the official ground truth
        'features': '{data_root}/activitynet/features/tsp',
        'annotations': '{data_root}/activitynet/annotations/activity_net.v1-3.min.json',
        'class_scores': '{data_root}/activitynet/annotations/cuhk_val_simp_share.json',
        'blocked_videos': '{data_root}/activitynet/annotations/blocked.json',
        'subset': 'validation'},
    'thumos14_tsn_gtad': {    # G-TAD's {flow,rgb}_{val,test}.h5, its CSVs, uNet_test.npy
        'features': '{data_root}/thumos14/features/tsn_gtad',
        'annotations': '{data_root}/thumos14/annotations/test_Annotation.csv',
        'train_annotations': '{data_root}/thumos14/annotations/val_Annotation.csv',
        'class_scores': '{data_root}/thumos14/annotations/uNet_test.npy',
        'subset': 'test'},
    'charades_sta_vgg': {     # 2D-TAN's vgg_rgb_features.hdf5, Charades_v1_*.csv durations
        'features': '{data_root}/charades/features/tan2d_vgg',
        'annotations': '{data_root}/charades/annotations/charades_sta_test.txt',
        'train_annotations': '{data_root}/charades/annotations/charades_sta_train.txt',
        'durations': '{data_root}/charades/annotations/Charades_v1_test.csv',
        'train_durations': '{data_root}/charades/annotations/Charades_v1_train.csv',
        'subset': 'test'},
    'activitynet_captions_c3d': {  # the C3D HDF5 2D-TAN reads
        'features': '{data_root}/activitynet_captions/features/c3d',
        'annotations': '{data_root}/activitynet_captions/val_2.json',
        'train_annotations': '{data_root}/activitynet_captions/train.json',
        'subset': 'test'},
}
_DURATION_OPTIONS = {'train_dataloader.dataset.durations_file': '{train_durations}',
                     'val_dataloader.dataset.durations_file': '{durations}',
                     'test_dataloader.dataset.durations_file': '{durations}'}
#: Heads on public releases, compared with the numbers published on the same features.
PUBLISHED_FEATURE_ROWS: list = [
    {'id': 'published_bmn_tsn_anet', 'dataset': 'activitynet_tsn_bsn', 'task': 'proposal',
     'head_config': project_config('proposal/bmn_tsn-bsn_*_activitynet.py'),
     'reference': ['bmn_tsn_anet_proposal_paper', 'bmn_tsn_anet_proposal_opentad']},
    {'id': 'published_bmn_tsp_anet', 'dataset': 'activitynet_tsp', 'task': 'proposal',
     'head_config': project_config('proposal/bmn_tsp_*_activitynet.py'),
     'reference': ['bmn_tsp_anet_proposal_opentad']},
    {'id': 'published_gtad_tsn_anet', 'dataset': 'activitynet_tsn_bsn', 'task': 'detection',
     'head_config': project_config('detection/gtad_tsn-bsn_*_activitynet.py'),
     'extra_cfg_options': GTAD_OPTIONS,
     'reference': ['gtad_tsn_anet_paper', 'gtad_tsn_anet_opentad']},
    {'id': 'published_gtad_tsp_anet', 'dataset': 'activitynet_tsp', 'task': 'detection',
     'head_config': project_config('detection/gtad_tsp_*_activitynet.py'),
     'extra_cfg_options': GTAD_OPTIONS, 'reference': ['gtad_tsp_anet_opentad']},
    {'id': 'published_gtad_tsn_thumos14', 'dataset': 'thumos14_tsn_gtad', 'task': 'detection',
     'head_config': project_config('detection/gtad_tsn-gtad_*_thumos14.py'),
     'extra_cfg_options': GTAD_OPTIONS,
     'reference': ['gtad_tsn_thumos14_repo', 'gtad_tsn_thumos14_opentad']},
    {'id': 'published_tan2d_vgg_charades', 'dataset': 'charades_sta_vgg', 'task': 'grounding',
     'head_config': project_config('grounding/tan2d_vgg_*_charades-sta.py'),
     'extra_cfg_options': {**TAN2D_GLOVE_OPTIONS, **_DURATION_OPTIONS},
     'reference': ['tan2d_pool_charades_sta']},
    {'id': 'published_tan2d_c3d_anet_captions', 'dataset': 'activitynet_captions_c3d',
     'task': 'grounding',
     'head_config': project_config('grounding/tan2d_c3d_*_activitynet-captions.py'),
     'extra_cfg_options': TAN2D_GLOVE_OPTIONS, 'reference': ['tan2d_pool_anet_captions']},
]
FULL_SCALE_SPEC['data'].update(PUBLISHED_FEATURE_DATA)
FULL_SCALE_SPEC['encoders']['published'] = {'features_only': True}
FULL_SCALE_SPEC['rows'] += [dict(row, encoder='published') for row in PUBLISHED_FEATURE_ROWS]

def synthetic_spec(synth_dir: str | os.PathLike, seed: int = 0) -> dict:
    """The CPU-sized spec on a synthetic benchmark folder (``pal-eval synth --out DIR``).

    Heads train on ``training``, select their checkpoint on ``validation`` and are
    reported on ``testing`` (grounding: ``train`` / ``val`` / ``test``).

    Args:
        synth_dir: The folder (layout in docs/DEVELOPING.md).
        seed: Seed of every training stage and of the random-init encoder. 0 is the
            configs' own seed (``randomness.seed=0``), so no option is added and the
            commands stay those of ``make demo``.

    Returns:
        A spec for :func:`build_plan` with the CPU configs and one row per
        (encoder, task): BMN proposals, G-TAD detection, 2D-TAN grounding;
        :func:`build_plan` adds the floor and oracle rows.
    """
    root = str(synth_dir)
    spec = {
        'data': {
            'unlabeled': {'videos': f'{root}/unlabeled'},
            'synthetic_anet': {
                'videos': f'{root}/videos',
                'annotations': f'{root}/annotations/activitynet.json',
                'subset': 'testing',
                'train_subset': 'training',
                'extract_config':
                project_config('extraction/extract_*_synthetic.py')},
            'synthetic_grounding': {
                'videos': f'{root}/videos',
                'annotations': f'{root}/annotations/grounding_test.json',
                'train_annotations': f'{root}/annotations/grounding_train.json',
                'val_annotations': f'{root}/annotations/grounding_val.json',
                'subset': 'test',
                'features_from': 'synthetic_anet'},
        },
        'encoders': {
            'pal': {'pretrain_config': project_config('pretrain/pal_*_synthetic.py'),
                    'gpus': 0, 'cfg_options': {_UNLABELED_ROOT: root}},
            'mocov2': {
                'pretrain_config': project_config('pretrain/mocov2_*_synthetic.py'),
                'gpus': 0, 'cfg_options': {_UNLABELED_ROOT: root}},
            'random': {},
        },
        'rows': [],
    }
    # TAC joins once the benchmark has the clips' labels (the generator writes them).
    with_tac = (Path(root) / 'unlabeled' / 'labels.txt').is_file()
    if with_tac:
        spec['encoders']['tac'] = {
            'pretrain_config': project_config('recognition/tac_*_synthetic.py'), 'gpus': 0,
            'export': False, 'cfg_options': {_UNLABELED_ROOT: root}}
    for encoder in ('pal', 'mocov2', 'random', *(['tac'] if with_tac else [])):
        spec['rows'] += [
            {'id': f'{encoder}_bmn_synthetic', 'encoder': encoder, 'dataset': 'synthetic_anet',
             'task': 'proposal', 'checkpoint': 'best',
             'head_config': project_config('proposal/bmn_*_synthetic.py')},
            {'id': f'{encoder}_gtad_synthetic', 'encoder': encoder, 'dataset': 'synthetic_anet',
             'task': 'detection', 'checkpoint': 'best',
             'head_config': project_config('detection/gtad_*_synthetic.py'),
             'extra_cfg_options': GTAD_SYNTHETIC_OPTIONS},
            {'id': f'{encoder}_tan2d_synthetic', 'encoder': encoder,
             'dataset': 'synthetic_grounding', 'task': 'grounding', 'checkpoint': 'best',
             'head_config': project_config('grounding/tan2d_*_synthetic-grounding.py'),
             'extra_cfg_options': TAN2D_OPTIONS},
        ]
    if seed:
        seeded = {'randomness.seed': int(seed)}
        for encoder in spec['encoders'].values():
            if 'pretrain_config' in encoder:
                encoder['cfg_options'] = {**encoder['cfg_options'], **seeded}
            else:
                encoder['seed'] = int(seed)
        for row in spec['rows']:
            row['extra_cfg_options'] = {**row.get('extra_cfg_options', {}), **seeded}
    return spec


def row_suffix(row: Mapping) -> str:
    """A row id without its encoder prefix: what rows of one head on one data set share.

    Examples:
        >>> row_suffix({'id': 'pal_bmn_anet', 'encoder': 'pal'})
        'bmn_anet'
    """
    prefix = f'{row["encoder"]}_'
    return row['id'][len(prefix):] if row['id'].startswith(prefix) else row['id']


def add_calibration_rows(spec: Mapping) -> dict:
    """The spec with a floor and an oracle row for every (data set, task, head config).

    The floor row (encoder ``floor``) scores the best fixed prediction learned from the
    training ground truth (``pal-eval calibrate floor``); the oracle row (encoder
    ``oracle``) trains the same head config on oracle features (``pal-eval calibrate
    oracle``). Rows are added after the spec's own rows of that head, with ids
    ``floor_<suffix>`` / ``oracle_<suffix>`` (:func:`row_suffix`); rows the spec already
    has are kept as they are. ``calibration: false`` in the spec turns this off.

    Examples:
        >>> spec = add_calibration_rows(FULL_SCALE_SPEC)
        >>> [r['id'] for r in spec['rows'] if r['id'].endswith('_bmn_anet')][-2:]
        ['floor_bmn_anet', 'oracle_bmn_anet']
    """
    spec = copy.deepcopy(dict(spec))
    if spec.get('calibration', True) is False:
        return spec
    encoders = spec.setdefault('encoders', {})
    encoders.setdefault(FLOOR, {'floor': True})
    encoders.setdefault(ORACLE, {'oracle': True})
    rows = spec.get('rows', [])
    present = {r.get('id') for r in rows}
    templates: dict[tuple, dict] = {}
    for row in rows:
        if row.get('encoder') in (FLOOR, ORACLE) or 'head_config' not in row:
            continue
        key = (row.get('dataset'), row.get('task'), row['head_config'])
        templates.setdefault(key, row)
    for template in templates.values():
        suffix = row_suffix(template)
        for encoder in (FLOOR, ORACLE):
            row_id = f'{encoder}_{suffix}'
            if row_id not in present:
                extra = {k: v for k, v in template.items()
                         if k not in ('id', 'encoder', 'reference')}
                rows.append({**extra, 'id': row_id, 'encoder': encoder})
                present.add(row_id)
    return spec


def build_plan(spec: Mapping, *, work_dir: str | os.PathLike, data_root: str = 'data',
               rows: list[str] | None = None, spec_path: str = '<spec>') -> Plan:
    """Expand a spec into ordered, de-duplicated stages.

    Args:
        spec: See the module docstring.
        work_dir: Every output goes under it.
        data_root: Fills ``{data_root}`` in the spec.
        rows: Keep only these row ids (default: all rows).
        spec_path: Named in errors.

    Returns:
        The plan.

    Raises:
        InputError: a row naming an unknown encoder / data set / task, an unknown row id
            in ``rows``, duplicated row ids.

    Examples:
        >>> plan = build_plan(FULL_SCALE_SPEC, work_dir='w', rows=['pal_gtad_anet'])
        >>> [s.kind for s in plan.stages]
        ['pretrain', 'export', 'extract', 'head', 'evaluate']
    """
    work = str(work_dir)
    check_spec(spec, spec_path)
    spec = _fill(add_calibration_rows(spec), {'{data_root}': data_root, '{work_dir}': work})
    data, encoders = spec.get('data', {}), spec.get('encoders', {})
    all_rows = spec.get('rows', [])
    ids = [r.get('id') for r in all_rows]
    for row_id in ids:
        if ids.count(row_id) > 1:
            raise InputError(spec_path, 'duplicated row id', record=str(row_id),
                             record_kind='row', field='id')
    if rows:
        unknown = sorted(set(rows) - set(ids))
        if unknown:
            raise InputError(spec_path, f'unknown row(s) {", ".join(unknown)}; known: '
                             f'{", ".join(ids)}', field='rows')
        all_rows = [r for r in all_rows if r['id'] in rows]
    stages: dict[str, Stage] = {}
    plan = Plan(stages=[])
    for row in all_rows:
        row_id = row['id']
        for key in ('encoder', 'dataset', 'task', 'head_config'):
            if key not in row:
                raise InputError(spec_path, 'missing', record=row_id, record_kind='row',
                                 field=key)
        if row['task'] not in TASKS:
            raise InputError(spec_path, f'must be one of {", ".join(TASKS)}', record=row_id,
                             record_kind='row', field='task')
        encoder, dataset = row['encoder'], row['dataset']
        if encoder not in encoders:
            raise InputError(spec_path, f'unknown encoder {encoder!r}', record=row_id,
                             record_kind='row', field='encoder')
        if dataset not in data:
            raise InputError(spec_path, f'unknown data set {dataset!r}', record=row_id,
                             record_kind='row', field='dataset')
        head_dir = f'{work}/heads/{row_id}'
        predictions = f'{head_dir}/predictions.json'
        if encoders[encoder].get('floor'):
            chain = _floor_stages(row, data, spec, work, spec_path)
            head = chain.pop()
            features = None
        else:
            chain = _feature_stages(encoder, encoders[encoder], dataset, data, work,
                                    spec_path, row_id, spec)
            features = chain[-1].outputs[0] if chain else _given_features(data, dataset)
            head = _head_stage(row, data[dataset], features, head_dir, predictions,
                               needs=tuple(s.id for s in chain[-1:]))
        results = f'{work}/results/{row_id}/metrics.json'
        blocked = _blocked_videos(row, data[dataset], dataset, spec_path)
        evaluate = _evaluate_stage(row, data[dataset], predictions, results, head.id, blocked)
        row_stages = [*chain, head, evaluate]
        for stage in row_stages:
            stages.setdefault(stage.id, stage)
        plan.rows[row_id] = [s.id for s in row_stages]
        plan.results[row_id] = results
        plan.references[row_id] = list(row.get('reference', []))
        plan.info[row_id] = {'encoder': encoder, 'dataset': dataset, 'task': row['task'],
                             'head_config': row['head_config'], 'predictions': predictions,
                             'annotations': data[dataset]['annotations'],
                             'subset': data[dataset].get('subset')}
        if features:
            plan.annotations[features] = (data[dataset]['annotations'],
                                          data[dataset].get('subset', ''))
            plan.head_configs.setdefault(features, row['head_config'])
    plan.stages.extend(stages.values())
    return plan


#: the keys each part of a spec accepts (schema in the module docstring)
SPEC_KEYS: dict[str, tuple[str, ...]] = {
    '': ('data', 'encoders', 'rows', 'calibration'),
    'data': ('videos', 'annotations', 'subset', 'train_subset', 'extract_config', 'features',
             'train_annotations', 'val_annotations', 'class_scores', 'features_from',
             'blocked_videos', 'durations', 'train_durations'),
    'encoders': ('pretrain_config', 'gpus', 'cfg_options', 'features_only', 'export',
                 'checkpoint', 'encoder', 'extract_config', 'seed', 'oracle', 'floor'),
    'rows': ('id', 'encoder', 'dataset', 'task', 'head_config', 'cfg_options',
             'extra_cfg_options', 'reference', 'checkpoint'),
}


def check_spec(spec: Mapping, spec_path: str) -> None:
    """Refuse unknown keys (a typo must not silently drop a setting) and names that
    are unsafe as folder names: row ids, encoder and data set names become paths under
    ``--work-dir`` (``results/<row id>``, ``features/<encoder>/<data set>``), so they
    follow the video-id rule (no path separator, no ``..``, no leading dot).

    Raises:
        InputError: naming the spec file, the entry and the key, with "did you mean".

    Examples:
        >>> check_spec({'rows': [{'id': '../../x'}]}, 'spec.yaml')
        Traceback (most recent call last):
        ...
        pal_eval.errors.InputError: spec.yaml, row '../../x', field 'id': unsafe name ...
    """
    from pal_eval.data.features import check_video_id
    from pal_eval.errors import check_known_keys

    def safe(name, kind: str, field: str) -> None:
        try:
            check_video_id(name)
        except InputError:
            raise InputError(spec_path, 'unsafe name (it becomes a folder under --work-dir: '
                             'no path separator, "..", leading dot or empty name)',
                             record=str(name), record_kind=kind, field=field) from None

    if not isinstance(spec, Mapping):
        raise InputError(spec_path, 'expected a mapping with "data", "encoders" and "rows"')
    check_known_keys(spec, SPEC_KEYS[''], spec_path)
    for part, kind in (('data', 'data set'), ('encoders', 'encoder')):
        entries = spec.get(part) or {}
        if not isinstance(entries, Mapping):
            raise InputError(spec_path, 'must be a mapping of names to settings', field=part)
        for name, entry in entries.items():
            safe(name, kind, part)
            if not isinstance(entry, Mapping):
                raise InputError(spec_path, 'must be a mapping of settings', record=str(name),
                                 record_kind=kind, field=part)
            check_known_keys(entry, SPEC_KEYS[part], spec_path, section=f'{part}.{name}')
    rows = spec.get('rows') or []
    if not isinstance(rows, list):
        raise InputError(spec_path, 'must be a list of rows', field='rows')
    for number, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InputError(spec_path, 'must be a mapping', record=str(number),
                             record_kind='row', field='rows')
        safe(row.get('id'), 'row', 'id')
        check_known_keys(row, SPEC_KEYS['rows'], spec_path, section=f'rows.{row["id"]}')


def _given_features(data: Mapping, dataset: str) -> str:
    source = data[dataset].get('features_from', dataset)
    return data[source].get('features', '')


def _task_of_datasets(spec: Mapping) -> dict[str, str]:
    """Data set -> the task its rows run (what kind of annotations it holds)."""
    return {row['dataset']: row['task'] for row in spec.get('rows', [])
            if 'dataset' in row and 'task' in row}


def _oracle_stage(source: str, data: Mapping, spec: Mapping, work: str, spec_path: str,
                  row_id: str) -> Stage:
    """``pal-eval calibrate oracle`` for one video set, from every file annotating it."""
    entry = data[source]
    tasks = _task_of_datasets(spec)
    action_files, grounding_files = [], []
    for name, other in data.items():
        if other.get('features_from', name) != source or name not in tasks:
            continue
        files = [other[k] for k in ('train_annotations', 'val_annotations', 'annotations')
                 if other.get(k)]
        target = grounding_files if tasks[name] == 'grounding' else action_files
        target += [f for f in files if f not in target]
    if entry.get('features'):  # pre-extracted features: their own time grid
        grid, grid_inputs, configs = f' --like {_q(entry["features"])}', [entry['features']], ()
    elif 'extract_config' in entry:
        grid = f' --extract-config {_q(entry["extract_config"])}' + (
            f' --videos {_q(entry["videos"])}' if entry.get('videos') else '')
        grid_inputs = [entry['videos']] if entry.get('videos') else []
        configs = (entry['extract_config'],)
    else:
        raise InputError(spec_path, 'missing (the oracle features follow its time grid; or '
                         'give data.<set>.features)', record=source, record_kind='data set',
                         field='extract_config')
    features = f'{work}/features/{ORACLE}/{source}'
    command = ('pal-eval calibrate oracle'
               + ''.join(f' --gt {_q(f)}' for f in action_files)
               + ''.join(f' --grounding {_q(f)}' for f in grounding_files)
               + f'{grid} --out {_q(features)} --overwrite')
    return Stage(id=f'{ORACLE}/{source}', kind='oracle', command=command, outputs=(features,),
                 inputs=tuple([*action_files, *grounding_files, *grid_inputs]),
                 configs=configs)


def _floor_stages(row: Mapping, data: Mapping, spec: Mapping, work: str,
                  spec_path: str) -> list[Stage]:
    """``pal-eval calibrate floor`` for one row (and the oracle stage for durations)."""
    entry = data[row['dataset']]
    predictions = f'{work}/heads/{row["id"]}/predictions.json'
    train = entry.get('train_annotations', entry['annotations'])
    options = f' --train-subset {_q(entry["train_subset"])}' if entry.get('train_subset') else ''
    if row['task'] != 'grounding' and entry.get('subset'):
        options += f' --subset {_q(entry["subset"])}'
    chain: list[Stage] = []
    if str(entry['annotations']).lower().endswith('.txt'):  # Charades-STA: no durations
        source = entry.get('features_from', row['dataset'])
        chain.append(_oracle_stage(source, data, spec, work, spec_path, row['id']))
        options += f' --durations-from {_q(chain[-1].outputs[0])}'
    command = (f'pal-eval calibrate floor {row["task"]} --train-gt {_q(train)} '
               f'--gt {_q(entry["annotations"])}{options} --out {_q(predictions)} --force')
    return [*chain, Stage(id=f'head/{row["id"]}', kind='floor', command=command,
                          outputs=(predictions,),
                          inputs=tuple(dict.fromkeys([train, entry['annotations']])),
                          needs=tuple(s.id for s in chain))]


def _feature_stages(encoder: str, enc: Mapping, dataset: str, data: Mapping, work: str,
                    spec_path: str, row_id: str, spec: Mapping | None = None) -> list[Stage]:
    """pretrain -> export -> extract for one (encoder, data set); [] for given features."""
    source = data[dataset].get('features_from', dataset)
    if enc.get('oracle'):
        return [_oracle_stage(source, data, spec or {}, work, spec_path, row_id)]
    if data[source].get('features') or enc.get('features_only'):
        if not data[source].get('features'):
            raise InputError(spec_path, f'encoder {encoder!r} needs data.{source}.features',
                             record=row_id, record_kind='row', field='encoder')
        return []
    stages: list[Stage] = []
    checkpoint, quoted, weights = 'random', None, ()
    if enc.get('checkpoint'):  # released weights, downloaded by the user
        checkpoint = enc['checkpoint']
        weights = (checkpoint,)
    if enc.get('pretrain_config'):
        config = enc['pretrain_config']
        pretrain_dir = f'{work}/pretrain/{encoder}'
        gpus = int(enc.get('gpus', 0))
        launcher = f' --gpus {gpus} --launcher pytorch' if gpus > 1 else ''
        options = dict(enc.get('cfg_options', {}))
        if options:
            launcher += ' --cfg-options ' + ' '.join(f'{k}={_q(str(v))}'
                                                     for k, v in options.items())
        stages.append(Stage(
            id=f'pretrain/{encoder}', kind='pretrain',
            # `--resume` without a path resumes from the work dir's last checkpoint, if any.
            command=f'mim train mmaction2 {_q(config)} --work-dir {_q(pretrain_dir)}{launcher}'
                    ' --resume',
            outputs=(f'{pretrain_dir}/last_checkpoint',), configs=(config,),
            cfg_options=tuple(options),
            inputs=tuple(v['videos'] for k, v in data.items()
                         if k in ('kinetics400', 'unlabeled') and 'videos' in v)))
        checkpoint = f'{pretrain_dir}/backbone.pth'
        if enc.get('export', True):
            stages.append(Stage(
                id=f'export/{encoder}', kind='export',
                command=f'pal-eval export-backbone "$(cat {_q(pretrain_dir + "/last_checkpoint")})"'
                        f' --out {_q(checkpoint)} --force',  # the plan owns its work dir
                outputs=(checkpoint,), needs=(stages[0].id,)))
        else:  # a recognizer checkpoint (TAC) is read by extract as it is
            quoted = f'"$(cat {_q(pretrain_dir + "/last_checkpoint")})"'
    entry = dict(data[source])
    per_set = enc.get('extract_config')
    if per_set:
        entry['extract_config'] = per_set.get(source, entry.get('extract_config')) \
            if isinstance(per_set, Mapping) else per_set
    for key in ('videos', 'extract_config'):
        if key not in entry:
            raise InputError(spec_path, 'missing (needed to extract features)', record=source,
                             record_kind='data set', field=key)
    features = f'{work}/features/{encoder}/{source}'
    seed = f' --seed {int(enc["seed"])}' if checkpoint == 'random' and 'seed' in enc else ''
    name = f' --encoder {_q(enc["encoder"])}' if enc.get('encoder') else ''
    stages.append(Stage(
        id=f'extract/{encoder}/{source}', kind='extract',
        command=f'pal-eval extract {_q(entry["extract_config"])} --checkpoint '
                f'{quoted or _q(checkpoint)}{name} '
                f'--videos {_q(entry["videos"])} --out {_q(features)}{seed}',
        outputs=(features,), inputs=(entry['videos'], *weights),
        configs=(entry['extract_config'],), needs=tuple(s.id for s in stages[-1:])))
    return stages


def _head_stage(row: Mapping, entry: Mapping, features: str, head_dir: str,
                predictions: str, needs: tuple[str, ...]) -> Stage:
    values = {'{features}': features, '{annotations}': entry['annotations'],
              '{train_annotations}': entry.get('train_annotations', entry['annotations']),
              '{val_annotations}': entry.get('val_annotations', entry['annotations']),
              '{class_scores}': entry.get('class_scores', ''),
              '{durations}': entry.get('durations', ''),
              '{train_durations}': entry.get('train_durations', entry.get('durations', '')),
              '{predictions}': predictions, '{work_dir}': head_dir}
    options = dict(row.get('cfg_options', DEFAULT_HEAD_OPTIONS))
    options.update(row.get('extra_cfg_options', {}))
    raw_options = dict(options)
    options = _fill(options, values)
    opts = ' '.join(f'{k}={_q(str(v))}' for k, v in options.items())
    cfg = _q(row['head_config'])
    suffix = f' --cfg-options {opts}' if opts else ''
    last = f'$(cat {_q(head_dir + "/last_checkpoint")})'
    if row.get('checkpoint', 'last') == 'best':
        # The config's save_best checkpoint, chosen on its validation split; only for
        # configs whose validation split is not the reported one (the synthetic ones).
        checkpoint = f'"${{best:-{last}}}"'
        pick = f'best=$(ls -t {_q(head_dir)}/best_*.pth 2>/dev/null | head -n 1 || true) && '
    else:
        checkpoint, pick = f'"{last}"', ''
    command = (f'mim train mmaction2 {cfg} --work-dir {_q(head_dir)} --resume{suffix} && '
               f'{pick}mim test mmaction2 {cfg} --checkpoint {checkpoint}'
               f' --work-dir {_q(head_dir)}{suffix}')
    # Data files the head reads: the annotations, plus those its options point at.
    referenced = [entry[key] for key in ('train_annotations', 'val_annotations', 'class_scores',
                                         'durations', 'train_durations')
                  if key in entry and f'{{{key}}}' in raw_options.values()]
    inputs = (entry['annotations'], *referenced)
    return Stage(id=f'head/{row["id"]}', kind='head', command=command, outputs=(predictions,),
                 inputs=inputs + ((features,) if not needs else ()),
                 configs=(row['head_config'],), cfg_options=tuple(options), needs=needs)


def _blocked_videos(row: Mapping, entry: Mapping, dataset: str, spec_path: str) -> str | None:
    """The blocked-video list a row is evaluated with: its first reference's convention
    (``blocked_videos`` of ``benchmarks/reference_results.yaml``), None for every video."""
    from pal_eval.leaderboard.reference import load_reference

    references = list(row.get('reference', []))
    if row['task'] == 'grounding' or not references:
        return None
    try:
        table = load_reference()
        convention = table.row(references[0]).extra.get('blocked_videos', 'all')
    except (KeyError, InputError):
        return None  # an unknown reference id is compare's to report
    if convention != 'opentad':
        return None
    if not entry.get('blocked_videos'):
        raise InputError(spec_path, f'reference {references[0]!r} scores the videos left by '
                         "OpenTAD's blocked.json: give the list as data."
                         f'{dataset}.blocked_videos', record=row['id'], record_kind='row',
                         field='blocked_videos')
    return entry['blocked_videos']


def _evaluate_stage(row: Mapping, entry: Mapping, predictions: str, results: str,
                    head_id: str, blocked: str | None = None) -> Stage:
    subset = f' --subset {_q(entry["subset"])}' if entry.get('subset') and \
        row['task'] != 'grounding' else ''
    preset = ' --preset thumos14' if 'thumos' in row['dataset'] else ''
    blocked_option = f' --blocked-videos {_q(blocked)}' if blocked else ''
    command = (f'pal-eval evaluate {row["task"]} --gt {_q(entry["annotations"])} '
               f'--pred {_q(predictions)}{subset}{preset}{blocked_option} --out {_q(results)}'
               ' --force')
    # --force: the file is the plan's own (a stage reruns when its stamp is stale).
    return Stage(id=f'evaluate/{row["id"]}', kind='evaluate', command=command,
                 outputs=(results,), inputs=(entry['annotations'], *([blocked] if blocked else [])),
                 needs=(head_id,))


def _fill(value, replacements: Mapping[str, str]):
    """Replace ``{data_root}``-style placeholders in every string of a nested structure."""
    if isinstance(value, str):
        for key, new in replacements.items():
            value = value.replace(key, new)
        return value
    if isinstance(value, list):
        return [_fill(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, replacements) for k, v in value.items()}
    return value


def _q(text: str) -> str:
    return shlex.quote(str(text))


def load_spec(path: str | os.PathLike) -> dict:
    """Read a spec YAML file (schema in the module docstring)."""
    from pal_eval.io import read_yaml

    spec = read_yaml(path)
    if not isinstance(spec, dict) or not isinstance(spec.get('rows'), list):
        raise InputError(path, 'expected a mapping with "data", "encoders" and "rows"',
                         field='rows')
    return spec


def format_plan(plan: Plan) -> str:
    """The plan as a numbered shell script, one comment line per stage."""
    lines = ['#!/usr/bin/env bash', 'set -euo pipefail']
    for number, stage in enumerate(plan.stages, 1):
        used_by = [row for row, ids in plan.rows.items() if stage.id in ids]
        lines.append(f'\n# [{number}/{len(plan.stages)}] {stage.id}  (rows: '
                     f'{", ".join(used_by) or "all"})')
        lines.append(stage.command)
    return '\n'.join(lines) + '\n'
