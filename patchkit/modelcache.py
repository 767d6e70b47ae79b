"""Results that depend only on a base model's weights, kept in the cache between runs.

Why: a maintainer repairs the same base model many times, and some of each run's work is
the same every time — the model's own samples (:mod:`patchkit.samples`) and the panels'
scores on the unedited model. They are pure functions of the weights, the inputs, and the
code that computes them, so they are kept under a key that hashes all of those
(``<cache>/results/``, JSON only, never pickled). A damaged or unreadable entry is recomputed;
a cache that cannot be written is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of every parameter's name, dtype, shape and bytes (in the model's own order)."""
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = p.detach().cpu().contiguous()
            digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of patchkit's own source files: a changed computation never reads an old result."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def path_for(fingerprint: str, kind: str, inputs: Any) -> Path:
    """Where the result of ``kind`` on these ``inputs`` (anything JSON can write) for this model is kept."""
    from patchkit import settings

    what = json.dumps({"inputs": inputs, "code": code_fingerprint(), "torch": torch.__version__,
                       "transformers": _transformers_version()}, sort_keys=True, ensure_ascii=False)
    key = hashlib.sha256(what.encode()).hexdigest()[:32]
    return settings.cache_dir() / "results" / f"{fingerprint[:32]}-{kind}-{key}.json"


def read(path: Path) -> Any | None:
    """The value kept at ``path``, or None (absent or unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["value"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(path: Path, value: Any) -> None:
    """Atomically (a reader never sees half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"value": value}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _transformers_version() -> str:
    import transformers

    return transformers.__version__
