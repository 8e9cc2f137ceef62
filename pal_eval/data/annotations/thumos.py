"""THUMOS14 temporal annotations in their CSV and per-class txt layouts.

(G-TAD's ActivityNet-style ``thumos_gt.json`` is read by :mod:`.activitynet`.)
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

from pal_eval.data.annotations.canonical import (
    AMBIGUOUS_LABEL,
    DURATION_TOLERANCE,
    ActionAnnotations,
    VideoInfo,
    instances_frame,
)
from pal_eval.data.annotations.checks import SegmentChecker, check_subset, read_csv_rows
from pal_eval.errors import InputError

#: THUMOS14's 20 detection classes; ``label-idx`` in ``thumos14_test_groundtruth.csv``
#: indexes this (alphabetical) list, ``-1`` meaning 'Ambiguous'.
THUMOS14_CLASSES: tuple[str, ...] = (
    'BaseballPitch', 'BasketballDunk', 'Billiards', 'CleanAndJerk', 'CliffDiving',
    'CricketBowling', 'CricketShot', 'Diving', 'FrisbeeCatch', 'GolfSwing', 'HammerThrow',
    'HighJump', 'JavelinThrow', 'LongJump', 'PoleVault', 'Shotput', 'SoccerPenalty',
    'TennisSwing', 'ThrowDiscus', 'VolleyballSpiking')


#: THUMOS14 detection class -> its id among THUMOS's 101 classes (``type_idx`` in G-TAD's
#: ``{val,test}_Annotation.csv``; column ``id - 1`` of UntrimmedNet's ``uNet_test.npy``).
#: Published mapping: ``thumos_class`` in frostinassiky/gtad ``gtad_postprocess.py``.
THUMOS14_CLASS_IDS: dict[str, int] = {
    'BaseballPitch': 7, 'BasketballDunk': 9, 'Billiards': 12, 'CleanAndJerk': 21,
    'CliffDiving': 22, 'CricketBowling': 23, 'CricketShot': 24, 'Diving': 26,
    'FrisbeeCatch': 31, 'GolfSwing': 33, 'HammerThrow': 36, 'HighJump': 40,
    'JavelinThrow': 45, 'LongJump': 51, 'PoleVault': 68, 'Shotput': 79, 'SoccerPenalty': 85,
    'TennisSwing': 92, 'ThrowDiscus': 93, 'VolleyballSpiking': 97}


def load_thumos14_csv(path: str | os.PathLike, subset: str | None = None, *,
                      classes: tuple[str, ...] = THUMOS14_CLASSES,
                      tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """THUMOS14 ground truth from either published CSV layout.

    A video's subset follows its id (``video_validation_*``: ``validation``, THUMOS14's
    training split; the rest: ``test``), so G-TAD's ``val_Annotation.csv`` trains a head.

    * G-TAD's ``{val,test}_Annotation.csv`` (``video,type,type_idx,start,end,startFrame,
      endFrame``: the frame columns give each video's frame rate);
    * ``thumos14_test_groundtruth.csv`` (``video-name,t-init,t-end,...,label-idx``, with
      durations and frame rates; ``label-idx`` indexes ``classes``, ``-1`` = Ambiguous).

    'Ambiguous' segments go to ``ActionAnnotations.ambiguous``, not ``instances``.

    Args:
        path: The CSV file.
        subset: ``'validation'``, ``'test'`` or ``None`` (all); absent subsets are errors.
        classes: Class list indexed by ``label-idx`` in the groundtruth CSV.
        tolerance: Seconds a segment may end past the duration and be clipped.
    """
    path = Path(path)
    header, rows = read_csv_rows(path)
    if {'video-name', 't-init', 't-end', 'label-idx'} <= set(header):
        layout = 'groundtruth'  # thumos14_test_groundtruth.csv (with durations and fps)
        need = ('video-name', 't-init', 't-end', 'label-idx')
    elif {'video', 'type', 'start', 'end'} <= set(header):
        layout = 'annotation'   # test_Annotation.csv (class names, 'Ambiguous' rows)
        need = ('video', 'type', 'start', 'end')
    else:
        raise InputError(path, 'unknown THUMOS14 CSV header; expected video-name,t-init,'
                         't-end,...,label-idx or video,type,...,start,end', field='header')
    col = {name: header.index(name) for name in header}
    start_name, end_name = need[1:3] if layout == 'groundtruth' else ('start', 'end')
    # The official THUMOS14 test CSV has segments far past its own 'video-duration' for
    # three videos (video_test_0000270, 0000814, 0001081); the official evaluation keeps
    # them, so they are kept and reported by one warning instead of refused.
    checker = SegmentChecker(path, tolerance, keep_overshoots=True)
    videos: dict[str, VideoInfo] = {}
    instances, ambiguous = [], []
    frames_per_video: dict[str, list[float]] = {}  # sum of frame numbers, sum of seconds
    present: set[str] = set()
    for line_no, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise checker.error(f'line {line_no}', None,
                                f'has {len(row)} columns, the header has {len(header)}')
        video_id = row[col[need[0]]].strip()
        if not video_id:
            raise checker.error(f'line {line_no}', need[0], 'empty video id')
        duration, fps = math.nan, None
        if layout == 'groundtruth':
            if 'video-duration' in col:
                duration = checker.duration(row[col['video-duration']], video_id,
                                            'video-duration')
            if 'frame-rate' in col:
                fps = checker.duration(row[col['frame-rate']], video_id, 'frame-rate')
            index = checker.number(row[col['label-idx']], video_id, 'label-idx')
            if index == -1:
                label = AMBIGUOUS_LABEL
            elif index.is_integer() and 0 <= index < len(classes):
                label = classes[int(index)]
            else:
                raise checker.error(video_id, 'label-idx',
                                    f'{row[col["label-idx"]]!r} is not -1 or 0..'
                                    f'{len(classes) - 1}')
        else:
            label = row[col['type']].strip()
            if not label:
                raise checker.error(video_id, 'type', 'empty class name')
        video_subset = thumos14_subset(video_id)
        present.add(video_subset)
        if subset is not None and video_subset != subset:
            continue
        videos.setdefault(video_id, VideoInfo(video_id, video_subset, duration, fps))
        start = checker.number(row[col[start_name]], video_id, start_name)
        end = checker.number(row[col[end_name]], video_id, end_name)
        start, end = checker.times(start, end, video_id, duration, f'{start_name}/{end_name}')
        if layout == 'annotation' and {'startFrame', 'endFrame'} <= set(col):
            sums = frames_per_video.setdefault(video_id, [0.0, 0.0])
            sums[0] += checker.number(row[col['startFrame']], video_id, 'startFrame') + \
                checker.number(row[col['endFrame']], video_id, 'endFrame')
            sums[1] += start + end
        (ambiguous if label == AMBIGUOUS_LABEL else instances).append(
            (video_id, start, end, label))
    check_subset(path, subset, present)
    checker.report()
    # G-TAD's CSVs give each boundary in seconds and in frames: their ratio is the video's
    # frame rate (25 on the 25 fps videos; 29.97 fps ones read 30.0, 0.1 % off), which the
    # frame-strided grids of per-frame feature releases need.
    for video_id, (frames, seconds) in frames_per_video.items():
        if seconds > 0 and frames > 0 and videos[video_id].fps is None:
            info = videos[video_id]
            videos[video_id] = VideoInfo(video_id, info.subset, info.duration, frames / seconds)
    return ActionAnnotations(videos, instances_frame(instances), list(classes), str(path),
                             instances_frame(ambiguous))


def thumos14_subset(video_id: str) -> str:
    """``'validation'`` for ``video_validation_*`` ids, ``'test'`` otherwise.

    Examples:
        >>> thumos14_subset('video_validation_0000051'), thumos14_subset('video_test_0000004')
        ('validation', 'test')
    """
    return 'validation' if video_id.startswith('video_validation_') else 'test'


_THUMOS_TXT = re.compile(r'^(?P<label>.+)_(?P<split>val|test)\.txt$')


def load_thumos14_txt_folder(folder: str | os.PathLike, subset: str | None = None, *,
                             tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """The classic THUMOS14 folder: ``<Class>_{val,test}.txt`` with ``video start end``.

    Subsets ``validation`` and ``test``; ``Ambiguous_test.txt`` goes to ``ambiguous``.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if _THUMOS_TXT.match(p.name))
    split_names = {'val': 'validation', 'test': 'test'}
    present = {split_names[_THUMOS_TXT.match(p.name)['split']] for p in files}
    if not files:
        raise InputError(folder, 'no <Class>_val.txt / <Class>_test.txt annotation files')
    check_subset(folder, subset, present)
    videos: dict[str, VideoInfo] = {}
    instances, ambiguous, labels = [], [], []
    for file in files:
        match = _THUMOS_TXT.match(file.name)
        file_subset = split_names[match['split']]
        if subset is not None and file_subset != subset:
            continue
        label = match['label']
        if label != AMBIGUOUS_LABEL and label not in labels:
            labels.append(label)
        checker = SegmentChecker(file, tolerance)
        for line_no, line in enumerate(file.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                raise checker.error(f'line {line_no}', None,
                                    f'expected "video start end", got {line!r}')
            video_id = parts[0]
            start = checker.number(parts[1], video_id, 'start')
            end = checker.number(parts[2], video_id, 'end')
            start, end = checker.times(start, end, video_id, math.nan)
            videos.setdefault(video_id, VideoInfo(video_id, file_subset, math.nan))
            (ambiguous if label == AMBIGUOUS_LABEL else instances).append(
                (video_id, start, end, label))
    return ActionAnnotations(videos, instances_frame(instances), sorted(labels), str(folder),
                             instances_frame(ambiguous))

