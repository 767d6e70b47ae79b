"""Safetensors checkpoints read without loading them.

A checkpoint is a Hugging Face directory (``model.safetensors``, or shards
listed in ``model.safetensors.index.json``) or a single ``.safetensors`` file.
We parse the headers ourselves so that apply/revert can read, hash and
rewrite single slices by byte offset and never hold the whole model.
Pickle formats are refused: patchkit never unpickles.

Also here: the streaming writes (link untouched shards, reflink/copy touched
ones, rewrite rows in place) and the atomic output every command uses (build
in a hidden sibling, rename at the end).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import math
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterable

import numpy as np

from patchkit import errors

if TYPE_CHECKING:
    import torch

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_CHUNK = 16 << 20
_MAX_HEADER = 100 << 20

# safetensors dtype -> numpy dtype holding the raw bytes. bf16 and fp8 have no numpy type, so they
# are held as raw unsigned integers; delta.py decodes them. torch is never needed to stream a patch
# (importing it alone costs ~220 MB of memory).
DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "F8_E4M3": np.dtype("u1"),
    "F8_E5M2": np.dtype("u1"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
ITEMSIZE = {name: dt.itemsize for name, dt in DTYPES.items()}
_TORCH_NAMES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor's bytes live: ``file`` (relative to the checkpoint root) at absolute ``offset``."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    file: str
    offset: int
    nbytes: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def row_bytes(self) -> int:
        """Bytes of one index along dim 0 (the whole tensor for a scalar)."""
        return self.nbytes // self.shape[0] if self.shape and self.shape[0] else self.nbytes


class Checkpoint:
    """A safetensors checkpoint opened by header only.

    Attributes:
        path: what was given (a directory or a ``.safetensors`` file).
        root: the directory holding the weight files.
        files: weight file names relative to ``root``, sorted.
        tensors: tensor name -> :class:`TensorInfo`.
    """

    def __init__(self, path: Path, root: Path, files: list[str], tensors: dict[str, TensorInfo]):
        self.path, self.root, self.files, self.tensors = path, root, files, tensors

    @classmethod
    def open(cls, path: str | Path) -> "Checkpoint":
        """Open a checkpoint directory or file, checking every header against its file size."""
        path = Path(path)
        if path.is_file():
            if path.suffix in PICKLE_SUFFIXES:
                raise _pickle_error(path)
            if path.suffix != ".safetensors":
                raise errors.CheckpointError(f"{path}: not a .safetensors file or checkpoint directory")
            root, files = path.parent, [path.name]
        elif path.is_dir():
            root, files = path, _weight_files(path)
        else:
            raise errors.CheckpointError(f"{path}: no such checkpoint")
        tensors: dict[str, TensorInfo] = {}
        for rel in files:
            for info in read_header(root / rel, rel):
                if info.name in tensors:
                    raise errors.CheckpointError(f"{root / rel}: tensor {info.name} also in {tensors[info.name].file}")
                tensors[info.name] = info
        if not tensors:
            raise errors.CheckpointError(f"{path}: holds no tensors")
        _check_index(path, tensors)
        return cls(path, root, files, tensors)

    @property
    def is_file(self) -> bool:
        return self.path.is_file()

    @property
    def num_parameters(self) -> int:
        return sum(t.numel for t in self.tensors.values())

    def info(self, name: str) -> TensorInfo:
        try:
            return self.tensors[name]
        except KeyError:
            raise errors.BaseMismatchError(f"{self.path}: has no tensor {name}") from None

    def file_path(self, rel: str) -> Path:
        return self.root / rel

    def read_rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Read ``tensor[start:stop]`` (whole rows, one contiguous byte range); a scalar reads whole."""
        info = self.info(name)
        if not info.shape:
            return _from_bytes(self._pread(info, 0, info.nbytes), info.dtype, ())
        data = self._pread(info, start * info.row_bytes, (stop - start) * info.row_bytes)
        return _from_bytes(data, info.dtype, (stop - start, *info.shape[1:]))

    def read_tensor(self, name: str) -> np.ndarray:
        info = self.info(name)
        return self.read_rows(name, 0, info.shape[0] if info.shape else 1)

    def raw_bytes(self, name: str) -> bytearray:
        info = self.info(name)
        return self._pread(info, 0, info.nbytes)

    def hash_all(self) -> tuple[list[dict], dict[str, str]]:
        """One streaming pass: each weight file's sha256 and size, and each tensor's sha256."""
        files, tensor_hashes = [], {}
        for rel in self.files:
            file_hash, hashes = _hash_file(self.file_path(rel), [t for t in self.tensors.values() if t.file == rel])
            files.append({"path": rel, "sha256": file_hash, "size": self.file_path(rel).stat().st_size})
            tensor_hashes.update(hashes)
        return files, tensor_hashes

    def fingerprint(self, tensor_hashes: dict[str, str] | None = None) -> str:
        """Content hash independent of file layout: sorted (name, dtype, shape, tensor sha256)."""
        tensor_hashes = tensor_hashes if tensor_hashes is not None else self.hash_all()[1]
        return fingerprint({n: (t.dtype, t.shape, tensor_hashes[n]) for n, t in self.tensors.items()})

    def _pread(self, info: TensorInfo, start: int, length: int) -> bytearray:
        buf, got = bytearray(length), 0
        with open(self.file_path(info.file), "rb") as fh:
            while got < length:  # one read returns at most ~2 GiB on Linux
                n = os.preadv(fh.fileno(), [memoryview(buf)[got:]], info.offset + start + got)
                if n == 0:
                    break
                got += n
        if got != length:
            raise errors.CheckpointError(f"{self.file_path(info.file)}: truncated inside tensor {info.name}")
        return buf


def fingerprint(entries: dict[str, tuple[str, tuple[int, ...], str]]) -> str:
    """sha256 over sorted lines ``name<TAB>dtype<TAB>shape<TAB>sha256``."""
    digest = hashlib.sha256()
    for name in sorted(entries):
        dtype, shape, sha = entries[name]
        digest.update(f"{name}\t{dtype}\t{list(shape)}\t{sha}\n".encode())
    return digest.hexdigest()


def read_header(path: Path, rel: str | None = None) -> list[TensorInfo]:
    """Parse a safetensors header, checking every tensor lies inside the file."""
    rel = rel if rel is not None else path.name
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise errors.CheckpointError(f"{path}: truncated safetensors file ({size} bytes, no header)")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise errors.CheckpointError(f"{path}: truncated or not safetensors (header of {n} bytes, file of {size})")
        try:
            header = json.loads(fh.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise errors.CheckpointError(f"{path}: safetensors header is not valid JSON") from None
    if not isinstance(header, dict):
        raise errors.CheckpointError(f"{path}: safetensors header is not a JSON object")
    infos = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = entry["dtype"], tuple(int(d) for d in entry["shape"]), entry["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise errors.CheckpointError(f"{path}: malformed header entry for tensor {name}") from None
        if dtype not in DTYPES:
            raise errors.CheckpointError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        if end - begin != math.prod(shape) * ITEMSIZE[dtype] or begin < 0:
            raise errors.CheckpointError(f"{path}: tensor {name}: data_offsets {begin}..{end} do not fit {dtype}{list(shape)}")
        if 8 + n + end > size:
            raise errors.CheckpointError(f"{path}: truncated: tensor {name} ends at byte {8 + n + end}, file has {size}")
        infos.append(TensorInfo(name, dtype, shape, rel, 8 + n + begin, end - begin))
    return infos


def array_bytes(a: np.ndarray) -> memoryview:
    """The raw little-endian C-order bytes of an array, as safetensors stores them."""
    return memoryview(np.ascontiguousarray(a).view(np.uint8).reshape(-1))


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks so memory stays flat whatever its size."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_array(a: np.ndarray) -> str:
    """sha256 of an array's raw C-order bytes (the hash recorded for base/patched slices)."""
    return hashlib.sha256(array_bytes(a)).hexdigest()


def write_at(fh: BinaryIO, offset: int, a: np.ndarray) -> None:
    """Write an array's raw bytes at ``offset`` of an open file (used for in-place slice writes)."""
    data = array_bytes(a)
    written = os.pwrite(fh.fileno(), data, offset)
    if written != len(data):
        raise OSError(f"short write at offset {offset}")


# ---- streaming writes and atomic outputs -------------------------------------------------


def write_rows(path: Path, items: list[tuple[TensorInfo, int, np.ndarray]]) -> None:
    """Write each (tensor, first row, whole rows) in place into a copy of the weight file at ``path``."""
    with open(path, "r+b") as fh:
        for info, r0, rows in items:
            write_at(fh, info.offset + r0 * info.row_bytes, rows)


def refuse_existing_output(out: Path, force: bool, inputs: list[Path]) -> None:
    """Refuse an OUT that exists (unless ``force``) or that is, contains or lies inside an input."""
    resolved = out.resolve()
    for src in inputs:
        src = Path(src).resolve()
        if resolved == src or src in resolved.parents or resolved in src.parents:
            raise errors.UsageError(f"{out}: output must not be, contain or lie inside an input ({src})")
    if (out.exists() or out.is_symlink()) and not force:
        raise errors.OutputExistsError(f"{out}: exists (pass --force to replace it)")


def atomic_output(out: Path, force: bool, write: Callable[[Path], None]) -> Path:
    """Build OUT in a temporary sibling and rename it into place; remove the sibling on any failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # OUT is built as <hidden sibling>/<OUT's name>, so it carries its final name while being
    # written (the OMS signature records the directory name) and one rename publishes it.
    staging = out.with_name(f".{out.name}.patchkit-tmp-{uuid.uuid4().hex[:8]}")
    tmp = staging / out.name
    try:
        staging.mkdir()
        write(tmp)
        if out.exists() or out.is_symlink():
            if not force:
                raise errors.OutputExistsError(f"{out}: exists (pass --force to replace it)")
            trash = staging / f"{out.name}.old"
            os.rename(out, trash)
            os.rename(tmp, out)
        else:
            os.rename(tmp, out)
    finally:
        _remove(staging)
    return out


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def copy_checkpoint_dir(src: Path, dst: Path, *, weights: set[str], touched: set[str], skip: set[str] = frozenset()) -> None:
    """Copy a checkpoint directory: untouched weights linked, touched weights cloned, the rest copied."""
    for item in sorted(src.rglob("*")):
        rel = item.relative_to(src).as_posix()
        if rel in skip or rel == ".cache" or rel.startswith(".cache/"):  # HF download bookkeeping
            continue
        target = dst / rel
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif rel in weights and rel not in touched:
            _link(item, target)
        elif rel in touched:
            clone_file(item, target)
        else:
            shutil.copyfile(item, target)


def _link(src: Path, dst: Path) -> None:
    """Hard-link an untouched weight file (it is never written in place), else clone it."""
    try:
        os.link(src.resolve(), dst)
    except OSError:
        clone_file(src, dst)


def clone_file(src: Path, dst: Path) -> None:
    """Reflink where the filesystem can (copy-on-write), else an in-kernel copy.

    ``dst`` is created fresh (never truncated): on ext4, truncating and rewriting a file makes
    close() flush it to disk (auto_da_alloc), which would double the cost of the copy.
    """
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
            return
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
        size, done = os.fstat(fin.fileno()).st_size, 0
        try:
            while done < size:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), size - done, done, done)
                if n == 0:
                    break
                done += n
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
        if done < size:  # no in-kernel copy here: stream the rest
            fin.seek(done)
            fout.seek(done)
            shutil.copyfileobj(fin, fout, 16 << 20)


_NO_KERNEL_COPY = (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.EPERM, errno.ENOSYS, errno.EBADF)
_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


# ---- torch interop (imported lazily: streaming never needs torch) ------------------------


def from_torch(t: "torch.Tensor") -> tuple[np.ndarray, str]:
    """A torch tensor as (raw numpy array, safetensors dtype); always a copy, on the CPU."""
    import torch

    name = dtype_name(t.dtype)
    t = t.detach().to("cpu").contiguous().clone()
    if name == "BF16":
        return t.view(torch.int16).numpy().view(np.uint16), name
    if name.startswith("F8"):
        return t.view(torch.uint8).numpy(), name
    return t.numpy(), name


def to_torch(a: np.ndarray, dtype: str) -> "torch.Tensor":
    """The inverse of :func:`from_torch`."""
    import torch

    a = np.ascontiguousarray(a).copy()
    if dtype == "BF16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    if dtype.startswith("F8"):
        return torch.from_numpy(a).view(getattr(torch, _TORCH_NAMES[dtype]))
    return torch.from_numpy(a)


def dtype_name(torch_dtype: "torch.dtype") -> str:
    """safetensors name of a torch dtype (e.g. ``BF16``); unknown dtypes give their torch name."""
    for name, attr in _TORCH_NAMES.items():
        if str(torch_dtype) == f"torch.{attr}":
            return name
    return str(torch_dtype)


def _from_bytes(data: bytearray, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(data, dtype=DTYPES[dtype]).reshape(shape)  # writable: backed by a bytearray


def _hash_file(path: Path, infos: Iterable[TensorInfo]) -> tuple[str, dict[str, str]]:
    """Hash a whole file and each tensor's byte range in one read."""
    file_hash = hashlib.sha256()
    ranges = sorted(infos, key=lambda t: t.offset)
    hashers = {t.name: hashlib.sha256() for t in ranges}
    pos = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            file_hash.update(chunk)
            end = pos + len(chunk)
            for t in ranges:
                lo, hi = max(t.offset, pos), min(t.offset + t.nbytes, end)
                if lo < hi:
                    hashers[t.name].update(memoryview(chunk)[lo - pos : hi - pos])
            pos = end
    return file_hash.hexdigest(), {n: h.hexdigest() for n, h in hashers.items()}


def _weight_files(root: Path) -> list[str]:
    index = root / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text("utf-8"))["weight_map"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            raise errors.CheckpointError(f"{index}: not a valid safetensors index (no weight_map)") from None
        files = sorted(set(weight_map.values()))
        for rel in files:
            if not (root / rel).is_file():
                raise errors.CheckpointError(f"{index}: lists {rel}, which is missing")
        return files
    if (root / SINGLE_NAME).is_file():
        return [SINGLE_NAME]
    files = sorted(p.name for p in root.glob("*.safetensors") if p.is_file())
    if files:
        return files
    pickles = sorted(p for p in root.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise _pickle_error(pickles[0])
    raise errors.CheckpointError(f"{root}: no safetensors weights (expected {SINGLE_NAME} or {INDEX_NAME})")


def _check_index(path: Path, tensors: dict[str, TensorInfo]) -> None:
    index = path / INDEX_NAME if path.is_dir() else None
    if index is None or not index.is_file():
        return
    for name, rel in json.loads(index.read_text("utf-8"))["weight_map"].items():
        found = tensors.get(name)
        if found is None or found.file != rel:
            raise errors.CheckpointError(f"{index}: maps {name} to {rel}, but {rel} does not hold it")


def _pickle_error(path: Path) -> errors.CheckpointError:
    return errors.CheckpointError(
        f"{path}: pickle checkpoints are refused (patchkit never unpickles); convert to safetensors first, "
        "e.g. AutoModel.from_pretrained(dir).save_pretrained(out, safe_serialization=True)"
    )
