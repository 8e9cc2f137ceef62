"""The plan of a benchmark: every video, instance, label, sentence and unlabeled clip.

Drawn from child generators of the master seed, before (and independent of) rendering:
the annotation files depend on the plan only.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from pal_eval.errors import PalEvalError

from .spec import (
    CLASS_NAMES,
    CLASSES,
    COLOURS,
    MAX_CONCURRENT,
    MIN_INSTANCE_SECONDS,
    PRESETS,
    SENTENCE_TEMPLATES,
    SHAPES,
    SIZES,
    SUBSETS,
    DistractorSpec,
    InstanceSpec,
    Preset,
    VideoSpec,
)


def _sample_instance(rng: np.random.Generator, label: int, frame_start: int,
                     frame_end: int, width: int, height: int) -> InstanceSpec:
    """Draw appearance (independent of ``label``) and motion parameters."""
    size = str(rng.choice(list(SIZES)))
    return InstanceSpec(
        label=int(label), frame_start=int(frame_start), frame_end=int(frame_end),
        colour=str(rng.choice(list(COLOURS))), shape=str(rng.choice(SHAPES)), size=size,
        radius=float(rng.uniform(*SIZES[size])),
        center=(float(rng.uniform(0.2, 0.8) * width), float(rng.uniform(0.25, 0.75) * height)),
        angle=float(rng.uniform(0, 2 * np.pi)),
        # translations: 18-30 px/s; rotations: 2.5-4.5 rad/s (either is visible in ~1 s)
        speed=float(rng.uniform(2.5, 4.5) if 'rotate' in CLASS_NAMES[label]
                    else rng.uniform(18, 30)),
        period=float(rng.uniform(0.9, 1.5) if CLASS_NAMES[label] != 'orbit'
                     else rng.uniform(1.5, 2.2)),
        amplitude=float(rng.uniform(0.35, 0.5) if CLASS_NAMES[label] == 'pulse'
                        else rng.uniform(10, 16)),
        phase=float(rng.uniform(0, 2 * np.pi)))


def _sample_distractors(rng: np.random.Generator, width: int, height: int
                        ) -> tuple[DistractorSpec, ...]:
    count = int(rng.integers(1, 4))
    return tuple(DistractorSpec(
        colour=tuple(int(c) for c in rng.integers(60, 200, size=3)),
        shape=str(rng.choice(SHAPES)), radius=float(rng.uniform(3.5, 6.0)),
        center=(float(rng.uniform(0, width)), float(rng.uniform(0, height))),
        velocity=(float(rng.uniform(-3, 3)), float(rng.uniform(-2, 2))),
        angle=float(rng.uniform(0, 2 * np.pi))) for _ in range(count))


def _place_instances(rng: np.random.Generator, count: int, num_frames: int, fps: float
                     ) -> list[tuple[int, int]]:
    """Frame ranges for ``count`` instances: 2%..60% long, some adjacent or overlapping.

    At most :data:`MAX_CONCURRENT` instances overlap in any frame when that can be met
    in a few tries (a last resort placement ignores the limit, so counts stay exact).
    """
    occupancy = np.zeros(num_frames, int)
    ranges: list[tuple[int, int]] = []
    shortest = max(3, math.ceil(MIN_INSTANCE_SECONDS * fps), round(0.02 * num_frames))
    longest = max(shortest, round(0.6 * num_frames))
    for _ in range(count):
        allow_overlap = rng.random() < 0.3
        placed = None
        for _attempt in range(60):
            length = int(round(math.exp(rng.uniform(math.log(shortest), math.log(longest)))))
            if ranges and rng.random() < 0.25:  # adjacent to an earlier instance
                neighbour = ranges[int(rng.integers(len(ranges)))]
                start = neighbour[1] if rng.random() < 0.5 else neighbour[0] - length
            else:
                start = int(rng.integers(0, num_frames - length + 1))
            if start < 0 or start + length > num_frames:
                continue
            busiest = occupancy[start:start + length].max()
            if busiest == 0 or (allow_overlap and busiest < MAX_CONCURRENT):
                placed = (start, start + length)
                break
        if placed is None:
            start = int(rng.integers(0, num_frames - shortest + 1))
            placed = (start, start + shortest)
        occupancy[placed[0]:placed[1]] += 1
        ranges.append(placed)
    return ranges


def sample_video_spec(rng: np.random.Generator, video_id: str, preset: Preset,
                      labels: list[int], *, duration: float | None = None) -> VideoSpec:
    """Draw a video: fps, length, background motion, distractors and its instances.

    Args:
        rng: Random generator owned by this video.
        video_id: Id used for files and annotations.
        preset: Size limits.
        labels: Class index of each instance (decided by the caller to balance classes).
        duration: Length in seconds; drawn from the preset when ``None``.

    Returns:
        A :class:`VideoSpec`.
    """
    fps = float(rng.choice(preset.fps_choices))
    if duration is None:
        duration = float(rng.uniform(*preset.duration_range))
    num_frames = max(8, int(round(duration * fps)))
    ranges = _place_instances(rng, len(labels), num_frames, fps)
    instances = tuple(sorted(
        (_sample_instance(rng, label, lo, hi, preset.width, preset.height)
         for label, (lo, hi) in zip(labels, ranges)),
        key=lambda inst: (inst.frame_start, inst.frame_end, inst.label)))
    speed = rng.uniform(0, 4)
    direction = rng.uniform(0, 2 * np.pi)
    return VideoSpec(
        video_id=video_id, fps=fps, num_frames=num_frames, width=preset.width,
        height=preset.height, seed=int(rng.integers(2**31)),
        pan_velocity=(float(speed * np.cos(direction)), float(speed * np.sin(direction))),
        instances=instances, distractors=_sample_distractors(rng, preset.width, preset.height))


#: Background scenes shared by all unlabeled clips. With a scene per clip (generator
#: 1.0) the PAL pretext was solved by scene identity, a cue an action never offers in an
#: untrimmed video (its background is the video's own). With 4 shared scenes (1.1) a
#: pasted region still changed the scene in 3 composites of 4, and PAL, the only pretext
#: that pastes, paid for it downstream: BMN AUC 48.8 +- 2.0 over three seeds against
#: 54.2 +- 1.3 with one shared scene (MoCo-v2 53.4 -> 54.1, unchanged within noise;
#: docs/pretraining.md). With one scene (1.2) a pasted region differs from its
#: surroundings by object and motion only, as an action does in an untrimmed video.
UNLABELED_SCENES = 1
#: Range of an unlabeled clip's segment length in seconds (one object per segment).
UNLABELED_SEGMENT_SECONDS = (1.0, 1.6)


def unlabeled_scene_pool(seed: int, preset: Preset) -> tuple[VideoSpec, ...]:
    """The :data:`UNLABELED_SCENES` background scenes of the unlabeled clips.

    A scene is a texture, a camera pan and drifting distractors (everything
    :func:`render_video` draws besides the action instances); clips rendered over one
    scene show the same background, frame for frame.
    """
    return tuple(sample_video_spec(np.random.default_rng([seed, 3, index]), f'scene_{index}',
                                   preset, [], duration=preset.clip_duration_range[1])
                 for index in range(UNLABELED_SCENES))


def sample_clip_spec(rng: np.random.Generator, clip_id: str, preset: Preset,
                     scenes: tuple[VideoSpec, ...] = ()) -> VideoSpec:
    """An unlabeled trimmed clip: one motion class throughout, performed by a new object.

    The clip is cut into segments of :data:`UNLABELED_SEGMENT_SECONDS`; each segment
    shows a new object (colour, shape, size and place drawn afresh) performing the
    clip's motion with the clip's motion parameters (speed, period, amplitude). Two
    moments of one clip therefore share their motion (and scene), not their object's
    look or position: a self-supervised pretext that must recognise a clip across time
    (PAL's two regions of one video, MoCo-v2's two views) has to encode motion, the
    only thing the benchmark's classes are made of. (With one object per clip, the
    issue-14 measurements found the pretext solved by colour, shape and position, and
    a linear probe of the action class at chance.)

    Args:
        rng: The clip's own generator.
        clip_id: Id (file stem) of the clip.
        preset: Size limits.
        scenes: Shared background scenes (:func:`unlabeled_scene_pool`); one is drawn
            for the clip. Empty: a background of its own.
    """
    duration = float(rng.uniform(*preset.clip_duration_range))
    label = int(rng.integers(len(CLASS_NAMES)))
    spec = sample_video_spec(rng, clip_id, preset, [], duration=duration)
    if scenes:
        scene = scenes[int(rng.integers(len(scenes)))]
        spec = dataclasses.replace(spec, seed=scene.seed, pan_velocity=scene.pan_velocity,
                                   distractors=scene.distractors)
    motion = _sample_instance(rng, label, 0, spec.num_frames, preset.width, preset.height)
    instances, start = [], 0
    while start < spec.num_frames:
        length = max(1, round(rng.uniform(*UNLABELED_SEGMENT_SECONDS) * spec.fps))
        end = min(spec.num_frames, start + length)
        if spec.num_frames - end < length // 2:  # no stub segment at the end
            end = spec.num_frames
        look = _sample_instance(rng, label, start, end, preset.width, preset.height)
        instances.append(dataclasses.replace(
            look, speed=motion.speed, period=motion.period, amplitude=motion.amplitude))
        start = end
    return dataclasses.replace(spec, instances=tuple(instances))


def sentence_for(instance: InstanceSpec, rng: np.random.Generator) -> str:
    """A grounding query naming the colour, shape and motion of ``instance``."""
    template = SENTENCE_TEMPLATES[int(rng.integers(len(SENTENCE_TEMPLATES)))]
    return template.format(colour=instance.colour, shape=instance.shape, size=instance.size,
                           motion=CLASSES[CLASS_NAMES[instance.label]][1])


# -------------------------------------------------------------------------- dataset plan


@dataclass
class BenchmarkPlan:
    """Every video and clip of a benchmark, before rendering."""

    preset_name: str
    seed: int
    preset: Preset
    videos: list[tuple[str, VideoSpec]] = field(default_factory=list)  # (subset, spec)
    clips: list[VideoSpec] = field(default_factory=list)
    sentences: dict[str, list[str]] = field(default_factory=dict)  # video id -> per instance


def _split_sizes(total: int, fractions: tuple[float, float, float]) -> list[int]:
    sizes = [int(round(total * f)) for f in fractions[:2]]
    return [*sizes, total - sum(sizes)]


def plan_benchmark(preset_name: str, seed: int) -> BenchmarkPlan:
    """Decide every video, instance, label and sentence of a benchmark (no rendering).

    Labels are dealt from a shuffled, repeated list of all classes per subset, so each
    class appears in every subset that has at least ``K`` instances (guaranteed for
    ``training`` and ``validation``: instance counts are raised until they reach ``K``).

    Args:
        preset_name: Key of :data:`PRESETS`.
        seed: Master seed; every video draws from its own child generator.

    Returns:
        A :class:`BenchmarkPlan`.
    """
    if preset_name not in PRESETS:
        raise PalEvalError(f'unknown preset {preset_name!r}; choose from {", ".join(PRESETS)}')
    if not isinstance(seed, int) or seed < 0:
        raise PalEvalError(f'--seed must be a non-negative integer, got {seed!r}')
    preset = PRESETS[preset_name]
    num_classes = len(CLASS_NAMES)
    plan_rng = np.random.default_rng([seed, 0])
    subsets = np.repeat(SUBSETS, _split_sizes(preset.num_videos, preset.split))
    subsets = plan_rng.permutation(subsets)
    # ~8% of videos are pure background (0 instances), the others 1..max_instances.
    counts = plan_rng.integers(1, preset.max_instances + 1, size=preset.num_videos)
    counts[plan_rng.random(preset.num_videos) < 0.08] = 0
    labels: dict[int, list[int]] = {}
    for subset in SUBSETS:
        members = np.flatnonzero(subsets == subset)
        if len(members) == 0:
            continue
        if subset != 'testing':
            while counts[members].sum() < num_classes and \
                    (counts[members] < preset.max_instances).any():
                room = members[counts[members] < preset.max_instances]
                counts[room[int(plan_rng.integers(len(room)))]] += 1
        dealt = plan_rng.permutation(np.resize(plan_rng.permutation(num_classes),
                                               int(counts[members].sum())))
        cursor = 0
        for index in members:
            labels[int(index)] = [int(v) for v in dealt[cursor:cursor + counts[index]]]
            cursor += int(counts[index])
    plan = BenchmarkPlan(preset_name=preset_name, seed=seed, preset=preset)
    for index in range(preset.num_videos):
        video_id = f'syn_{index:05d}'
        rng = np.random.default_rng([seed, 1, index])
        spec = sample_video_spec(rng, video_id, preset, labels[index])
        plan.videos.append((str(subsets[index]), spec))
        plan.sentences[video_id] = [sentence_for(inst, rng) for inst in spec.instances]
    scenes = unlabeled_scene_pool(seed, preset)
    for index in range(preset.num_clips):
        rng = np.random.default_rng([seed, 2, index])
        plan.clips.append(sample_clip_spec(rng, f'clip_{index:05d}', preset, scenes))
    return plan
