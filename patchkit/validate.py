"""Fail fast: check a command's arguments before any weights are loaded.

A surgery run that trains for two minutes and then finds its output
directory exists, or a misspelt component found only after the model has
loaded and triage has run, wastes the user's time. These checks read only
small files (keys, facts, ``config.json``) and the file system, and raise the
same :mod:`patchkit.errors` types the work itself would raise, with the same
exit codes. They are independent of the modules that do the work.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from patchkit import errors


def output(out: str | Path | None, force: bool = False) -> None:
    """Refuse an output path that exists (without ``force``) or that cannot be created.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False.
        UsageError: a parent of ``out`` is a file, or its nearest existing parent is not writable.
    """
    if out is None:
        return
    out = Path(out).expanduser()
    if (out.exists() or out.is_symlink()) and not force:
        from patchkit.checkpoint import clean_stale_staging

        clean_stale_staging(out)  # a run killed after publishing OUT left its staging: the refusal cleans it
        raise errors.OutputExistsError(f"{out}: exists (pass --force to replace it)")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise errors.UsageError(f"{out}: cannot be created: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise errors.UsageError(f"{out}: cannot be created: {parent} is not writable")


def private_key(key: str | Path | None) -> None:
    """Check ``key`` is a readable, unencrypted EC P-256 private key (UsageError otherwise)."""
    if key is None:
        return
    from patchkit import signing

    signing.public_pem_of_private(Path(key))


def facts(spec: str | Path) -> Path:
    """Check a facts argument (a file or a shipped name) parses; return its path.

    Raises:
        UsageError: no such file or name; SchemaError: a line is not JSON or not a fact.
    """
    from patchkit import datasets, evals

    path = datasets.resolve(spec)
    evals.load_facts(path)
    return path


def model_config(model_path: str | Path) -> Any:
    """The transformers config of a checkpoint, from ``config.json`` alone (no weights read)."""
    path = Path(model_path)
    folder = path.parent if path.is_file() else path
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise errors.CheckpointError(f"{folder}: no config.json (a Hugging Face checkpoint directory is needed)")
    try:
        json.loads(config_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise errors.CheckpointError(f"{config_file}: not a readable JSON config ({exc})") from None
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise errors.CheckpointError(f"{config_file}: {exc}") from None


def components(model_path: str | Path, names: Iterable[str]) -> None:
    """Check every component name parses and exists in the model, from its ``config.json``.

    Raises:
        UnknownArchitectureError: the model type is not supported.
        ComponentError: a name does not parse, or a layer or head is out of range.
    """
    names = list(names)
    if not names:
        return
    from patchkit import arch

    amap = arch.for_model(model_config(model_path))
    for name in names:
        amap.resolve(name)


def surgery(model_path: str | Path, *, facts_spec: str | Path, out: str | Path | None, key: str | Path | None,
            component: Iterable[str] = (), force: bool = False, dry_run: bool = False) -> Path:
    """Every check ``patchkit surgery`` can make before loading weights; return the facts file's path.

    Order: the cheapest and most common mistakes first (missing ``-o``/``--key``,
    an existing output, an unreadable key), then the facts file, then the
    component names against ``config.json``.
    """
    if not dry_run and (out is None or key is None):
        raise errors.UsageError("surgery needs -o PATCH and --key KEY (or --dry-run)")
    if not dry_run:
        output(out, force)
    private_key(key)
    path = facts(facts_spec)
    components(model_path, component)
    return path
