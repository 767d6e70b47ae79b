"""The patch manifest (``patch.json``): canonical JSON and schema validation.

The manifest is validated against ``patch.schema.json`` both when written and
when read, and serialised canonically (sorted keys, fixed separators, UTF-8,
trailing newline) so the same content always gives the same bytes — the
signature and the Hub's hashes depend on that.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from patchkit import errors, safeio

MANIFEST_NAME = "patch.json"
SCHEMA_VERSION = 1
MAX_BYTES = 8 << 20  # the Hub pull limit for patch.json, too


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The patch manifest JSON Schema (2020-12), shipped as package data."""
    text = resources.files("patchkit").joinpath("schemas/patch.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def validate(manifest: Any, *, source: str = MANIFEST_NAME) -> None:
    """Raise :class:`SchemaError` naming the first offending field if ``manifest`` fails the schema."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(manifest))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise errors.SchemaError(f"{source}: {where}: {_short(error.message)}")


def plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON data: numpy/torch numbers and arrays become Python numbers and lists.

    Lets callers pass figures straight from their computation into ``method``/``evals``.
    """
    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):
            return obj.tolist()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON data")

    try:
        return json.loads(json.dumps(value, default=default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise errors.SchemaError(f"{where}: {exc}") from None


def dumps(manifest: dict[str, Any]) -> bytes:
    """Canonical bytes of a manifest: sorted keys, two-space indent, UTF-8, final newline."""
    text = json.dumps(manifest, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def write(path: Path, manifest: dict[str, Any]) -> None:
    """Validate ``manifest`` and write its canonical bytes to ``path``."""
    validate(manifest, source=str(path))
    Path(path).write_bytes(dumps(manifest))


def read(path: Path) -> dict[str, Any]:
    """Read and validate a manifest; malformed JSON is a :class:`SchemaError` too."""
    path = Path(path)
    return parse(read_bytes(path), source=str(path))


def read_bytes(path: Path) -> bytes:
    """A manifest's bytes: a regular file (not a link, FIFO or device) of at most MAX_BYTES."""
    if safeio.kind(path) == "missing":
        raise errors.SchemaError(f"{path}: missing (a patch directory holds {MANIFEST_NAME})")
    return safeio.read_regular(path, errors.SchemaError, limit=MAX_BYTES)


def parse(raw: bytes, *, source: str = MANIFEST_NAME) -> dict[str, Any]:
    """Parse and validate manifest bytes (so callers can hash exactly the bytes they checked)."""
    manifest = safeio.loads(raw, errors.SchemaError, source)
    validate(manifest, source=source)
    return manifest


def _short(message: str, limit: int = 160) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"
