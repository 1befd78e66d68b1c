"""Exact train/validation overlap: samples whose bytes are identical in both sets.

Rows are hashed with a vectorised 64-bit multiply-add over their words (numpy views, chunked so
the temporaries stay small), hashes are intersected, and every candidate pair is confirmed by
comparing the rows' bytes, so a hash collision can never report a false overlap. numpy only.
"""

from __future__ import annotations

import numpy as np

_CHUNK_ROWS = 16384
_SEED = 0x5EED_7A1C


def row_hashes(rows: np.ndarray) -> np.ndarray:
    """One uint64 per row of ``rows`` (any dtype, first axis = samples) from its raw bytes."""
    flat = np.ascontiguousarray(rows).reshape(len(rows), -1)
    nbytes = flat.shape[1] * flat.dtype.itemsize
    raw = flat.view(np.uint8).reshape(len(flat), nbytes)
    pad = (-nbytes) % 8
    words = nbytes // 8 if not pad else (nbytes + pad) // 8
    multipliers = (np.random.default_rng(_SEED).integers(1, 2**63, size=words, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
    out = np.empty(len(flat), dtype=np.uint64)
    for start in range(0, len(flat), _CHUNK_ROWS):
        block = raw[start : start + _CHUNK_ROWS]
        if pad:
            block = np.concatenate([block, np.zeros((len(block), pad), dtype=np.uint8)], axis=1)
        as_words = np.ascontiguousarray(block).view(np.uint64)
        # uint64 arithmetic wraps modulo 2**64, which is exactly the hash we want.
        with np.errstate(over="ignore"):
            h = (as_words * multipliers).sum(axis=1, dtype=np.uint64)
            h ^= h >> np.uint64(29)
        out[start : start + len(block)] = h
    return out


def overlapping_rows(train: np.ndarray, evaluation: np.ndarray, limit_examples: int = 5) -> tuple[int, list[int]]:
    """(number of evaluation rows identical to some training row, first few such row indices)."""
    if len(train) == 0 or len(evaluation) == 0:
        return 0, []
    train_h = row_hashes(train)
    eval_h = row_hashes(evaluation)
    order = np.argsort(train_h, kind="stable")
    sorted_h = train_h[order]
    pos = np.searchsorted(sorted_h, eval_h)
    pos_clipped = np.minimum(pos, len(sorted_h) - 1)
    candidates = np.nonzero(sorted_h[pos_clipped] == eval_h)[0]
    train_flat = np.ascontiguousarray(train).reshape(len(train), -1).view(np.uint8)
    eval_flat = np.ascontiguousarray(evaluation).reshape(len(evaluation), -1).view(np.uint8)
    confirmed: list[int] = []
    for i in candidates.tolist():
        j = pos_clipped[i]
        # Equal hashes form a run in the sorted order; confirm against any row of the run.
        while j < len(sorted_h) and sorted_h[j] == eval_h[i]:
            if np.array_equal(train_flat[order[j]], eval_flat[i]):
                confirmed.append(i)
                break
            j += 1
    return len(confirmed), confirmed[:limit_examples]


def overlapping_indices(train_indices, eval_indices, limit_examples: int = 5) -> tuple[int, list[int]]:
    """Index overlap of two Subsets of one dataset: (count, first few shared indices)."""
    shared = np.intersect1d(np.asarray(train_indices), np.asarray(eval_indices))
    return int(len(shared)), [int(i) for i in shared[:limit_examples]]
