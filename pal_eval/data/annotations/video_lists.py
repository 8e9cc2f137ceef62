"""Lists of video ids: ActivityNet's blocked videos, OpenTAD's ``missing_files.txt``.

The ActivityNet evaluator drops "blocked" videos (removed from YouTube) from the ground
truth and the predictions when asked (``check_status``); OpenTAD, BMN and followers report
on the 4,728 validation videos left by their ``blocked.json``. No public repository holds
that file: OpenTAD's ``tools/prepare_data/activitynet/download_annotation.sh`` fetches it
with its annotations (from Google Drive), the official evaluator from a server. A user
passes their copy; this module reads it in any of the shapes these lists come in.
"""
from __future__ import annotations

import os
from pathlib import Path

from pal_eval.data.annotations.checks import read_csv_rows
from pal_eval.errors import InputError
from pal_eval.io import read_json, read_text

__all__ = ['read_video_list', 'with_either_prefix']


def read_video_list(path: str | os.PathLike) -> list[str]:
    """Video ids of a list file, in file order, without repeats.

    Accepted: a JSON list of ids (OpenTAD's ``blocked.json``) or an object whose keys are
    the ids; a CSV with a ``video`` column (BSN's ``video_info_new.csv``); else plain text,
    one id per line (OpenTAD's ``missing_files.txt``; blank lines ignored).

    Raises:
        InputError: unreadable file, a JSON value that is no list of strings, an empty list.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / 'blocked.json'
        >>> _ = p.write_text('["a", "b", "a"]')
        >>> read_video_list(p)
        ['a', 'b']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == '.json':
        data = read_json(path)
        ids = list(data) if isinstance(data, dict) else data
        if not isinstance(ids, list) or not all(isinstance(v, str) for v in ids):
            raise InputError(path, 'expected a JSON list of video ids')
    elif suffix == '.csv':
        header, rows = read_csv_rows(path)
        if 'video' not in header:
            raise InputError(path, 'a CSV video list needs a "video" column', field='header')
        column = header.index('video')
        ids = [row[column].strip() for row in rows if len(row) > column]
    else:
        ids = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    if not ids:
        raise InputError(path, 'the video list is empty')
    return list(dict.fromkeys(ids))


def with_either_prefix(ids) -> set[str]:
    """Each id with and without the ActivityNet ``v_`` prefix (lists use both spellings).

    Examples:
        >>> sorted(with_either_prefix(['v_a', 'b']))
        ['a', 'b', 'v_a', 'v_b']
    """
    out = set()
    for video_id in ids:
        out.add(video_id)
        out.add(video_id[2:] if video_id.startswith('v_') else f'v_{video_id}')
    return out
