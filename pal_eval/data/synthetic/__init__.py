"""The embedded synthetic temporal-action-localization benchmark (``pal-eval synth``).

Real TAL datasets cannot be downloaded here, so every stage can run on this one. Each
untrimmed video shows a textured, slowly panning background with noise and drifting
distractor shapes; an *action instance* is a foreground object that appears exactly for
the annotated frames and moves in a class-specific way. The **class is the motion**
(direction, rotation, oscillation, scaling, trajectory shape, see :data:`CLASSES`);
colour, shape and size are drawn independently of the class, so one frame cannot tell
the class apart: a model has to look at ~1 s of motion.

Everything is drawn with vectorised numpy (one array operation per object and chunk of
frames, never a Python loop over pixels) and encoded with
:func:`pal_eval.data.video_io.write_video`, whose output bytes are deterministic. The
same ``seed`` therefore gives byte-identical annotation files and identical frames.

Folder layout written by :func:`generate` (the contract in ``docs/DEVELOPING.md``)::

    DIR/meta.json, DIR/videos/<id>.mp4, DIR/annotations/{activitynet,thumos14}.json,
    DIR/annotations/grounding_{train,val,test}.json,
    DIR/annotations/charades_sta_{train,val,test}.txt,
    DIR/unlabeled/<clip>.mp4, DIR/unlabeled/list.txt, DIR/unlabeled/labels.txt

The unlabeled clips (the pretraining set) each show one object performing one motion
class throughout, over the :data:`UNLABELED_SCENES` background scene(s) shared by all
clips (see :func:`unlabeled_scene_pool`). ``unlabeled/labels.txt`` holds their motion
classes, **for the supervised TAC baseline only** (no self-supervised method reads it):
one line per clip, in ``list.txt`` order, ``<file name> <class index>`` separated by one
space, the index into ``meta.json``'s ``classes`` (mmaction2's ``VideoDataset``
annotation format, so a recognizer trains on it as is).

Subsets: ActivityNet-style ``training`` / ``validation`` / ``testing`` (all annotated,
since the data are synthetic); the THUMOS-style file maps ``training`` to ``validation``
(THUMOS trains on its validation set) and ``validation`` to ``test``; grounding ``train``
/ ``val`` / ``test`` are ``training`` / ``validation`` / ``testing``. Heads select their
checkpoint on ``validation`` (``val``) and report on ``testing`` (``test``).

Examples:
    >>> import tempfile
    >>> summary = generate('tiny', seed=0, out=tempfile.mkdtemp() + '/synth',
    ...                    progress=False)  # doctest: +SKIP
    >>> summary['counts']['videos']  # doctest: +SKIP
    14
"""
from __future__ import annotations

from .plan import (
    UNLABELED_SCENES,
    UNLABELED_SEGMENT_SECONDS,
    BenchmarkPlan,
    plan_benchmark,
    sample_clip_spec,
    sample_video_spec,
    sentence_for,
    unlabeled_scene_pool,
)
from .render import RenderedVideo, object_pose, render_video, shape_masks
from .spec import (
    CLASS_NAMES,
    CLASSES,
    COLOURS,
    GENERATOR_NAME,
    GENERATOR_VERSION,
    GROUNDING_SPLITS,
    MAX_CONCURRENT,
    MIN_INSTANCE_SECONDS,
    PRESETS,
    SENTENCE_TEMPLATES,
    SHAPES,
    SIZES,
    SUBSETS,
    THUMOS_SUBSETS,
    DistractorSpec,
    InstanceSpec,
    Preset,
    VideoSpec,
)
from .stats import benchmark_stats, format_stats
from .write import build_annotations, generate, write_annotation_files

__all__ = [
    'BenchmarkPlan', 'CLASSES', 'CLASS_NAMES', 'COLOURS', 'DistractorSpec', 'GENERATOR_NAME',
    'GENERATOR_VERSION', 'GROUNDING_SPLITS', 'InstanceSpec', 'MAX_CONCURRENT',
    'MIN_INSTANCE_SECONDS', 'PRESETS', 'Preset', 'RenderedVideo', 'SENTENCE_TEMPLATES',
    'SHAPES', 'SIZES', 'SUBSETS', 'THUMOS_SUBSETS', 'UNLABELED_SCENES',
    'UNLABELED_SEGMENT_SECONDS', 'VideoSpec', 'benchmark_stats', 'build_annotations',
    'format_stats', 'generate', 'object_pose', 'plan_benchmark', 'render_video',
    'sample_clip_spec', 'sample_video_spec', 'sentence_for', 'shape_masks',
    'unlabeled_scene_pool', 'write_annotation_files',
]
