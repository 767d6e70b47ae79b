"""Minimal slices and exact deltas, on raw numpy arrays.

A slice is the bounding box of the changed elements: one half-open
``(start, stop)`` per dimension. A delta is ``patched - base`` over that box,
in a dtype chosen so that both directions reproduce the other side bit for
bit. Elements whose delta is zero are left untouched in both directions, so
unchanged elements inside the box (including ``-0.0``) survive exactly.

Weights arrive as raw arrays in their safetensors dtype (bf16 as ``uint16``
bits, see :mod:`patchkit.checkpoint`). The same numpy arithmetic runs when a
patch is created, applied and reverted, so what create verified is exactly
what apply does — and streaming never needs torch.
"""

from __future__ import annotations

import math

import numpy as np

from patchkit import errors

Slice = tuple[tuple[int, ...], ...]

FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
DELTA_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays hold the same bytes (NaN payloads and signed zeros included)."""
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(_bits(a), _bits(b)))


def changed_box(base: np.ndarray, edited: np.ndarray) -> Slice | None:
    """The bounding box of elements whose bits differ, or None when nothing changed."""
    diff = _bits(base) != _bits(edited)
    if not diff.any():
        return None
    if diff.ndim == 0:
        return ()
    idx = np.nonzero(diff)
    return tuple((int(i.min()), int(i.max()) + 1) for i in idx)


def index(slc: Slice) -> tuple[slice, ...]:
    """The Python index for a slice: ``a[index(slc)]``."""
    return tuple(slice(a, b) for a, b in slc)


def slice_shape(slc: Slice) -> tuple[int, ...]:
    return tuple(b - a for a, b in slc)


def format_slice(slc: Slice, shape: tuple[int, ...]) -> str:
    """Readable form, full dimensions as ``:`` (e.g. ``[:, 1536:2304]``)."""
    parts = [":" if (a, b) == (0, n) else f"{a}:{b}" for (a, b), n in zip(slc, shape)]
    return "[" + ", ".join(parts) + "]"


def inside(slc: Slice, shape: tuple[int, ...]) -> bool:
    """True when the slice is a non-empty box within ``shape``."""
    return len(slc) == len(shape) and all(0 <= a < b <= n for (a, b), n in zip(slc, shape))


def make_delta(base: np.ndarray, patched: np.ndarray, dtype: str) -> np.ndarray:
    """``patched - base`` in the narrowest float dtype that is exact both ways.

    bf16/fp16 weights take an fp32 delta; fp32 weights try fp32 then fp64.
    Raises NotExactError when no candidate round-trips bit for bit.
    """
    if dtype not in FLOAT_DTYPES:
        raise errors.NotExactError(f"cannot patch {dtype} tensors: only {', '.join(FLOAT_DTYPES)} weights are supported")
    for name in ("F32", "F64") if dtype != "F64" else ("F64",):
        compute = DELTA_DTYPES[name]
        with np.errstate(all="ignore"):
            d = decode(patched, dtype, compute) - decode(base, dtype, compute)
        if bits_equal(add_delta(base, d, dtype), patched) and bits_equal(sub_delta(patched, d, dtype), base):
            return d
    raise errors.NotExactError("no delta dtype (fp32, fp64) reproduces both directions bit for bit")


def add_delta(base: np.ndarray, d: np.ndarray, dtype: str) -> np.ndarray:
    """``base + d`` computed in the delta's dtype and rounded back; zero-delta elements kept as they are."""
    with np.errstate(all="ignore"):
        out = encode(decode(base, dtype, d.dtype) + d, dtype)
    return np.where(d == 0, base, out)


def sub_delta(patched: np.ndarray, d: np.ndarray, dtype: str) -> np.ndarray:
    """``patched - d``: the inverse of :func:`add_delta`."""
    with np.errstate(all="ignore"):
        out = encode(decode(patched, dtype, d.dtype) - d, dtype)
    return np.where(d == 0, patched, out)


def stats(d: np.ndarray) -> tuple[float, float]:
    """(Frobenius norm, max |d|), exactly rounded so every machine gets the same floats."""
    values = np.asarray(d, dtype=np.float64).reshape(-1)
    if not np.isfinite(values).all():
        raise errors.NotExactError("delta holds non-finite values (inf/NaN in base or edited weights)")
    l2 = math.sqrt(math.fsum((values * values).tolist()))
    return l2, float(np.abs(values).max()) if values.size else 0.0


def decode(raw: np.ndarray, dtype: str, compute: np.dtype) -> np.ndarray:
    """Raw weights -> float values in ``compute`` (exact: every supported dtype widens losslessly)."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32).astype(compute, copy=False)
    return raw.astype(compute, copy=False)


def encode(values: np.ndarray, dtype: str) -> np.ndarray:
    """Float values -> raw weights of ``dtype``, round-to-nearest-even (bf16 via fp32, as torch does)."""
    if dtype == "BF16":
        bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
        rounded = ((bits + (((bits >> 16) & 1) + 0x7FFF)) >> 16).astype(np.uint16)
        return np.where(np.isnan(values), np.uint16(0x7FC0), rounded)
    return values.astype({"F16": np.float16, "F32": np.float32, "F64": np.float64}[dtype])


def _bits(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.view(_UINT[a.dtype.itemsize]) if a.dtype != np.bool_ else a
