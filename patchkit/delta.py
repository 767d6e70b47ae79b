"""Minimal slices and exact deltas.

A slice is the bounding box of the changed elements: one half-open
``(start, stop)`` per dimension. A delta is ``patched - base`` over that box,
in a dtype chosen so that both directions reproduce the other side bit for
bit. Elements whose delta is zero are left untouched in both directions, so
unchanged elements inside the box (including ``-0.0``) survive exactly.
"""

from __future__ import annotations

import math

import torch

from patchkit import errors

Slice = tuple[tuple[int, int], ...]

_INT_VIEW = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def bits_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True when two tensors hold the same bytes (NaN payloads and signed zeros included)."""
    return a.dtype == b.dtype and a.shape == b.shape and bool(torch.equal(_bits(a), _bits(b)))


def changed_box(base: torch.Tensor, edited: torch.Tensor) -> Slice | None:
    """The bounding box of elements whose bits differ, or None when nothing changed."""
    diff = _bits(base) != _bits(edited)
    if not bool(diff.any()):
        return None
    if diff.dim() == 0:
        return ()
    idx = diff.nonzero()
    return tuple((int(idx[:, d].min()), int(idx[:, d].max()) + 1) for d in range(diff.dim()))


def index(slc: Slice) -> tuple[slice, ...]:
    """The Python index for a slice: ``t[index(slc)]``."""
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


def make_delta(base: torch.Tensor, patched: torch.Tensor) -> torch.Tensor:
    """``patched - base`` in the narrowest float dtype that is exact both ways.

    bf16/fp16 weights take an fp32 delta; fp32 weights try fp32 then fp64.
    Raises NotExactError when no candidate round-trips bit for bit.
    """
    if not base.dtype.is_floating_point:
        raise errors.NotExactError(f"cannot patch {base.dtype} tensors: only floating-point weights are supported")
    candidates = [torch.float64] if base.dtype == torch.float64 else [torch.float32, torch.float64]
    for dtype in candidates:
        delta = patched.to(dtype) - base.to(dtype)
        if bits_equal(add_delta(base, delta), patched) and bits_equal(sub_delta(patched, delta), base):
            return delta
    raise errors.NotExactError("no delta dtype (fp32, fp64) reproduces both directions bit for bit")


def add_delta(base: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """``base + delta`` in the delta's dtype, rounded back; zero-delta elements kept as they are."""
    out = (base.to(delta.dtype) + delta).to(base.dtype)
    return torch.where(delta == 0, base, out)


def sub_delta(patched: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """``patched - delta``: the inverse of :func:`add_delta`."""
    out = (patched.to(delta.dtype) - delta).to(patched.dtype)
    return torch.where(delta == 0, patched, out)


def stats(delta: torch.Tensor) -> tuple[float, float]:
    """(Frobenius norm, max |delta|), computed exactly-rounded so any machine gets the same floats."""
    values = delta.detach().to(torch.float64).reshape(-1)
    if not bool(torch.isfinite(values).all()):
        raise errors.NotExactError("delta holds non-finite values (inf/NaN in base or edited weights)")
    l2 = math.sqrt(math.fsum((values * values).tolist()))
    return l2, float(values.abs().max()) if values.numel() else 0.0


def _bits(t: torch.Tensor) -> torch.Tensor:
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    return t.contiguous().view(_INT_VIEW[t.element_size()])
