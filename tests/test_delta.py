"""Minimal slices and exact deltas: bounding boxes, dtype choice, bit-exact both ways."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patchkit import checkpoint, delta, errors


def _raw(t: torch.Tensor) -> tuple[np.ndarray, str]:
    return checkpoint.from_torch(t)


def test_changed_box_is_the_bounding_box():
    a = np.zeros((6, 10, 4), dtype=np.float32)
    b = a.copy()
    b[1, 7, 0], b[4, 2, 3] = 1, 2
    # rows 1..4 and columns 2..7 bound them; only 2 of the 6 columns change, so columns are listed one by one
    assert delta.changed_box(a, b) == ((1, 5), delta.Picked((2, 7)), (0, 4))
    b[2:4, 3:7] = 3  # now every row and 5 of the 6 columns are used: the plain bounding box
    assert delta.changed_box(a, b) == ((1, 5), (2, 8), (0, 4))
    assert delta.changed_box(a, a.copy()) is None
    assert delta.format_slice(((0, 768), (1536, 2304)), (768, 2304)) == "[:, 1536:2304]"


def test_changed_box_sees_sign_of_zero():
    a = np.zeros(5, dtype=np.float32)
    b = a.copy()
    b[3] = -0.0
    assert delta.changed_box(a, b) == ((3, 4),)


@pytest.mark.parametrize("dt", [torch.bfloat16, torch.float16, torch.float32])
def test_deltas_are_exact_both_ways(dt):
    g = torch.Generator().manual_seed(0)
    base = (torch.randn(64, 48, generator=g) * 0.05).to(dt)
    patched = base.clone()
    patched[:, 10:30] += (torch.randn(64, 20, generator=g) * 0.03).to(dt)
    patched[5, 12] = base[5, 12]  # unchanged elements inside the box
    base[7, 13] = patched[7, 13] = -0.0  # survives exactly thanks to the zero-delta rule
    (b, name), (p, _) = _raw(base), _raw(patched)
    box = delta.changed_box(b, p)
    idx = delta.index(box)
    d = delta.make_delta(np.ascontiguousarray(b[idx]), np.ascontiguousarray(p[idx]), name)
    assert d.dtype == (np.float32 if dt != torch.float32 else d.dtype)
    assert delta.bits_equal(delta.add_delta(b[idx], d, name), p[idx])
    assert delta.bits_equal(delta.sub_delta(p[idx], d, name), b[idx])


def test_fp32_falls_back_to_fp64():
    b = np.array([1 + 2**-23], dtype=np.float32)
    p = np.array([16.0], dtype=np.float32)
    assert delta.make_delta(b, p, "F32").dtype == np.float64


def test_refuses_what_cannot_round_trip():
    with pytest.raises(errors.NotExactError):
        delta.make_delta(np.array([0.0], np.float32), np.array([-0.0], np.float32), "F32")
    with pytest.raises(errors.NotExactError, match="only"):
        delta.make_delta(np.array([1], np.int64), np.array([2], np.int64), "I64")


def test_bf16_rounding_matches_torch():
    g = torch.Generator().manual_seed(1)
    values = torch.cat([torch.randn(10000, generator=g), torch.tensor([1 + 2**-8, 1 + 3 * 2**-8, -0.0, float("inf"), 3e38])])
    ours = delta.encode(values.numpy(), "BF16")
    theirs = checkpoint.from_torch(values.to(torch.bfloat16))[0]
    assert np.array_equal(ours, theirs)
    assert np.array_equal(delta.decode(theirs, "BF16", np.dtype(np.float32)), values.to(torch.bfloat16).float().numpy())


def test_stats_are_exactly_rounded():
    d = np.array([3.0, -4.0, 0.0], dtype=np.float32)
    assert delta.stats(d) == (5.0, 4.0)
    with pytest.raises(errors.NotExactError):
        delta.stats(np.array([np.nan], dtype=np.float32))
