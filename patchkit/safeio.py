"""Reading untrusted files safely: regular files only, bounded sizes, strict JSON.

Every byte patchkit reads from a patch, a base checkpoint, a key or a record
comes through here (or through :func:`open_regular`), so a symlink to
``/dev/zero``, a FIFO, a device or an oversized file is refused in one line
instead of hanging, filling memory or being copied. JSON is parsed strictly:
no NaN/Infinity, no overflowing floats, bounded nesting and integer sizes, so
crafted input becomes the caller's own error type rather than a traceback.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from patchkit import errors

MAX_JSON_FILE = 64 << 20  # patch.json, patch.sig, index, records: far above any real one
MAX_KEY_FILE = 64 << 10
_MAX_DEPTH = 64
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def kind(path: Path) -> str:
    """What ``path`` is, without following a final link: 'file', 'dir', 'symlink', 'missing' or 'special'."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "special"


def open_regular(path: Path, error: type[errors.PatchkitError], *, follow: bool = False) -> int:
    """Open ``path`` read-only as a regular file and return the fd; raise ``error`` otherwise.

    A final symlink is refused unless ``follow`` (then its target must still be a regular file).
    Opening never blocks (FIFOs) and never touches a device's contents.
    """
    flags = os.O_RDONLY | _NONBLOCK | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: missing") from None
    except OSError as exc:
        if kind(Path(path)) == "symlink":
            raise error(f"{path}: is a symbolic link (only regular files are read)") from None
        raise error(f"{path}: cannot open ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
            raise error(f"{path}: is {what}, not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, error: type[errors.PatchkitError], *, limit: int, follow: bool = False) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`)."""
    fd = open_regular(path, error, follow=follow)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise error(f"{path}: {size} bytes, more than the {limit}-byte limit for this file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise error(f"{path}: more than the {limit}-byte limit for this file")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} overflows a float")
    return value


def loads(raw: bytes | str, error: type[errors.PatchkitError], source: str, what: str = "JSON") -> Any:
    """Strict ``json.loads``: any failure (syntax, NaN, huge numbers, deep nesting) raises ``error``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        if _too_deep(text):
            raise ValueError(f"nested more than {_MAX_DEPTH} levels deep")
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:160]
        raise error(f"{source}: not valid {what} ({detail})") from None


def _too_deep(text: str) -> bool:
    """Bound the nesting (brackets outside strings) before the recursive parser sees it."""
    if text.count("[") + text.count("{") <= _MAX_DEPTH:
        return False
    depth = 0
    for ch in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if ch in "[{" else -1
        if depth > _MAX_DEPTH:
            return True
    return False


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def is_int(value: Any) -> bool:
    """A JSON integer (bools are not)."""
    return isinstance(value, int) and not isinstance(value, bool)
