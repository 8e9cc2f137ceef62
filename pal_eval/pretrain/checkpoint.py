"""Safe loading of weight files and mapping their keys onto :class:`PALBackbone`.

Functional core with no MMEngine import: every weight file a user hands us (a PAL or
MoCoV2 pretraining checkpoint, an exported backbone, a fine-tuned recognizer) goes
through :func:`safe_torch_load`, which keeps ``weights_only=True`` so that a crafted
pickle cannot run code, and through :func:`extract_encoder_state_dict`, which finds
the encoder weights whatever the wrapper around them.
"""
from __future__ import annotations

import os
import pickle
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from pal_eval.errors import InputError

#: Prefixes under which the clip encoder's weights are found, tried in order: an exported
#: backbone / bare PALBackbone state dict, a PAL / MoCoV2 / Recognizer3D checkpoint (query
#: encoder), and the same saved from a DDP-wrapped model.
ENCODER_PREFIXES: tuple[str, ...] = ('', 'backbone.', 'module.backbone.')


def safe_torch_load(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors for the user.

    Args:
        path: A ``.pth`` file.

    Returns:
        The loaded object (tensors, dicts, lists and MMEngine's allow-listed types only).

    Raises:
        InputError: the file is missing, is not a torch file, or holds a pickle that
            would need arbitrary code to load (refused, never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, 'weight file not found')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch raises UnpicklingError for any global outside the allow-list, e.g. a
        # __reduce__ that calls os.system: we refuse the file and never execute it.
        unsafe = re.search(r'(?:unsupported|Unsupported global:) GLOBAL (\S+)', str(exc))
        if unsafe:
            raise InputError(path, f'refused to load: the file asks to call {unsafe.group(1)} '
                             'while unpickling (only plain weights are accepted, loaded with '
                             'weights_only=True)') from None
        raise InputError(path, 'not a torch weight file (cannot unpickle it with '
                         'weights_only=True)') from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(path, f'not a readable torch weight file: {exc}'.splitlines()[0]) \
            from None
    except Exception as exc:  # noqa: BLE001 - a text or random file makes the restricted
        # unpickler fail with whatever its opcodes hit (KeyError, IndexError...)
        raise InputError(path, 'not a torch weight file (its bytes are not a pickle: '
                         f'{type(exc).__name__})') from None


def state_dict_of(obj: Any, path: str | os.PathLike) -> Mapping[str, torch.Tensor]:
    """Return the flat ``name -> tensor`` mapping stored in a loaded checkpoint object."""
    if isinstance(obj, Mapping) and isinstance(obj.get('state_dict'), Mapping):
        obj = obj['state_dict']
    if not isinstance(obj, Mapping) or not obj:
        raise InputError(path, 'no state_dict found in the weight file')
    return obj


def extract_encoder_state_dict(
        state_dict: Mapping[str, torch.Tensor], expected_keys: Iterable[str],
        path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Pick the encoder weights out of ``state_dict`` and name them like ``expected_keys``.

    Args:
        state_dict: Flat mapping from a checkpoint.
        expected_keys: The keys of the target module's state dict (``encoder.conv1...``).
        path: The file, for error messages.

    Returns:
        A state dict with exactly ``expected_keys``.

    Raises:
        InputError: no prefix gives every expected key.

    Examples:
        >>> import torch
        >>> sd = {'backbone.encoder.w': torch.ones(1), 'key_backbone.encoder.w': torch.zeros(1)}
        >>> extract_encoder_state_dict(sd, ['encoder.w'], 'ckpt.pth')['encoder.w']
        tensor([1.])
    """
    expected = list(expected_keys)
    for prefix in ENCODER_PREFIXES:
        if all(prefix + key in state_dict for key in expected):
            return {key: state_dict[prefix + key] for key in expected}
    example = expected[0] if expected else '?'
    found = next(iter(state_dict), '?')
    raise InputError(path, f'no PALBackbone weights found: expected keys like {example!r} '
                     f'(optionally under {", ".join(repr(p) for p in ENCODER_PREFIXES[1:])}), '
                     f'found keys like {found!r}')


def check_shapes(loaded: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                 path: str | os.PathLike) -> None:
    """Raise a one-line :class:`InputError` when a loaded tensor's shape does not fit."""
    for key, tensor in target.items():
        if tuple(loaded[key].shape) != tuple(tensor.shape):
            raise InputError(path, f'weight {key!r} has shape {tuple(loaded[key].shape)}, the '
                             f'backbone expects {tuple(tensor.shape)} (different arch or '
                             'base_channels?)')
