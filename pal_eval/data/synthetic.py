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
class throughout, over one of :data:`UNLABELED_SCENES` background scenes shared by all
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

import dataclasses
import glob
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pal_eval.errors import PalEvalError

GENERATOR_VERSION = '1.1'  # 1.1: unlabeled clips over a shared scene pool, labels.txt
GENERATOR_NAME = 'pal-eval synth'

#: Action classes: name -> (motion, grounding phrase). The class is the motion only.
CLASSES: dict[str, tuple[str, str]] = {
    'move_right': ('translate +x', 'moves to the right'),
    'move_left': ('translate -x', 'moves to the left'),
    'move_up': ('translate -y', 'rises upwards'),
    'move_down': ('translate +y', 'sinks downwards'),
    'rotate_clockwise': ('rotation, clockwise on screen', 'spins clockwise'),
    'rotate_counterclockwise': ('rotation, counter-clockwise', 'spins counter-clockwise'),
    'shake_horizontal': ('sinusoidal oscillation along x', 'shakes from side to side'),
    'bounce_vertical': ('sinusoidal oscillation along y', 'bobs up and down'),
    'pulse': ('periodic scaling', 'grows and shrinks'),
    'orbit': ('circular trajectory', 'travels in a circle'),
}
CLASS_NAMES: tuple[str, ...] = tuple(CLASSES)

#: Object appearance, drawn independently of the class.
COLOURS: dict[str, tuple[int, int, int]] = {
    'red': (220, 40, 40), 'green': (40, 190, 60), 'blue': (40, 80, 230),
    'yellow': (235, 215, 40), 'magenta': (215, 50, 200), 'cyan': (40, 210, 220),
    'orange': (245, 140, 30), 'white': (245, 245, 245),
}
SHAPES: tuple[str, ...] = ('square', 'disk', 'triangle', 'diamond', 'cross', 'bar')
SIZES: dict[str, tuple[float, float]] = {'small': (6.0, 8.5), 'large': (9.5, 13.0)}

SENTENCE_TEMPLATES: tuple[str, ...] = (
    'the {colour} {shape} {motion}.',
    'a {size} {colour} {shape} appears and {motion}.',
    'a {colour} {shape} {motion} over the moving background.',
    'someone watches as the {size} {colour} {shape} {motion}.',
)

SUBSETS = ('training', 'validation', 'testing')
THUMOS_SUBSETS = {'training': 'validation', 'validation': 'test'}
# Grounding splits: train / val (checkpoint selection) / test (reported), like the
# ActivityNet subsets, so no reported number comes from the split that chose the epoch.
GROUNDING_SPLITS = {'training': 'train', 'validation': 'val', 'testing': 'test'}


@dataclass(frozen=True)
class Preset:
    """Size of a generated benchmark.

    Args:
        num_videos: Untrimmed annotated videos.
        duration_range: Video length range in seconds.
        fps_choices: Frame rates to draw from (per video).
        max_instances: Most action instances per video.
        num_clips: Unlabeled trimmed clips for pre-training.
        clip_duration_range: Clip length range in seconds.
        width: Frame width (even).
        height: Frame height (even).
        split: Fractions of videos in training / validation / testing.
    """

    num_videos: int
    duration_range: tuple[float, float]
    fps_choices: tuple[float, ...]
    max_instances: int
    num_clips: int
    clip_duration_range: tuple[float, float]
    width: int = 128
    height: int = 96
    split: tuple[float, float, float] = (0.6, 0.25, 0.15)


PRESETS: dict[str, Preset] = {
    # CI: seconds to generate; every class appears in training and validation.
    'tiny': Preset(num_videos=14, duration_range=(8.0, 14.0), fps_choices=(8.0, 10.0),
                   max_instances=4, num_clips=16, clip_duration_range=(2.0, 3.0)),
    # The demo: heads and PAL pre-training train on this on a CPU in minutes. 250
    # labeled videos: 100 to train the heads, 30 to select their epoch, 120 (~330
    # instances and queries) to report on, so that a few points are resolvable.
    'small': Preset(num_videos=250, duration_range=(10.0, 40.0), fps_choices=(8.0, 10.0),
                    max_instances=5, num_clips=200, clip_duration_range=(2.0, 4.0),
                    split=(0.4, 0.12, 0.48)),
    # Benchmarks: longer videos, more of them.
    'medium': Preset(num_videos=400, duration_range=(20.0, 90.0),
                     fps_choices=(8.0, 10.0, 12.0), max_instances=8, num_clips=800,
                     clip_duration_range=(2.0, 4.0)),
}

#: Shortest instance in seconds: shorter ones cannot be told apart by their motion.
MIN_INSTANCE_SECONDS = 0.6
#: Most foreground objects on screen at once (overlapping instances).
MAX_CONCURRENT = 2


@dataclass(frozen=True)
class InstanceSpec:
    """One action instance: frames ``[frame_start, frame_end)`` and how it looks/moves.

    Attributes:
        label: Index into :data:`CLASS_NAMES`.
        frame_start: First frame showing the object.
        frame_end: One past the last frame showing it.
        colour: Key of :data:`COLOURS`.
        shape: One of :data:`SHAPES`.
        size: Key of :data:`SIZES` (the word used in sentences).
        radius: Object radius in pixels.
        center: Starting centre ``(x, y)`` in pixels.
        angle: Starting orientation in radians.
        speed: Pixels per second (translations) or radians per second (rotations).
        period: Seconds per cycle (oscillation, pulse, orbit).
        amplitude: Pixels (oscillation, orbit radius) or relative scale (pulse).
        phase: Radians, start phase of periodic motions.
    """

    label: int
    frame_start: int
    frame_end: int
    colour: str
    shape: str
    size: str
    radius: float
    center: tuple[float, float]
    angle: float
    speed: float
    period: float
    amplitude: float
    phase: float


@dataclass(frozen=True)
class DistractorSpec:
    """A shape present during the whole video, drifting slowly (never an action)."""

    colour: tuple[int, int, int]
    shape: str
    radius: float
    center: tuple[float, float]
    velocity: tuple[float, float]
    angle: float


@dataclass(frozen=True)
class VideoSpec:
    """Everything needed to render one video deterministically."""

    video_id: str
    fps: float
    num_frames: int
    width: int
    height: int
    seed: int
    pan_velocity: tuple[float, float]
    instances: tuple[InstanceSpec, ...] = ()
    distractors: tuple[DistractorSpec, ...] = ()

    @property
    def duration(self) -> float:
        """Length in seconds (``num_frames / fps``)."""
        return self.num_frames / self.fps


@dataclass
class RenderedVideo:
    """Frames of a rendered video and, on request, each instance's foreground mask.

    Attributes:
        frames: ``[T, H, W, 3]`` uint8 RGB.
        masks: ``[N, T, H, W]`` bool, pixels covered by instance ``n`` at frame ``t``
            (empty outside its frames); ``None`` unless asked for.
    """

    frames: np.ndarray
    masks: np.ndarray | None = None


# ----------------------------------------------------------------------------- motion


def object_pose(instance: InstanceSpec, seconds: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y, orientation and scale of ``instance`` at ``seconds``.

    ``seconds`` counts from the instance's first frame. This function *is* the
    definition of the classes.

    Returns:
        ``(x, y, angle, scale)``, arrays shaped like ``seconds``.
    """
    name = CLASS_NAMES[instance.label]
    x = np.full_like(seconds, instance.center[0])
    y = np.full_like(seconds, instance.center[1])
    angle = np.full_like(seconds, instance.angle)
    scale = np.ones_like(seconds)
    cycle = 2 * np.pi * seconds / instance.period + instance.phase
    if name == 'move_right':
        x = x + instance.speed * seconds
    elif name == 'move_left':
        x = x - instance.speed * seconds
    elif name == 'move_up':
        y = y - instance.speed * seconds
    elif name == 'move_down':
        y = y + instance.speed * seconds
    elif name == 'rotate_clockwise':  # image y points down: growing angle is clockwise
        angle = angle + instance.speed * seconds
    elif name == 'rotate_counterclockwise':
        angle = angle - instance.speed * seconds
    elif name == 'shake_horizontal':
        x = x + instance.amplitude * np.sin(cycle)
    elif name == 'bounce_vertical':
        y = y + instance.amplitude * np.sin(cycle)
    elif name == 'pulse':
        scale = 1.0 + instance.amplitude * np.sin(cycle)
    elif name == 'orbit':
        x = x + instance.amplitude * np.cos(cycle)
        y = y + instance.amplitude * np.sin(cycle)
    else:  # pragma: no cover - CLASSES and this function are edited together
        raise AssertionError(name)
    return x, y, angle, scale


# ------------------------------------------------------------------------- rasterising


def shape_masks(shape: str, x: np.ndarray, y: np.ndarray, angle: np.ndarray,
                radius: np.ndarray, width: int, height: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise one shape at ``n`` poses at once.

    Positions wrap around the frame edges (a torus), so an object that leaves on the
    right re-enters on the left and is always visible while its instance lasts.

    Args:
        shape: One of :data:`SHAPES`.
        x: ``[n]`` centre x in pixels.
        y: ``[n]`` centre y in pixels.
        angle: ``[n]`` orientation in radians.
        radius: ``[n]`` radius in pixels.
        width: Frame width.
        height: Frame height.

    Returns:
        ``(inside, marker)``: ``[n, H, W]`` bool; ``marker`` is the half of the object
        drawn in a lighter tone so that rotations of symmetric shapes stay visible.
    """
    cols = np.arange(width, dtype=np.float32)[None, None, :]
    rows = np.arange(height, dtype=np.float32)[None, :, None]
    x = np.asarray(x, np.float32)[:, None, None]
    y = np.asarray(y, np.float32)[:, None, None]
    # Shortest signed offset on the torus.
    dx = (cols - x + width / 2) % width - width / 2
    dy = (rows - y + height / 2) % height - height / 2
    cos = np.cos(np.asarray(angle, np.float32))[:, None, None]
    sin = np.sin(np.asarray(angle, np.float32))[:, None, None]
    r = np.asarray(radius, np.float32)[:, None, None]
    u = (cos * dx + sin * dy) / r
    v = (-sin * dx + cos * dy) / r
    if shape == 'square':
        inside = np.maximum(np.abs(u), np.abs(v)) <= 0.85
    elif shape == 'disk':
        inside = u * u + v * v <= 1.0
    elif shape == 'triangle':
        inside = (v <= 0.7) & (v >= 1.7 * np.abs(u) - 1.0)
    elif shape == 'diamond':
        inside = np.abs(u) + np.abs(v) <= 1.15
    elif shape == 'cross':
        inside = (((np.abs(u) <= 0.35) & (np.abs(v) <= 1.0))
                  | ((np.abs(v) <= 0.35) & (np.abs(u) <= 1.0)))
    elif shape == 'bar':
        inside = (np.abs(u) <= 1.15) & (np.abs(v) <= 0.45)
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return inside, inside & (u > 0.15)


def _background(spec: VideoSpec, rng: np.random.Generator) -> np.ndarray:
    """Textured, panning background ``[T, H, W, 3]`` uint8 (gratings + blocky noise)."""
    t = np.arange(spec.num_frames) / spec.fps
    off_x = np.round(spec.pan_velocity[0] * t).astype(int)
    off_y = np.round(spec.pan_velocity[1] * t).astype(int)
    off_x -= off_x.min()
    off_y -= off_y.min()
    canvas_h = spec.height + int(off_y.max()) + 8
    canvas_w = spec.width + int(off_x.max()) + 8
    rows = np.arange(canvas_h, dtype=np.float32)[:, None]
    cols = np.arange(canvas_w, dtype=np.float32)[None, :]
    base = rng.uniform(70, 150, size=3).astype(np.float32)
    texture = np.zeros((canvas_h, canvas_w), np.float32)
    for _ in range(3):  # three oriented gratings of random frequency
        theta = rng.uniform(0, np.pi)
        freq = rng.uniform(0.04, 0.2)
        texture += rng.uniform(6, 16) * np.sin(
            freq * (np.cos(theta) * cols + np.sin(theta) * rows) + rng.uniform(0, 2 * np.pi))
    block = 4  # coarse noise: texture without the encoding cost of per-pixel noise
    coarse = rng.normal(0, 10, size=(canvas_h // block + 1, canvas_w // block + 1))
    texture += np.repeat(np.repeat(coarse, block, 0), block, 1)[:canvas_h, :canvas_w]
    tint = rng.uniform(0.7, 1.0, size=3).astype(np.float32)
    canvas = np.clip(base + texture[..., None] * tint, 0, 255).astype(np.uint8)
    # Per-frame sensor noise from a small bank: flicker without drawing T full frames.
    bank = rng.integers(-5, 6, size=(4, spec.height // 2, spec.width // 2, 1), dtype=np.int16)
    bank = np.repeat(np.repeat(bank, 2, 1), 2, 2)
    pick = rng.integers(0, len(bank), size=spec.num_frames)
    frames = np.empty((spec.num_frames, spec.height, spec.width, 3), np.uint8)
    for index in range(spec.num_frames):  # one slice per frame: the camera pan
        crop = canvas[off_y[index]:off_y[index] + spec.height,
                      off_x[index]:off_x[index] + spec.width]
        frames[index] = np.clip(crop + bank[pick[index]], 0, 255)
    return frames


def _paint(frames: np.ndarray, inside: np.ndarray, marker: np.ndarray,
           colour: tuple[int, int, int]) -> None:
    body = np.asarray(colour, np.uint8)
    light = (np.asarray(colour, np.float32) * 0.45 + 140).astype(np.uint8)
    frames[inside & ~marker] = body
    frames[marker] = light


def render_video(spec: VideoSpec, *, with_masks: bool = False,
                 with_foreground: bool = True, chunk: int = 64) -> RenderedVideo:
    """Render ``spec`` into frames (deterministic given the spec).

    Args:
        spec: What to draw (see :func:`sample_video_spec`).
        with_masks: Also return each instance's foreground mask ``[N, T, H, W]``.
        with_foreground: Draw the action instances (``False`` gives the background and
            distractors only, which tests compare against).
        chunk: Frames rasterised per array operation (bounds memory).

    Returns:
        A :class:`RenderedVideo`.
    """
    rng = np.random.default_rng(spec.seed)
    frames = _background(spec, rng)
    t_all = np.arange(spec.num_frames) / spec.fps
    for item in spec.distractors:
        for lo in range(0, spec.num_frames, chunk):
            sec = t_all[lo:lo + chunk]
            x = item.center[0] + item.velocity[0] * sec
            y = item.center[1] + item.velocity[1] * sec
            inside, marker = shape_masks(item.shape, x, y, np.full_like(sec, item.angle),
                                         np.full_like(sec, item.radius), spec.width,
                                         spec.height)
            _paint(frames[lo:lo + chunk], inside, marker, item.colour)
    masks = None
    if with_masks:
        masks = np.zeros((len(spec.instances), spec.num_frames, spec.height, spec.width),
                         bool)
    for number, inst in enumerate(spec.instances if with_foreground else ()):
        for lo in range(inst.frame_start, inst.frame_end, chunk):
            hi = min(lo + chunk, inst.frame_end)
            sec = (np.arange(lo, hi) - inst.frame_start) / spec.fps
            x, y, angle, scale = object_pose(inst, sec)
            inside, marker = shape_masks(inst.shape, x, y, angle, inst.radius * scale,
                                         spec.width, spec.height)
            _paint(frames[lo:hi], inside, marker, COLOURS[inst.colour])
            if masks is not None:
                masks[number, lo:hi] = inside
    return RenderedVideo(frames=frames, masks=masks)


# ---------------------------------------------------------------------------- sampling


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
#: untrimmed video (its background is the video's own); with a few shared scenes a
#: pasted region mostly differs from its surroundings by object and motion (issue 14).
UNLABELED_SCENES = 4
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


# ----------------------------------------------------------------------------- writing


def _seconds(frame: int, fps: float) -> float:
    # Rounded so the JSON is short; 1e-4 s is far below a frame (>= 83 ms here).
    return round(frame / fps, 4)


def build_annotations(plan: BenchmarkPlan) -> tuple:
    """Canonical annotations of a plan: ``(ActionAnnotations, GroundingAnnotations)``.

    Segments are frame boundaries divided by the fps, so an instance covering frames
    ``[a, b)`` is annotated ``[a / fps, b / fps]``.
    """
    from pal_eval.data.annotations.canonical import (
        ActionAnnotations,
        GroundingAnnotations,
        VideoInfo,
        instances_frame,
        queries_frame,
    )

    preset = plan.preset
    videos, rows, queries = {}, [], []
    for subset, spec in plan.videos:
        videos[spec.video_id] = VideoInfo(
            video_id=spec.video_id, subset=subset, duration=_seconds(spec.num_frames, spec.fps),
            fps=spec.fps, resolution=f'{preset.width}x{preset.height}')
        for number, inst in enumerate(spec.instances):
            start = _seconds(inst.frame_start, spec.fps)
            end = _seconds(inst.frame_end, spec.fps)
            rows.append((spec.video_id, start, end, CLASS_NAMES[inst.label]))
            # grounding subsets are the split names of the files ('train' / 'test')
            queries.append((f'{spec.video_id}_q{number}', spec.video_id,
                            videos[spec.video_id].duration, start, end,
                            plan.sentences[spec.video_id][number],
                            GROUNDING_SPLITS.get(subset, subset)))
    actions = ActionAnnotations(videos=videos, instances=instances_frame(rows),
                                taxonomy=list(CLASS_NAMES), source='pal-eval synth')
    grounding = GroundingAnnotations(queries=queries_frame(queries), source='pal-eval synth')
    return actions, grounding


def write_annotation_files(plan: BenchmarkPlan, folder: Path):
    """Write the plan's annotation files into ``folder``; return its ``ActionAnnotations``.

    ``activitynet.json``, ``thumos14.json``, ``grounding_{train,test}.json`` and
    ``charades_sta_{train,test}.txt``: they depend on the plan only, never on rendering
    (``tests/data/test_synthetic_annotation_pin.py`` pins their bytes).
    """
    from pal_eval.data.annotations.writers import (
        write_activitynet_gt,
        write_charades_sta,
        write_grounding_json,
    )

    actions, grounding = build_annotations(plan)
    write_activitynet_gt(folder / 'activitynet.json', actions)
    write_activitynet_gt(folder / 'thumos14.json', actions, subset_map=THUMOS_SUBSETS,
                         with_fps=True)
    for split in GROUNDING_SPLITS.values():
        part = grounding.select_subset(split)
        write_grounding_json(folder / f'grounding_{split}.json', part)
        write_charades_sta(folder / f'charades_sta_{split}.txt', part)
    return actions


def _prepare_output(out: Path, force: bool) -> Path:
    """Check ``out`` may be written; return the temporary sibling to generate into."""
    if out.exists() and not out.is_dir():
        raise PalEvalError(f'{out} exists and is not a folder')
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise PalEvalError(f'{out} exists and is not empty; pass --force to replace it')
        if not (out / 'meta.json').is_file():
            raise PalEvalError(f'{out} is not a pal-eval synth folder (no meta.json); '
                               'refusing to replace it')
        from pal_eval.io import read_json

        if read_json(out / 'meta.json').get('generator') != GENERATOR_NAME:
            raise PalEvalError(f'{out / "meta.json"} was not written by {GENERATOR_NAME}; '
                               'refusing to replace it')
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    staging = out.parent / f'.{out.name}.partial-{os.getpid()}'
    if staging.exists():
        shutil.rmtree(staging)
    return staging


def _remove_stale_staging(out: Path) -> list[Path]:
    """Delete the staging / trash folders of earlier runs at ``out`` that were killed.

    A run stages into ``.<name>.partial-<pid>`` (and swaps the old folder out through
    ``.<name>.old-<pid>``); ``kill -9`` leaves them behind. A folder whose pid no longer
    runs is garbage; one of a live process (a concurrent run) is left alone.
    """
    removed = []
    for path in out.parent.glob(f'.{glob.escape(out.name)}.*-*'):
        kind, _, pid = path.name[len(out.name) + 2:].rpartition('-')
        if kind in ('partial', 'old') and pid.isdigit() and path.is_dir() \
                and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)            # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:        # another user's live process
        return True
    return True


def generate(preset: str, seed: int, out: str | os.PathLike, *, force: bool = False,
             progress: bool = True) -> dict:
    """Generate the synthetic benchmark into ``out`` (see the module docstring).

    Output appears atomically: everything is written into a hidden sibling folder that
    is renamed to ``out`` at the end, so an interrupted run leaves no half benchmark.

    Args:
        preset: ``'tiny'``, ``'small'`` or ``'medium'``.
        seed: Master seed; the same seed gives byte-identical annotation files and
            identical decoded frames.
        out: Output folder; must be absent or empty unless ``force`` (then it must be
            an earlier ``pal-eval synth`` output).
        force: Replace an earlier synthetic benchmark at ``out``.
        progress: Show progress bars.

    Returns:
        The content of ``meta.json`` plus ``seconds`` (wall time).
    """
    from tqdm import tqdm

    from pal_eval.data.video_io import write_video
    from pal_eval.io import atomic_write, write_json

    started = time.perf_counter()
    out = Path(out)
    plan = plan_benchmark(preset, seed)
    staging = _prepare_output(out, force)
    try:
        for subset, spec in tqdm(plan.videos, desc='videos', disable=not progress):
            del subset
            write_video(staging / 'videos' / f'{spec.video_id}.mp4', render_video(spec).frames,
                        spec.fps)
        for spec in tqdm(plan.clips, desc='unlabeled clips', disable=not progress):
            write_video(staging / 'unlabeled' / f'{spec.video_id}.mp4',
                        render_video(spec).frames, spec.fps)
        with atomic_write(staging / 'unlabeled' / 'list.txt') as handle:
            handle.writelines(f'{spec.video_id}.mp4\n' for spec in plan.clips)
        with atomic_write(staging / 'unlabeled' / 'labels.txt') as handle:  # TAC only
            handle.writelines(f'{spec.video_id}.mp4 {spec.instances[0].label}\n'
                              for spec in plan.clips)
        actions = write_annotation_files(plan, staging / 'annotations')
        meta = _meta(plan, actions)
        write_json(staging / 'meta.json', meta)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {**meta, 'seconds': round(time.perf_counter() - started, 2)}


def _swap_into_place(staging: Path, out: Path) -> None:
    if out.is_dir() and any(out.iterdir()):
        trash = out.parent / f'.{out.name}.old-{os.getpid()}'
        os.replace(out, trash)
        os.replace(staging, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        if out.is_dir():
            out.rmdir()
        os.replace(staging, out)


def _meta(plan: BenchmarkPlan, actions) -> dict:
    preset = plan.preset
    per_subset = {s: sum(1 for sub, _ in plan.videos if sub == s) for s in SUBSETS}
    return {
        'generator': GENERATOR_NAME,
        'generator_version': GENERATOR_VERSION,
        'preset': plan.preset_name,
        'seed': plan.seed,
        'preset_config': asdict(preset),
        'classes': [{'name': name, 'motion': motion, 'phrase': phrase}
                    for name, (motion, phrase) in CLASSES.items()],
        'colours': list(COLOURS), 'shapes': list(SHAPES), 'sizes': list(SIZES),
        'resolution': [preset.width, preset.height],
        'counts': {
            'videos': len(plan.videos), 'videos_per_subset': per_subset,
            'instances': int(len(actions.instances)),
            'queries': int(len(actions.instances)),
            'unlabeled_clips': len(plan.clips),
            'video_seconds': round(sum(s.duration for _, s in plan.videos), 2),
            'unlabeled_seconds': round(sum(s.duration for s in plan.clips), 2),
        },
        'unlabeled': {'scenes': UNLABELED_SCENES, 'labels_file': 'unlabeled/labels.txt',
                      'labels_format': '<file name> <class index>, for the supervised TAC '
                                       'baseline only'},
        'subsets': {'activitynet': list(SUBSETS), 'thumos14': THUMOS_SUBSETS,
                    'grounding': GROUNDING_SPLITS},
    }


# ------------------------------------------------------------------------------- stats


def benchmark_stats(folder: str | os.PathLike) -> dict:
    """Class histogram, instance-length distribution and totals of a synth folder.

    Returns:
        ``{'classes': DataFrame (label x subset counts), 'lengths': DataFrame
        (quantiles of seconds and fraction of the video), 'totals': dict}``.
    """
    import pandas as pd

    from pal_eval.data.annotations import load_actions

    folder = Path(folder)
    ann = load_actions(folder / 'annotations' / 'activitynet.json')
    inst = ann.instances
    subset_of = {vid: info.subset for vid, info in ann.videos.items()}
    duration_of = {vid: info.duration for vid, info in ann.videos.items()}
    frame = inst.assign(subset=inst['video_id'].map(subset_of),
                        seconds=inst['t_end'] - inst['t_start'])
    frame['fraction'] = frame['seconds'] / frame['video_id'].map(duration_of)
    classes = pd.crosstab(frame['label'], frame['subset'], margins=True, margins_name='all')
    lengths = frame[['seconds', 'fraction']].quantile([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    lengths.index = [f'p{int(q * 100)}' for q in lengths.index]
    clip_list = folder / 'unlabeled' / 'list.txt'
    clips = clip_list.read_text().split() if clip_list.is_file() else []
    totals = {
        'videos': len(ann.videos),
        'videos_per_subset': pd.Series(subset_of).value_counts().to_dict(),
        'instances': int(len(inst)),
        'videos_without_instances': int(len(set(ann.videos) - set(inst['video_id']))),
        'video_hours': round(sum(duration_of.values()) / 3600, 3),
        'unlabeled_clips': len(clips),
    }
    return {'classes': classes, 'lengths': lengths, 'totals': totals}


def format_stats(stats: dict) -> str:
    """Human-readable text of :func:`benchmark_stats`."""
    totals = stats['totals']
    lines = ['totals:']
    lines += [f'  {key}: {value}' for key, value in totals.items()]
    lines += ['', 'class histogram (instances per subset):', stats['classes'].to_string(), '',
              'instance length (seconds, fraction of video):',
              stats['lengths'].round(3).to_string()]
    return '\n'.join(lines)
