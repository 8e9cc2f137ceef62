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


def check_known_keys(mapping, known, path: str | PathLike, *, section: str = '') -> None:
    """Refuse a key of ``mapping`` outside ``known``: a typo must never be ignored silently.

    A misspelt setting (``strid=4``) left alone would run with the default (stride 1)
    and exit 0; the error names the file, the key and the closest known key.

    Args:
        mapping: The section as read (its keys are checked).
        known: The keys this section accepts.
        path: The file, named in the error.
        section: Dotted name of the section (``'sampling'``; ``''`` for the top level).

    Raises:
        InputError: naming the file and the key, with "did you mean" when one is close.

    Examples:
        >>> try:
        ...     check_known_keys({'strid': 4}, ('stride', 'fps'), 'x.py', section='sampling')
        ... except InputError as exc:
        ...     print(exc)
        x.py, field 'sampling.strid': unknown key; did you mean 'stride'? (known: fps, stride)
    """
    import difflib

    known = sorted(known)
    for key in mapping:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f'; did you mean {close[0]!r}?' if close else ''
        raise InputError(path, f'unknown key{hint} (known: {", ".join(known)})',
                         field=f'{section}.{key}' if section else str(key))
