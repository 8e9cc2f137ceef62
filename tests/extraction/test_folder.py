"""The feature folder's bookkeeping: video lists and shards (no extraction run)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from pal_eval.extraction.folder import VideoEntry, list_videos, shard_videos


def test_list_file_with_ids_and_relative_paths(tiny_videos, tmp_path):
    listing = tiny_videos / 'list.txt'
    listing.write_text('# comment\nalpha.mp4\nmy_beta\tbeta.mp4\n\n')
    entries = list_videos(listing)
    listing.unlink()
    assert [e.video_id for e in entries] == ['alpha', 'my_beta']
    assert Path(entries[1].path) == tiny_videos / 'beta.mp4'


@pytest.mark.parametrize('count', [1, 2, 3, 7])
def test_shards_cover_every_video_exactly_once(count):
    entries = [VideoEntry(f'v{i:03d}', f'/x/v{i}.mp4') for i in range(23)]
    shuffled = random.Random(count).sample(entries, len(entries))
    shards = [shard_videos(entries, i, count) for i in range(count)]
    assert sorted(e.video_id for s in shards for e in s) == [e.video_id for e in entries]
    # the split does not depend on the listing order
    assert shards == [shard_videos(shuffled, i, count) for i in range(count)]
