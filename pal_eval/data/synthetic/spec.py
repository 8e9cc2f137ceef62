"""What a synthetic benchmark is made of: classes, looks, presets and the specs of videos.

Pure data (constants and frozen dataclasses); :mod:`.plan` draws specs, :mod:`.render`
draws their pixels, :mod:`.write` writes a benchmark folder.
"""
from __future__ import annotations

from dataclasses import dataclass

# 1.1: unlabeled clips over a shared scene pool, labels.txt; 1.2: one shared scene
GENERATOR_VERSION = '1.2'
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
