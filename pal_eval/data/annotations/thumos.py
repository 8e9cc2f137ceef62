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


def load_thumos14_csv(path: str | os.PathLike, subset: str | None = None, *,
                      classes: tuple[str, ...] = THUMOS14_CLASSES,
                      tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """THUMOS14 test ground truth from either published CSV; every row is a ``test`` video.

    * G-TAD's ``test_Annotation.csv`` (``video,type,type_idx,start,end,...``);
    * ``thumos14_test_groundtruth.csv`` (``video-name,t-init,t-end,...,label-idx``, with
      durations and frame rates; ``label-idx`` indexes ``classes``, ``-1`` = Ambiguous).

    'Ambiguous' segments go to ``ActionAnnotations.ambiguous``, not ``instances``.

    Args:
        path: The CSV file.
        subset: ``'test'`` or ``None`` (any other subset is an error).
        classes: Class list indexed by ``label-idx`` in the groundtruth CSV.
        tolerance: Seconds a segment may end past the duration and be clipped.
    """
    path = Path(path)
    check_subset(path, subset, ['test'])
    subset = 'test'
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
        videos.setdefault(video_id, VideoInfo(video_id, subset, duration, fps))
        start = checker.number(row[col[start_name]], video_id, start_name)
        end = checker.number(row[col[end_name]], video_id, end_name)
        start, end = checker.times(start, end, video_id, duration, f'{start_name}/{end_name}')
        (ambiguous if label == AMBIGUOUS_LABEL else instances).append(
            (video_id, start, end, label))
    checker.report()
    return ActionAnnotations(videos, instances_frame(instances), list(classes), str(path),
                             instances_frame(ambiguous))


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

