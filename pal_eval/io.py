"""Small file helpers shared by every stage: atomic writes, JSON and YAML with clear errors."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pal_eval.errors import InputError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = 'w') -> Iterator[IO]:
    """Write ``path`` through a temporary file in the same folder, renamed on success.

    A crash or a kill at any moment leaves either the old file or the new one,
    never a truncated file.

    Args:
        path: Destination file.
        mode: ``'w'`` (text) or ``'wb'`` (binary).

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / 'a.txt'
        >>> with atomic_write(target) as f:
        ...     _ = f.write('hello')
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Atomically write ``obj`` as JSON (sorted insertion order kept, UTF-8)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=indent, ensure_ascii=False)
        handle.write('\n')


def read_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file, turning I/O problems and emptiness into one-line ``InputError``.

    Raises:
        InputError: the file is missing, a directory, unreadable, not UTF-8, or empty.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise InputError(path, 'file not found') from None
    except IsADirectoryError:
        raise InputError(path, 'is a directory, expected a file') from None
    except UnicodeDecodeError:
        raise InputError(path, 'cannot read: not UTF-8 text') from None
    except OSError as exc:
        raise InputError(path, f'cannot read: {exc.strerror}') from None
    if not text.strip():
        raise InputError(path, 'file is empty')
    return text


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, turning I/O and syntax problems into one-line :class:`InputError`.

    Raises:
        InputError: the file is missing, empty, or not valid JSON.
    """
    return _parse(path, 'JSON', json.loads, json.JSONDecodeError,
                  lambda exc: getattr(exc, 'lineno', None),
                  lambda exc: ': ' + exc.args[0].split(':')[0])


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file safely; I/O and syntax problems become one-line ``InputError``."""
    import yaml  # only the leaderboard's files are YAML: keep `import pal_eval.io` light

    def line(exc) -> int | None:
        mark = getattr(exc, 'problem_mark', None)
        return mark.line + 1 if mark is not None else None

    return _parse(path, 'YAML', yaml.safe_load, yaml.YAMLError, line, lambda exc: '')


def _parse(path: str | os.PathLike, kind: str, parse, error: type[Exception], line_of,
           detail) -> Any:
    """``parse(text of path)``; a syntax error becomes ``not valid <kind> (line N)<detail>``."""
    path = Path(path)
    text = read_text(path)
    try:
        return parse(text)
    except error as exc:
        line = line_of(exc)
        where = f' (line {line})' if line else ''
        raise InputError(path, f'not valid {kind}{where}{detail(exc)}') from None


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()
