"""Growing a checkpoint's MLP width by zero neurons, reversibly, bit for bit.

Why: rewriting an existing neuron as a fact's memory takes that neuron's old output away
everywhere, and that loss — not the memory — is what moved other answers and perplexity on every
tuning set (docs/repair.md, sessions 12 and 14). A neuron *added* to the MLP has no old function to
lose. Transformers builds every layer's MLP from one ``intermediate_size``, so a patch that adds
``k`` neurons to one layer widens every layer's gate, up and down projections by ``k`` zero
neurons (a zero neuron outputs exactly 0: ``act(0·x)·(0·x) = 0``) and raises ``intermediate_size``
in ``config.json``; the patch's ordinary edits then write the memories into the new neurons of
their layer. Revert undoes the edits, checks the added neurons are zero again, cuts them off and
restores ``config.json``: the base's files come back byte for byte (checked when the patch is made,
by growing and shrinking the base's headers and config in memory).

A :class:`GrowSpec` is recorded in the manifest (``grow``); this module rewrites the safetensors
files (header and data, one tensor at a time) and the config text.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from patchkit import errors

CONFIG_NAME = "config.json"
MAX_GROWTH = 65536  # more added neurons than this is no patch
_CHUNK = 16 << 20


@dataclass(frozen=True)
class GrowSpec:
    """``config_key`` goes from ``old`` to ``new``; each tensor in ``tensors`` grows along its axis to match."""

    config_key: str
    old: int
    new: int
    tensors: Mapping[str, int]  # tensor name -> the axis that is ``old`` long in the base

    def to_json(self) -> dict[str, Any]:
        return {"config_key": self.config_key, "from": self.old, "to": self.new,
                "tensors": [{"tensor": t, "axis": a} for t, a in sorted(self.tensors.items())]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "GrowSpec":
        return cls(data["config_key"], int(data["from"]), int(data["to"]),
                   {e["tensor"]: int(e["axis"]) for e in data["tensors"]})

    def shape(self, name: str, shape: tuple[int, ...], forward: bool = True) -> tuple[int, ...]:
        """``shape`` of tensor ``name`` after growing (``forward``) or shrinking."""
        if name not in self.tensors:
            return tuple(shape)
        out = list(shape)
        out[self.tensors[name]] = self.new if forward else self.old
        return tuple(out)


def pad(a: np.ndarray, axis: int, new: int) -> np.ndarray:
    """``a`` with zero bits appended along ``axis`` up to ``new`` (any dtype: bf16 arrives as uint16 bits)."""
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, new - a.shape[axis])
    return np.pad(a, widths)


def check_growth(old: int, new: int, where: str) -> None:
    """Refuse a widening that is no growth, or more than :data:`MAX_GROWTH` neurons."""
    if not 0 < old < new <= old + MAX_GROWTH:
        raise errors.SchemaError(f"{where}: grow from {old} to {new} is not a growth of 1 to {MAX_GROWTH}")


def check_spec(spec: GrowSpec, shapes: Mapping[str, tuple[int, ...]], where: str) -> None:
    """Refuse a spec that does not fit a checkpoint whose tensors have ``shapes`` (the base's)."""
    check_growth(spec.old, spec.new, where)
    for name, axis in spec.tensors.items():
        shape = shapes.get(name)
        if shape is None:
            raise errors.BaseMismatchError(f"{where}: has no tensor {name} (the patch widens it)")
        if not 0 <= axis < len(shape) or shape[axis] != spec.old:
            raise errors.BaseMismatchError(f"{where}: tensor {name} is {list(shape)}; the patch widens axis {axis} "
                                           f"from {spec.old}")


def config_bytes(raw: bytes, spec: GrowSpec, forward: bool, where: str) -> bytes:
    """``config.json``'s bytes with ``config_key`` set to the grown (or base) value, nothing else touched.

    A textual replacement of exactly one ``"key": value``, so that revert gives back the very bytes.
    """
    key, (was, now) = spec.config_key, (spec.old, spec.new) if forward else (spec.new, spec.old)
    pattern = re.compile(rb'("' + re.escape(key.encode()) + rb'"\s*:\s*)' + str(was).encode() + rb"(?![0-9.eE])")
    found = pattern.findall(raw)
    if len(found) != 1:
        raise errors.BaseMismatchError(f"{where}: expected one \"{key}\": {was} in {CONFIG_NAME}, found {len(found)}")
    return pattern.sub(lambda m: m.group(1) + str(now).encode(), raw)


def added_bytes(spec: GrowSpec, tensors: Mapping[str, tuple[str, tuple[int, ...]]]) -> int:
    """How many bytes the widening adds to the weights: ``tensors`` maps name -> (dtype, base shape)."""
    from patchkit.checkpoint import ITEMSIZE

    return sum((int(np.prod(spec.shape(n, shape))) - int(np.prod(shape))) * ITEMSIZE[dtype]
               for n, (dtype, shape) in tensors.items() if n in spec.tensors)


def index_bytes(raw: bytes, added: int, forward: bool, where: str) -> bytes:
    """A safetensors index's bytes with ``metadata.total_size`` raised (or lowered) by ``added`` bytes.

    Why: the index states the weights' total size, and a widened checkpoint is bigger. A textual replacement
    of the one ``"total_size": N`` (an index without one is left as it is), so revert gives back the very bytes.
    """
    pattern = re.compile(rb'("total_size"\s*:\s*)([0-9]+)(?![0-9.eE])')
    found = pattern.findall(raw)
    if not found:
        return raw
    size = int(found[0][1]) + (added if forward else -added)
    if len(found) != 1 or size < 0:
        raise errors.CheckpointError(f"{where}: expected one \"total_size\" of at least {added} in the index, "
                                     f"found {len(found)}")
    return pattern.sub(lambda m: m.group(1) + str(size).encode(), raw)


def resized_header(header: Mapping[str, Any], spec: GrowSpec, forward: bool) -> bytes:
    """The safetensors header (with its 8-byte length) after growing or shrinking, data kept in file order.

    Serialised as the ``safetensors`` library writes one (compact JSON, keys in the given order, padded
    with spaces to 8 bytes); :func:`check_reversible` makes sure the base's own header is written so.
    """
    from patchkit.checkpoint import ITEMSIZE

    entries = {k: dict(v) for k, v in header.items()}
    offset = 0
    for name in sorted((k for k in entries if k != "__metadata__"), key=lambda k: entries[k]["data_offsets"][0]):
        e = entries[name]
        e["shape"] = list(spec.shape(name, tuple(e["shape"]), forward))
        size = int(np.prod(e["shape"], dtype=np.int64)) * ITEMSIZE[e["dtype"]]
        e["data_offsets"] = [offset, offset + size]
        offset += size
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def check_reversible(path: Path, spec: GrowSpec) -> None:
    """Refuse to grow a weight file whose header a grow-then-shrink would not give back byte for byte."""
    from patchkit.checkpoint import read_header_json

    n, _, header = read_header_json(path)
    with open(path, "rb") as fh:
        original = fh.read(8 + n)
    grown = json.loads(resized_header(header, spec, True)[8:])
    if resized_header(grown, spec, False) != original:
        raise errors.CheckpointError(f"{path}: its safetensors header is not laid out as the safetensors library "
                                     "writes it (compact, packed); widening it could not be reverted byte for byte")


def write_resized(src: Path, dst: Path, spec: GrowSpec, forward: bool) -> None:
    """Write ``src`` to a new file ``dst`` with ``spec``'s tensors grown (zeros) or shrunk, one tensor at a time.

    Shrinking refuses a tensor whose added neurons are not all zero bits: it is not what the patch grew.
    """
    from patchkit.checkpoint import DTYPES, read_header_json

    n, _, header = read_header_json(src)
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        fout.write(resized_header(header, spec, forward))
        for name in sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0]):
            e = header[name]
            begin, end = e["data_offsets"]
            fin.seek(8 + n + begin)
            if name not in spec.tensors:  # copied as it is, in chunks: memory stays flat whatever the tensor's size
                left = end - begin
                while left:
                    chunk = fin.read(min(left, _CHUNK))
                    if not chunk:
                        raise errors.CheckpointError(f"{src}: truncated inside tensor {name}")
                    fout.write(chunk)
                    left -= len(chunk)
                continue
            dtype = DTYPES[e["dtype"]]
            a = np.frombuffer(fin.read(end - begin), dtype=dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype)
            a, axis = a.reshape(e["shape"]), spec.tensors[name]
            if forward:
                a = pad(a, axis, spec.new)
            else:
                extra = np.take(a, range(spec.old, a.shape[axis]), axis=axis)
                if extra.view(np.uint8).any():
                    raise errors.BaseMismatchError(f"{src}: tensor {name} has non-zero values beyond index "
                                                   f"{spec.old} of axis {axis}: not widened by this patch")
                a = np.take(a, range(spec.old), axis=axis)
            fout.write(np.ascontiguousarray(a).tobytes())
