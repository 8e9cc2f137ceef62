"""Errors a user can fix, reported as one line (no traceback) by the CLI."""
from __future__ import annotations

from os import PathLike


class PalEvalError(Exception):
    """Error caused by user input: the CLI prints ``error: <message>`` and exits 2."""


class InputError(PalEvalError, ValueError):
    """Malformed input file: names the file, and where known the record and the field.

    Args:
        path: The offending file.
        message: What is wrong.
        record: The video id / query id / line number concerned, if any.
        field: The field concerned, if any.

    Examples:
        >>> str(InputError('gt.json', 'must be a number', record='v_1', field='segment'))
        "gt.json, video 'v_1', field 'segment': must be a number"
    """

    def __init__(self, path: str | PathLike, message: str, *, record: str | None = None,
                 field: str | None = None, record_kind: str = 'video'):
        self.path = str(path)
        self.record = record
        self.field = field
        where = [self.path]
        if record is not None:
            where.append(f'{record_kind} {record!r}')
        if field is not None:
            where.append(f'field {field!r}')
        super().__init__(', '.join(where) + f': {message}')
