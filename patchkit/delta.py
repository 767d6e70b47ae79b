"""Minimal slices and exact deltas, on raw numpy arrays.

A slice is the bounding box of the changed elements: one half-open
``(start, stop)`` per dimension — except that one dimension may instead list
the indices it keeps (:class:`Picked`), when the changed elements are spread
out along it (an edit of 192 chosen neurons of a 1536-neuron projection: the
box would hold eight times the parameters). A delta is ``patched - base`` over that box,
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
from dataclasses import dataclass

import numpy as np

from patchkit import errors


@dataclass(frozen=True)
class Picked:
    """One dimension of a slice given as the indices it keeps (sorted, distinct), not as a range."""

    values: tuple[int, ...]

    def to_json(self) -> dict[str, list[int]]:
        return {"index": list(self.values)}


Dim = tuple[int, int] | Picked
Slice = tuple[Dim, ...]
# a dimension is listed index by index when that keeps at most this share of its bounding range
PICK_SHARE = 0.5

FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
DELTA_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays hold the same bytes (NaN payloads and signed zeros included)."""
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(_bits(a), _bits(b)))


def changed_box(base: np.ndarray, edited: np.ndarray) -> Slice | None:
    """The smallest slice holding every element whose bits differ, or None when nothing changed.

    The bounding box, with the one dimension along which the changed elements are sparsest listed
    index by index when that keeps at most ``PICK_SHARE`` of the box.
    """
    diff = _bits(base) != _bits(edited)
    if not diff.any():
        return None
    if diff.ndim == 0:
        return ()
    box: list[Dim] = [(int(i.min()), int(i.max()) + 1) for i in np.nonzero(diff)]
    used = [np.flatnonzero(diff.any(axis=tuple(a for a in range(diff.ndim) if a != d))) for d in range(diff.ndim)]
    share = [len(u) / (b - a) for u, (a, b) in zip(used, box)]
    d = int(np.argmin(share))
    if share[d] <= PICK_SHARE:
        box[d] = Picked(tuple(int(v) for v in used[d]))
    return tuple(box)


def index(slc: Slice) -> tuple[slice | np.ndarray, ...]:
    """The Python index for a slice: ``a[index(slc)]`` (a copy where a dimension is picked; assign with
    ``a[index(slc)] = v``)."""
    return tuple(np.array(d.values, dtype=np.int64) if isinstance(d, Picked) else slice(d[0], d[1]) for d in slc)


def slice_shape(slc: Slice) -> tuple[int, ...]:
    return tuple(len(d.values) if isinstance(d, Picked) else d[1] - d[0] for d in slc)


def format_slice(slc: Slice, shape: tuple[int, ...]) -> str:
    """Readable form, full dimensions as ``:`` (e.g. ``[:, 1536:2304]``; a picked one as ``[:, 192 of 1536]``)."""
    def one(d: Dim, n: int) -> str:
        if isinstance(d, Picked):
            return f"{len(d.values)} of {n}"
        return ":" if tuple(d) == (0, n) else f"{d[0]}:{d[1]}"

    return "[" + ", ".join(one(d, n) for d, n in zip(slc, shape)) + "]"


def inside(slc: Slice, shape: tuple[int, ...]) -> bool:
    """True when the slice is non-empty and within ``shape``: ranges ``0 <= a < b <= n``, at most one
    picked dimension, its indices distinct, increasing and below ``n``."""
    if len(slc) != len(shape) or sum(isinstance(d, Picked) for d in slc) > 1:
        return False
    for d, n in zip(slc, shape):
        if isinstance(d, Picked):
            v = d.values
            if not v or v[0] < 0 or v[-1] >= n or any(a >= b for a, b in zip(v, v[1:])):
                return False
        elif not 0 <= d[0] < d[1] <= n:
            return False
    return True


def parse_slice(raw: object) -> Slice:
    """A manifest's ``slice`` (``[[a, b], {"index": [...]}, ...]``) as a :data:`Slice`; ValueError if malformed."""
    if not isinstance(raw, list):
        raise ValueError("a slice is a list")
    out: list[Dim] = []
    for d in raw:
        if isinstance(d, dict) and set(d) == {"index"} and isinstance(d["index"], list):
            out.append(Picked(tuple(_int(v) for v in d["index"])))
        elif isinstance(d, list) and len(d) == 2:
            out.append((_int(d[0]), _int(d[1])))
        else:
            raise ValueError(f"not a dimension: {d!r}")
    return tuple(out)


def slice_json(slc: Slice) -> list:
    """The manifest form of a :data:`Slice` (inverse of :func:`parse_slice`)."""
    return [d.to_json() if isinstance(d, Picked) else [d[0], d[1]] for d in slc]


def intersect(a: Slice, b: Slice) -> Slice | None:
    """The elements two slices of one tensor share, as a slice (None when they share none)."""
    out: list[Dim] = []
    for x, y in zip(a, b):
        if isinstance(x, Picked) or isinstance(y, Picked):
            common = sorted(set(_values(x)) & set(_values(y)))
            if not common:
                return None
            out.append(Picked(tuple(common)))
        else:
            lo, hi = max(x[0], y[0]), min(x[1], y[1])
            if lo >= hi:
                return None
            out.append((lo, hi))
    return tuple(out)


def _values(d: Dim) -> tuple[int, ...] | range:
    return d.values if isinstance(d, Picked) else range(d[0], d[1])


def _int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"not an integer: {v!r}")
    return v


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
