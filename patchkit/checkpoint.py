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

import ctypes
import errno
import fcntl
import functools
import hashlib
import json
import math
import os
import re
import shutil
import struct
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable

import numpy as np

from patchkit import errors, safeio

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
        """Open a checkpoint directory or file, checking every header against its file size.

        Every weight file, whether found by name or listed in the index, must be a regular file
        inside the checkpoint directory (a link is followed only to a regular file inside it, or
        inside the Hugging Face cache repo a snapshot belongs to); anything else refuses the base.
        """
        path = Path(path)
        weight_map = None
        if path.is_file():
            if path.suffix in PICKLE_SUFFIXES:
                raise _pickle_error(path)
            if path.suffix != ".safetensors":
                raise errors.CheckpointError(f"{path}: not a .safetensors file or checkpoint directory")
            root, files = path.parent, [path.name]
        elif path.is_dir():
            root = path
            files, weight_map = _weight_files(root)
        elif path.exists():
            raise errors.CheckpointError(f"{path}: is a FIFO, socket or device, not a checkpoint")
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
        if weight_map is not None:
            _check_index(root / INDEX_NAME, weight_map, tensors)
        return cls(path, root, files, tensors)

    def check_files(self) -> None:
        """Refuse a checkpoint directory holding anything but directories and regular files inside it.

        What apply copies into OUT besides the weights (config, tokenizer, ...) is checked here, before
        anything is written: a link to ``/dev/zero`` or outside, a FIFO or a device refuses the base.
        """
        if self.is_file:
            return
        for rel in _entries(self.root):
            member(self.root, rel)

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


def read_header_json(path: Path) -> tuple[int, int, dict[str, Any]]:
    """A safetensors file's header as read: (its length in bytes, the file's size, the parsed JSON object in file
    order), checked to fit in the file; :func:`read_header` checks the entries."""
    fd = safeio.open_regular(path, errors.CheckpointError, follow=True)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(8)
        if len(head) < 8:
            raise errors.CheckpointError(f"{path}: truncated safetensors file ({size} bytes, no header)")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise errors.CheckpointError(f"{path}: truncated or not safetensors (header of {n} bytes, file of {size})")
        raw = fh.read(n)
    try:
        header = safeio.loads(raw, errors.CheckpointError, str(path))
    except errors.CheckpointError:
        raise errors.CheckpointError(f"{path}: safetensors header is not valid JSON") from None
    if not isinstance(header, dict):
        raise errors.CheckpointError(f"{path}: safetensors header is not a JSON object")
    return n, size, header


def read_header(path: Path, rel: str | None = None) -> list[TensorInfo]:
    """Parse a safetensors header, checking every tensor lies inside the file and every field's type."""
    rel = rel if rel is not None else path.name
    n, size, header = read_header_json(path)
    infos = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
            if not (isinstance(dtype, str) and isinstance(shape, list) and isinstance(offsets, list) and len(offsets) == 2):
                raise TypeError
            if not all(safeio.is_int(v) and v >= 0 for v in (*shape, *offsets)):
                raise TypeError
            shape, (begin, end) = tuple(shape), offsets
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
    """Refuse an OUT that exists (unless ``force``) or that is, contains or lies inside an input.

    ``inputs`` lists every path the command reads (patch, checkpoint, key files, the trusted-keys
    directory): ``--force`` replaces OUT, so OUT must never be one of them.
    """
    resolved = out.resolve()
    for src in inputs:
        if src is None:
            continue
        src = Path(src).resolve()
        same = resolved == src or src in resolved.parents or resolved in src.parents
        if not same and (out.exists() and src.exists()):
            try:
                same = os.path.samefile(out, src)
            except OSError:
                same = False
        if same:
            raise errors.UsageError(f"{out}: output must not be, contain or lie inside an input ({src})")
    if (out.exists() or out.is_symlink()) and not force:
        # a run killed after publishing OUT but before removing its staging left that behind: a refusal
        # cleans it too (atomic_output, which cleans otherwise, is never reached)
        clean_stale_staging(out)
        raise errors.OutputExistsError(f"{out}: exists (pass --force to replace it)")


STAGING_MARK = ".patchkit-tmp-"
_STAGING_SUFFIX = re.compile(r"(\d+)-[0-9a-f]{8}")


def staging_dirs(out: Path) -> list[Path]:
    """Staging directories of OUT (``.<OUT>.patchkit-tmp-<pid>-<id>``) lying next to it."""
    prefix = f".{out.name}{STAGING_MARK}"
    try:
        return sorted(p for p in out.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []


def clean_stale_staging(out: Path) -> list[Path]:
    """Remove staging directories of OUT left by runs that died (``kill -9``, power cut); return them.

    A staging directory is named after the process that writes it; it is stale once that process is
    gone. Names without a process id (older patchkit versions) are reported, never removed.
    """
    removed, unknown = [], []
    for path in staging_dirs(out):
        m = _STAGING_SUFFIX.fullmatch(path.name[len(f".{out.name}{STAGING_MARK}"):])
        if m is None:
            unknown.append(path)
        elif not _alive(int(m.group(1))):
            _remove(path)
            removed.append(path)
    if removed:
        warnings.warn(f"removed {len(removed)} staging director{'y' if len(removed) == 1 else 'ies'} left by an interrupted run: "
                      f"{', '.join(p.name for p in removed)}", UserWarning, stacklevel=3)
    if unknown:
        warnings.warn(f"{out.parent}: leftover staging director{'y' if len(unknown) == 1 else 'ies'} of unknown owner, "
                      f"not removed: {', '.join(p.name for p in unknown)}", UserWarning, stacklevel=3)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def atomic_output(
    out: Path, force: bool, write: Callable[[Path], None], *, sidecars: dict[str, bytes | None] | None = None
) -> Path:
    """Build OUT in a staging sibling and publish it with one exclusive rename; remove the staging on any failure.

    ``write(tmp)`` creates OUT's content at ``tmp``. ``sidecars`` (name -> bytes, or None to delete) are
    files next to OUT (a single-file checkpoint's applied record) written in the same staging step.
    Everything is fsynced before the rename, the rename never replaces an OUT that another run
    published meanwhile (exactly one of two concurrent runs wins), and an OS failure (disk full)
    becomes a one-line :class:`FileIOError` with nothing published.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise errors.UsageError(f"{out}: cannot create it: a parent of it is a file, not a directory") from None
    except OSError as exc:
        raise errors.FileIOError(f"{out}: cannot create its parent directory ({exc.strerror})") from None
    if not out.parent.is_dir():
        raise errors.UsageError(f"{out}: cannot create it: its parent {out.parent} is not a directory")
    clean_stale_staging(out)
    # OUT is built as <hidden sibling>/<OUT's name>, so it carries its final name while being
    # written (the OMS signature records the directory name) and one rename publishes it.
    staging = out.with_name(f".{out.name}{STAGING_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp = staging / out.name
    try:
        staging.mkdir()
        write(tmp)
        for name, data in (sidecars or {}).items():
            if data is not None:
                (staging / name).write_bytes(data)
        _fsync_tree(staging)
        if out.exists() or out.is_symlink():
            if not force:
                raise errors.OutputExistsError(f"{out}: exists (pass --force to replace it)")
            os.rename(out, staging / f"{out.name}.old")
        rename_noreplace(tmp, out)
        for name, data in (sidecars or {}).items():
            target = out.parent / name
            if data is not None:
                os.replace(staging / name, target)
            elif target.exists() or target.is_symlink():
                os.rename(target, staging / f"{name}.old")
        _fsync_dir(out.parent)
    except OSError as exc:
        raise errors.FileIOError(f"{out}: cannot write it ({exc.strerror or exc}); nothing was published") from None
    finally:
        _remove(staging)
    return out


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` only if ``dst`` does not exist (atomically; OutputExistsError otherwise)."""
    fn = _renameat2()
    if fn is not None:
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise errors.OutputExistsError(f"{dst}: exists (another run published it first)")
        if err not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err), str(dst))
    try:  # no renameat2 here: claim the name first (mkdir / link fail if it exists)
        if src.is_dir() and not src.is_symlink():
            os.mkdir(dst)
            os.rename(src, dst)
        else:
            os.link(src, dst, follow_symlinks=False)
            os.unlink(src)
    except FileExistsError:
        raise errors.OutputExistsError(f"{dst}: exists (another run published it first)") from None


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


@functools.lru_cache(maxsize=1)
def _renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _fsync_tree(root: Path) -> None:
    """fsync every regular file and directory under ``root`` (so a power cut cannot publish an empty OUT)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if safeio.kind(Path(path)) == "file":
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        _fsync_dir(Path(dirpath))
    if safeio.kind(root) == "file":
        _fsync_file(root)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def copy_checkpoint_dir(src: Path, dst: Path, *, weights: set[str], touched: set[str], skip: set[str] = frozenset()) -> None:
    """Copy a checkpoint directory: untouched weights linked, touched weights cloned, the rest copied.

    Every entry must be a directory or a regular file (a link only to a regular file inside the
    checkpoint, see :func:`member`): a link to ``/dev/zero`` or outside, a FIFO or a device refuses the base.
    """
    for rel in _entries(src):
        if rel in skip:
            continue
        item = member(src, rel)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in weights and rel not in touched:
            _link(item, target)
        elif rel in touched:
            clone_file(item.resolve(), target)
        else:
            shutil.copyfile(item.resolve(), target)


def _entries(root: Path) -> list[str]:
    """Every non-directory entry under ``root`` (links to directories included), relative, sorted;
    the Hugging Face ``.cache`` bookkeeping folder is skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        for name in list(dirnames):
            if rel_dir + name == ".cache":
                dirnames.remove(name)
            elif safeio.kind(Path(dirpath) / name) != "dir":  # os.walk lists links to directories here
                dirnames.remove(name)
                filenames.append(name)
        found += [rel_dir + name for name in filenames]
    return sorted(found)


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


def _weight_files(root: Path) -> tuple[list[str], dict[str, str] | None]:
    """The weight files of a checkpoint directory (each checked by :func:`member`), and the index's weight map."""
    index = root / INDEX_NAME
    if safeio.kind(index) != "missing":
        member(root, INDEX_NAME)
        raw = safeio.read_regular(index, errors.CheckpointError, limit=safeio.MAX_JSON_FILE, follow=True)
        data = safeio.loads(raw, errors.CheckpointError, str(index), "safetensors index")
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise errors.CheckpointError(f"{index}: not a valid safetensors index (weight_map must map tensor names to file names)")
        files = sorted(set(weight_map.values()))
        for rel in files:
            if safeio.kind(root / rel) == "missing" and _safe_rel(rel):
                raise errors.CheckpointError(f"{index}: lists {rel}, which is missing")
            member(root, rel, where=f"{index}: lists {rel!r}")
        return files, weight_map
    if safeio.kind(root / SINGLE_NAME) != "missing":
        member(root, SINGLE_NAME)
        return [SINGLE_NAME], None
    files = sorted(p.name for p in root.glob("*.safetensors"))
    for rel in files:
        member(root, rel)
    if files:
        return files, None
    pickles = sorted(p for p in root.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise _pickle_error(pickles[0])
    raise errors.CheckpointError(f"{root}: no safetensors weights (expected {SINGLE_NAME} or {INDEX_NAME})")


def _check_index(index: Path, weight_map: dict[str, str], tensors: dict[str, TensorInfo]) -> None:
    for name, rel in weight_map.items():
        found = tensors.get(name)
        if found is None or found.file != rel:
            raise errors.CheckpointError(f"{index}: maps {name} to {rel}, but {rel} does not hold it")


def _safe_rel(rel: object) -> bool:
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel or rel.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def containment_root(root: Path) -> Path:
    """Where links inside a checkpoint may point: the directory itself, or for a Hugging Face cache
    snapshot (``models--X/snapshots/<sha>``) the cache repo (its ``blobs/`` hold the bytes)."""
    real = root.resolve()
    if real.parent.name == "snapshots" and real.parent.parent.name.startswith("models--"):
        return real.parent.parent
    return real


def member(root: Path, rel: str, *, where: str | None = None) -> Path:
    """``root/rel`` if it is a regular file inside the checkpoint; raise CheckpointError otherwise.

    ``rel`` must be a plain relative path (no absolute path, no ``..``); a link is accepted only when
    it resolves to a regular file inside :func:`containment_root`.
    """
    where = where or f"{root / rel}" if isinstance(rel, str) else where or str(root)
    if not _safe_rel(rel):
        raise errors.CheckpointError(f"{where}: not a plain relative path inside the checkpoint (absolute or '..'); refusing the base")
    path = root / rel
    for parent in list(PurePosixPath(rel).parents)[:-1]:
        if safeio.kind(root / parent) not in ("dir",):
            raise errors.CheckpointError(f"{where}: {root / parent} is not a plain directory; refusing the base")
    found = safeio.kind(path)
    if found == "symlink":
        real, inside = path.resolve(), containment_root(root)
        if inside not in real.parents or safeio.kind(real) != "file":
            raise errors.CheckpointError(f"{where}: a link to {real}, which is not a regular file inside the checkpoint; refusing the base")
    elif found == "missing":
        raise errors.CheckpointError(f"{where}: missing")
    elif found != "file":
        raise errors.CheckpointError(f"{where}: not a regular file ({found}); refusing the base")
    return path


def _pickle_error(path: Path) -> errors.CheckpointError:
    return errors.CheckpointError(
        f"{path}: pickle checkpoints are refused (patchkit never unpickles); convert to safetensors first, "
        "e.g. AutoModel.from_pretrained(dir).save_pretrained(out, safe_serialization=True)"
    )
