"""Validation shared by the format readers: one clear error per bad field, one warning per file.

Loaders raise :class:`pal_eval.errors.InputError` naming the file, the video (or query)
id and the field on malformed input (missing keys, non-numeric, negative or reversed
segments, segments past the duration beyond a small tolerance, unknown subset, empty
file, invalid JSON). Segments past the duration by no more than the tolerance (float
noise in real files) are clipped to the duration and reported by ONE
:class:`~pal_eval.data.annotations.canonical.AnnotationWarning` that counts them.
"""
from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from pal_eval.data.annotations.canonical import AnnotationWarning
from pal_eval.errors import InputError
from pal_eval.io import read_text


class SegmentChecker:
    """Validates segments of one file and counts the overshoots it clips.

    One instance per loaded file, so the warning is emitted once with a total count.
    """

    def __init__(self, path: str | os.PathLike, tolerance: float,
                 record_kind: str = 'video', *, keep_overshoots: bool = False):
        self.path = path
        self.tolerance = tolerance
        self.record_kind = record_kind
        self.keep_overshoots = keep_overshoots
        self.clipped = 0
        self.largest_overshoot = 0.0
        self.kept: dict[str, int] = {}

    def error(self, record: str | None, field_name: str | None, message: str) -> InputError:
        return InputError(self.path, message, record=record, field=field_name,
                          record_kind=self.record_kind)

    def number(self, value: Any, record: str, field_name: str) -> float:
        """``value`` as a finite float (numeric strings accepted: G-TAD's THUMOS JSON)."""
        if isinstance(value, bool):
            raise self.error(record, field_name, f'must be a number, got {value!r}')
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(record, field_name, f'must be a number, got {value!r}') from None
        if not math.isfinite(number):
            raise self.error(record, field_name, f'must be finite, got {value!r}')
        return number

    def duration(self, value: Any, record: str, field_name: str = 'duration') -> float:
        number = self.number(value, record, field_name)
        if number <= 0:
            raise self.error(record, field_name, f'must be positive, got {value!r}')
        return number

    def segment(self, raw: Any, record: str, duration: float,
                field_name: str = 'segment') -> tuple[float, float]:
        """Check a ``[start, end]`` pair; clip float-noise overshoots of ``duration``."""
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise self.error(record, field_name, f'must be [start, end], got {raw!r}')
        start = self.number(raw[0], record, field_name)
        end = self.number(raw[1], record, field_name)
        return self.times(start, end, record, duration, field_name)

    def times(self, start: float, end: float, record: str, duration: float,
              field_name: str = 'segment') -> tuple[float, float]:
        if start < 0 or end < 0:
            raise self.error(record, field_name, f'negative time in [{start}, {end}]')
        if end < start:
            raise self.error(record, field_name, f'reversed segment [{start}, {end}] '
                             '(end before start)')
        if not math.isnan(duration) and end > duration:
            overshoot = end - duration
            if overshoot > self.tolerance and self.keep_overshoots:
                self.kept[record] = self.kept.get(record, 0) + 1
                return start, end
            if overshoot > self.tolerance:
                raise self.error(record, field_name,
                                 f'segment [{start}, {end}] ends {overshoot:.3f} s past the '
                                 f'duration {duration} (tolerance {self.tolerance} s)')
            self.clipped += 1
            self.largest_overshoot = max(self.largest_overshoot, overshoot)
            end = duration
            start = min(start, duration)
        return start, end

    def report(self) -> None:
        """Emit the single counted warning about clipped (or kept) segments, if any."""
        if self.kept:
            names = ', '.join(sorted(self.kept)[:5]) + (', ...' if len(self.kept) > 5 else '')
            warnings.warn(
                f'{self.path}: kept {sum(self.kept.values())} segments of {len(self.kept)} '
                f'videos that end past their video duration by more than {self.tolerance} s '
                f'({names})', AnnotationWarning, stacklevel=3)
        if self.clipped:
            warnings.warn(
                f'{self.path}: clipped {self.clipped} segments ending past their video '
                f'duration by at most {self.largest_overshoot:.3f} s '
                f'(tolerance {self.tolerance} s)', AnnotationWarning, stacklevel=3)


def require(checker: SegmentChecker, entry: Any, key: str, record: str,
             kinds: type | tuple[type, ...] | None = None) -> Any:
    if not isinstance(entry, dict):
        raise checker.error(record, None, f'must be an object, got {type(entry).__name__}')
    if key not in entry:
        raise checker.error(record, key, 'missing key')
    value = entry[key]
    if kinds is not None and not isinstance(value, kinds):
        names = kinds.__name__ if isinstance(kinds, type) else \
            ' or '.join(k.__name__ for k in kinds)
        raise checker.error(record, key, f'must be {names}, got {type(value).__name__}')
    return value


def same_subset(name: str, wanted: str) -> bool:
    """Whether a file's subset ``name`` is the ``wanted`` one (case-insensitive:
    ActionFormer's THUMOS14 JSON spells them ``Validation`` and ``Test``).

    Examples:
        >>> same_subset('Validation', 'validation'), same_subset('test', 'training')
        (True, False)
    """
    return name == wanted or name.lower() == wanted.lower()


def check_subset(path: str | os.PathLike, subset: str | None, present: Iterable[str]) -> None:
    present = sorted(set(present))
    if subset is not None and not any(same_subset(p, subset) for p in present):
        raise InputError(path, f'unknown subset {subset!r}; the file has '
                         f'{", ".join(map(repr, present)) or "no subsets"}', field='subset')


def validated_segments(checker: SegmentChecker, records: list[str], raw: list[Any],
                        durations: list[float], field_of, field_args: list[Any]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``[start, end]`` pairs all at once; clip float-noise overshoots.

    The vectorised pass handles the common, valid case. As soon as anything looks wrong
    the pairs are re-checked one by one with :class:`SegmentChecker`, which raises the
    precise error (file, video, field) for the first bad pair in file order.

    Args:
        checker: The file's checker (counts clipped segments).
        records: Video (or query) id of each pair.
        raw: The pairs as parsed from the file (numbers or numeric strings).
        durations: Duration of each pair's video (NaN: unknown, not checked).
        field_of: ``field_of(field_args[i])`` names the field of pair ``i`` in errors.
        field_args: Per-pair argument of ``field_of``.

    Returns:
        ``(starts, ends)`` float64 arrays.
    """
    count = len(raw)
    duration = np.asarray(durations, dtype=np.float64)
    try:
        values = np.asarray(raw, dtype=np.float64).reshape(count, 2) if count else \
            np.zeros((0, 2))
    except (ValueError, TypeError):
        values = None
    if values is not None:
        start, end = values[:, 0], values[:, 1]
        with np.errstate(invalid='ignore'):
            overshoot = end - duration  # NaN where the duration is unknown
            far = overshoot > checker.tolerance
            bad = (~np.isfinite(values).all(1) | (start < 0) | (end < start)
                   | (far & (not checker.keep_overshoots)))
            # a bool is a number to numpy, not to us; rare enough to check lazily
            if not bad.any() and not any(type(v) is bool for pair in raw for v in pair):
                for index in np.flatnonzero(far):
                    checker.kept[records[index]] = checker.kept.get(records[index], 0) + 1
                clip = (overshoot > 0) & ~far
                if clip.any():
                    checker.clipped += int(clip.sum())
                    checker.largest_overshoot = max(checker.largest_overshoot,
                                                    float(overshoot[clip].max()))
                    end = np.where(clip, duration, end)
                    start = np.where(clip, np.minimum(start, duration), start)
                return start.copy(), end.copy()
    pairs = [checker.segment(pair, record, float(dur), field_of(arg))
             for pair, record, dur, arg in zip(raw, records, duration, field_args)]
    values = np.asarray(pairs, dtype=np.float64).reshape(count, 2)
    return values[:, 0].copy(), values[:, 1].copy()


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = [row for row in csv.reader(io.StringIO(read_text(path), newline='')) if row]
    if not rows:
        raise InputError(path, 'file is empty')
    return [h.strip() for h in rows[0]], rows[1:]
