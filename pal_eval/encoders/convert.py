"""Map a released checkpoint onto our module of the same architecture, or say exactly why not.

A released file wraps the backbone's weights in whatever its training code had: a DDP
``module.``, a MoCo ``encoder_q.`` (next to the key encoder ``encoder_k.`` and a queue), a
``nn.Sequential`` index (CoCLR's ``encoder_q.0.``), RSPNet's ``encoder.``, an mmaction2
``backbone.``; plus heads (``fc``, ``linear``, projection layers). :func:`convert_state_dict`
finds the prefix under which the backbone's keys live, drops the heads and the known
duplicates, and insists that what is left is exactly the module's keys with its shapes:
anything missing or unexpected is one :class:`~pal_eval.errors.InputError` line that
lists them (never a silent partial load).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

import torch

from pal_eval.errors import InputError

#: Top-level keys under which training scripts store the weights.
STATE_DICT_KEYS = ('state_dict', 'model', 'model_state_dict', 'net')
#: Prefixes that belong to another copy of the network (MoCo's key encoder, CoCLR's
#: second-view sampler, EMA / target networks): never taken as the encoder.
FOREIGN_TOKENS = ('encoder_k', 'key_', 'sampler', 'target', 'ema', 'teacher', 'momentum')
#: Keys (after the prefix) that are heads or projection layers of the released models.
HEAD_PATTERN = re.compile(r'^(fc|fc1|fc2|linear|new_fc|classifier|head|cls_head|'
                          r'avg_pool|drop|[1-9]\d*)(\.|$)')
#: CoCLR registers every layer twice (``Conv_1a`` and ``block1.0``): the ``blockN.i``
#: copies are the same tensors and are dropped after checking that they are.
COCLR_DUPLICATE = re.compile(r'^block[1-5]\.\d+\.')
MAX_LISTED = 6


def flat_state_dict(obj, path: str | os.PathLike) -> Mapping[str, torch.Tensor]:
    """The ``name -> tensor`` mapping of a loaded checkpoint (any of :data:`STATE_DICT_KEYS`)."""
    if isinstance(obj, Mapping):
        for key in STATE_DICT_KEYS:
            if isinstance(obj.get(key), Mapping) and obj[key]:
                return flat_state_dict(obj[key], path) if key != 'state_dict' else obj[key]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(k, str) for k in obj):
        raise InputError(path, 'no state dict found in the weight file (looked at the top '
                         f'level and under {", ".join(STATE_DICT_KEYS)})')
    return obj


def _listed(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    more = f' (+{len(keys) - MAX_LISTED} more)' if len(keys) > MAX_LISTED else ''
    return ', '.join(keys[:MAX_LISTED]) + more


def find_prefix(state_dict: Mapping[str, torch.Tensor], expected: Iterable[str],
                preferred: Iterable[str] = ('',)) -> str | None:
    """The prefix under which most of ``expected`` is found (``None``: none at all).

    ``preferred`` prefixes are tried first; otherwise a prefix is discovered from where the
    expected keys occur, skipping copies that are not the query encoder.

    Examples:
        >>> sd = {'module.encoder_q.w': 1, 'module.encoder_k.w': 2, 'module.queue': 3}
        >>> find_prefix(sd, ['w'])
        'module.encoder_q.'
    """
    expected = list(expected)
    found: dict[str, int] = {}
    for prefix in preferred:
        hits = sum(prefix + key in state_dict for key in expected)
        if hits:
            found[prefix] = hits
    if not found:
        probes = expected[:: max(1, len(expected) // 8)]
        for key in state_dict:
            for probe in probes:
                if key.endswith(probe) and (key == probe or key[-len(probe) - 1] == '.'):
                    prefix = key[:len(key) - len(probe)]
                    if not any(token in prefix for token in FOREIGN_TOKENS):
                        found[prefix] = sum(prefix + k in state_dict for k in expected)
    if not found:
        return None
    best = max(found.values())
    return next(p for p in [*preferred, *sorted(found, key=len)] if found.get(p) == best)


def convert_state_dict(state_dict: Mapping[str, torch.Tensor],
                       target: Mapping[str, torch.Tensor], path: str | os.PathLike, *,
                       preferred: Iterable[str] = ('',), name: str = 'encoder'
                       ) -> dict[str, torch.Tensor]:
    """Released weights -> a state dict with exactly ``target``'s keys and shapes.

    Args:
        state_dict: Flat mapping from the checkpoint.
        target: ``module.state_dict()`` of our module (or its keys and shapes).
        path: The file, named in errors.
        preferred: Prefixes to try first (the method's known wrappers).
        name: The encoder, named in errors.

    Returns:
        The converted state dict (load it with ``strict=True``).

    Raises:
        InputError: no key matches, or keys are missing / unexpected / of another shape.
    """
    prefix = find_prefix(state_dict, target.keys(), preferred)
    if prefix is None:
        raise InputError(path, f'not a {name} checkpoint: none of its keys (like '
                         f'{next(iter(target))!r}) found; keys look like '
                         f'{_listed(list(state_dict)[:3])}')
    inner = {key[len(prefix):]: value for key, value in state_dict.items()
             if key.startswith(prefix)}
    weights, unexpected = {}, []
    for key, value in inner.items():
        if key in target:
            weights[key] = value
        elif COCLR_DUPLICATE.match(key) or HEAD_PATTERN.match(key):
            continue
        else:
            unexpected.append(key)
    missing = [key for key in target if key not in weights]
    if missing or unexpected:
        parts = [f'{len(missing)} missing key(s): {_listed(missing)}'] if missing else []
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected key(s): {_listed(unexpected)}')
        raise InputError(path, f'does not fit {name} (prefix {prefix!r}): ' + '; '.join(parts))
    wrong = [f'{key} {tuple(weights[key].shape)} vs {tuple(t.shape)}'
             for key, t in target.items() if tuple(weights[key].shape) != tuple(t.shape)]
    if wrong:
        raise InputError(path, f'does not fit {name}: {len(wrong)} shape mismatch(es): '
                         f'{_listed(wrong)}')
    _check_duplicates(inner, weights, path)
    return weights


def _check_duplicates(inner: Mapping, weights: Mapping, path) -> None:
    """CoCLR's ``blockN.i.*`` copies must equal their named twins (the same tensors)."""
    by_shape: dict[tuple, list[torch.Tensor]] = {}
    for value in weights.values():
        by_shape.setdefault((tuple(value.shape), value.dtype), []).append(value)
    for key, value in inner.items():
        if COCLR_DUPLICATE.match(key) and key not in weights:
            twins = by_shape.get((tuple(value.shape), value.dtype), [])
            if not any(torch.equal(value, twin) for twin in twins):
                raise InputError(path, f'{key!r} duplicates no named layer (a CoCLR '
                                 'checkpoint registers each layer twice, with equal values)')
