"""Pixels of a video spec: the class-defining motion, shapes, background, rendering.

Deterministic given the spec (its ``seed`` drives the background); vectorised numpy,
one array operation per object and chunk of frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import CLASS_NAMES, COLOURS, InstanceSpec, VideoSpec


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
