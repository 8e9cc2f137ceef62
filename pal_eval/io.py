"""Small file helpers shared by every stage: atomic writes, JSON with clear errors."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pal_eval.errors import InputError, PalEvalError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = 'w') -> Iterator[IO]:
    """Write ``path`` through a temporary file in the same folder, renamed on success.

    A crash or a kill at any moment leaves either the old file or the new one,
    never a truncated file. The file gets the permissions a plain ``open`` would give
    it (``0o666`` less the umask; an overwritten file keeps its own), not the ``0o600``
    of the temporary file.

    Args:
        path: Destination file.
        mode: ``'w'`` (text) or ``'wb'`` (binary).

    Raises:
        InputError: the folder cannot be created or written (a parent is a file, no
            permission, disk full).

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / 'a.txt'
        >>> with atomic_write(target) as f:
        ...     _ = f.write('hello')
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    except OSError as exc:
        raise InputError(path, f'cannot write: {_os_reason(exc)}') from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise InputError(path, f'cannot write: {_os_reason(exc)}') from None
        try:
            os.chmod(tmp, _permissions_for(path))
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(path, f'cannot write: {_os_reason(exc)}') from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _permissions_for(path: Path) -> int:
    """Mode bits a new file at ``path`` should get: the existing file's, else 0o666 - umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)   # os has no getter: read by setting, then restore at once
        os.umask(umask)
        return 0o666 & ~umask


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        return 'a parent of the path is a file, not a folder'
    return exc.strerror or str(exc)


def check_outputs(outputs: Iterable[tuple[str, str | os.PathLike | None]], *,
                  force: bool = False,
                  inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """The one output guard of every writer: refuse, before anything is computed, an
    output that would destroy what a user made.

    Refused: an existing file without ``force``; an output that is one of the inputs
    (even with ``force``); two outputs naming the same file; an existing folder where a
    file is to be written; a parent that is a file.

    Args:
        outputs: ``(option name, path)`` pairs, e.g. ``[('--out', args.out)]``; ``None``
            paths are skipped.
        force: Allow replacing existing files.
        inputs: Files the command reads; ``None`` entries are skipped.

    Raises:
        PalEvalError: one line naming the option and the path.

    Examples:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> (folder / 'm.json').write_text('{}')
        2
        >>> check_outputs([('--out', folder / 'm.json')])
        Traceback (most recent call last):
        ...
        pal_eval.errors.PalEvalError: --out ....json: already exists (pass --force to overwrite)
        >>> check_outputs([('--out', folder / 'm.json')], force=True)
    """
    read = {Path(p).resolve(): Path(p) for p in inputs if p is not None}
    seen: dict[Path, str] = {}
    for option, raw in outputs:
        if raw is None:
            continue
        path = Path(raw)
        resolved = path.resolve()
        if resolved in read:
            raise PalEvalError(f'{option} {path}: is also an input of this command '
                               f'({read[resolved]}); choose another output path')
        if resolved in seen:
            raise PalEvalError(f'{option} {path}: the same file as {seen[resolved]}; give '
                               'each output its own path')
        seen[resolved] = option
        if path.is_dir():
            raise PalEvalError(f'{option} {path}: is a folder, expected a file path')
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise PalEvalError(f'{option} {path}: {parent} is a file, not a folder')
        if path.exists() and not force:
            raise PalEvalError(f'{option} {path}: already exists (pass --force to overwrite)')


def check_output_folder(option: str, folder: str | os.PathLike | None, *,
                        ours: Callable[[Path], bool], writer: str) -> bool:
    """The folder-level sibling of :func:`check_outputs`: refuse, before any work, to
    write into a folder that holds something a user made.

    A folder may be written when it is absent, empty, or recognised by ``ours`` as one
    this very command wrote earlier (a resume, or a ``--force`` / ``--overwrite`` rerun
    that deletes only what that earlier run lists). Anything else (a file, a non-empty
    folder of someone else's files) is refused, whatever the flags: deleting or
    overwriting it could destroy work that exists nowhere else.

    Args:
        option: The command-line option, named in the error (``'--out'``).
        folder: The folder; ``None`` is skipped.
        ours: Whether a non-empty folder was written by ``writer`` (reads its marker).
        writer: Who writes such folders, named in the error (``'pal-eval extract'``).

    Returns:
        ``True`` when the folder exists, is non-empty and is ours; ``False`` when it is
        absent or empty.

    Raises:
        PalEvalError: one line naming the option, the folder and why.

    Examples:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> check_output_folder('--out', folder, ours=lambda p: False, writer='me')
        False
        >>> _ = (folder / 'notes.txt').write_text('mine')
        >>> check_output_folder('--out', folder, ours=lambda p: False, writer='me')
        Traceback (most recent call last):
        ...
        pal_eval.errors.PalEvalError: --out ...: not empty and not written by me ...
    """
    if folder is None:
        return False
    path = Path(folder)
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise PalEvalError(f'{option} {path}: {parent} is a file, not a folder')
    if path.exists() and not path.is_dir():
        raise PalEvalError(f'{option} {path}: is a file, expected a folder')
    if not path.is_dir() or not any(path.iterdir()):
        return False
    if not ours(path):
        raise PalEvalError(f'{option} {path}: not empty and not written by {writer} '
                           '(nothing in it is replaced or deleted); choose a new or empty '
                           'folder')
    return True


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


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


class _RepeatedKey(ValueError):
    """A JSON object repeats a key (raised from the parser hook, reported by read_json)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _RepeatedKey(repeated)
    return obj


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, turning I/O and syntax problems into one-line :class:`InputError`.

    Stricter than ``json.load`` where leniency would change a result silently: a
    repeated key in an object is an error (``json`` keeps the last one, so a video
    listed twice would lose its first predictions), and so are numbers too long to
    convert and nesting too deep to parse.

    Raises:
        InputError: the file is missing, empty, not valid JSON, repeats a key, or holds
            an integer of more than 4300 digits or absurdly deep nesting.

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / 'r.json'
        >>> _ = f.write_text('{"results": {"v_1": [], "v_1": []}}')
        >>> read_json(f)
        Traceback (most recent call last):
        ...
        pal_eval.errors.InputError: ...r.json: repeated key 'v_1' in one JSON object ...
    """
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _RepeatedKey as exc:
        raise InputError(path, f'repeated key {exc.args[0]!r} in one JSON object (each key '
                               'may appear once)') from None
    except json.JSONDecodeError as exc:
        line = getattr(exc, 'lineno', None)
        where = f' (line {line})' if line else ''
        raise InputError(path, f'not valid JSON{where}: {exc.args[0].split(":")[0]}') from None
    except RecursionError:
        raise InputError(path, 'not valid JSON: nested too deeply to read') from None
    except ValueError as exc:   # int() limit: 'Exceeds the limit (4300 digits) ...'
        raise InputError(path, f'not valid JSON: a number cannot be read ({exc.args[0]})'
                         ) from None


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file safely; I/O and syntax problems become one-line ``InputError``.

    A mapping that repeats a key is an error (PyYAML keeps the last one silently).

    Raises:
        InputError: the file is missing, empty, not valid YAML or repeats a key.
    """
    import yaml

    path = Path(path)
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_unique_key_loader())  # a SafeLoader subclass
    except _RepeatedKey as exc:
        key, line = exc.args
        raise InputError(path, f'repeated key {key!r} (line {line}) in one YAML mapping '
                               '(each key may appear once)') from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = f' (line {mark.line + 1})' if mark is not None else ''
        raise InputError(path, f'not valid YAML{where}') from None
    except RecursionError:
        raise InputError(path, 'not valid YAML: nested too deeply to read') from None


@functools.cache
def _unique_key_loader():
    """PyYAML's SafeLoader refusing repeated keys (built on first use: no yaml import
    for commands that never read YAML)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses a mapping repeating a key."""

        def construct_mapping(self, node, deep=False):
            keys = set()
            for key_node, _ in node.value:
                if key_node.tag == 'tag:yaml.org,2002:merge':
                    continue               # '<<: *base' may be overridden on purpose
                key = self.construct_object(key_node, deep=deep)
                try:
                    repeated = key in keys
                except TypeError:          # unhashable key: let PyYAML report it
                    break
                if repeated:
                    raise _RepeatedKey(key, key_node.start_mark.line + 1)
                keys.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def configs_root() -> Path:
    """The project's ``configs/`` folder: the checkout's, else the copy installed with the
    package (``pal_eval/.mim/configs``, as mmaction2 ships its configs).

    Examples:
        >>> (configs_root() / '_base_' / 'default_runtime.py').is_file()
        True
    """
    package = Path(__file__).resolve().parent
    checkout = package.parent / 'configs'
    return checkout if checkout.is_dir() else package / '.mim' / 'configs'
