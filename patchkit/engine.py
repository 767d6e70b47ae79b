"""create / apply / revert / verify patches, built from checkpoint, delta, manifest and signing.

apply and revert stream: they read headers, hash only the touched slices,
link or copy the untouched bytes, write touched rows in place into a
temporary sibling of OUT, and rename it into place only when everything
succeeded. Every check that can fail runs before the first byte is written.
Streaming works on raw numpy arrays and never imports torch (whose import
alone costs more memory than the whole apply); only the in-memory API on
torch modules and ``create`` from a mapping of tensors touch torch.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from patchkit import __version__, checkpoint, delta, errors, grow, manifest, safeio, settings, signing
from patchkit.checkpoint import INDEX_NAME, Checkpoint, TensorInfo

if TYPE_CHECKING:
    import torch

DELTA_NAME = "delta.safetensors"
PANELS_DIR = "panels"
README_NAME = "README.md"
PATCH_FILES = (manifest.MANIFEST_NAME, DELTA_NAME, signing.SIGNATURE_NAME, README_NAME)
APPLIED_RECORD = "patchkit.applied.json"
_DELTA_METADATA = {"format": "patchkit-delta-1"}
# Files that describe the exact bytes of the checkpoint they sit in (``prepared.json`` records the
# sha256 of ``model.safetensors``): stale once the weights change, so apply and revert drop them.
STALE_FILES = ("prepared.json",)


def is_patch_file(relpath: str) -> bool:
    """True for a path a patch directory may hold: the fixed files, or ``panels/<file>``.

    Used to refuse anything else (path traversal, links, stray files) when pulling a patch.
    """
    if not relpath or "\\" in relpath:
        return False
    parts = PurePosixPath(relpath).parts
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return False
    if len(parts) == 1:
        return parts[0] in PATCH_FILES
    return len(parts) == 2 and parts[0] == PANELS_DIR and not parts[1].startswith(".")


# ---- verification report ---------------------------------------------------------------


@dataclass
class Check:
    """One line of a verification checklist."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    """The checklist :func:`verify` returns; other tools append their own checks with :meth:`add`/:meth:`run`."""

    patch: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> Check:
        check = Check(name, ok, detail)
        self.checks.append(check)
        return check

    def run(self, name: str, fn: Callable[[], str]) -> bool:
        """Run ``fn`` (returns a detail line); a PatchkitError it raises becomes a failed check."""
        try:
            detail = fn()
        except errors.PatchkitError as exc:
            self.add(name, False, str(exc))
            return False
        self.add(name, True, detail)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"patch": self.patch, "ok": self.ok, "checks": [vars(c).copy() for c in self.checks]}


# ---- the patch object ------------------------------------------------------------------


class Patch:
    """A patch directory, loaded and schema-checked (signature and integrity are checked on demand)."""

    def __init__(self, path: Path, manifest_: dict[str, Any], manifest_bytes: bytes):
        self.path = path
        self.manifest = manifest_
        self.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()

    @classmethod
    def load(cls, path: str | Path) -> "Patch":
        """Read ``patch.json`` and validate it against the schema.

        Example:
            >>> p = Patch.load("patches/fix")
            >>> [e["tensor"] for e in p.edits]
        """
        path = Path(path)
        if not path.exists():
            raise errors.PatchNotFoundError(f"{path}: no such patch directory")
        if not path.is_dir():
            raise errors.UsageError(f"{path}: not a patch directory")
        source = path / manifest.MANIFEST_NAME
        raw = manifest.read_bytes(source)
        data = manifest.parse(raw, source=str(source))
        tensors = [e["tensor"] for e in data["edits"]]
        if len(set(tensors)) != len(tensors):
            raise errors.SchemaError(f"{source}: edits: a tensor is listed twice")
        if "grow" in data:
            widened = [t["tensor"] for t in data["grow"]["tensors"]]
            if len(set(widened)) != len(widened):
                raise errors.SchemaError(f"{source}: grow: a tensor is listed twice")
            grow.check_growth(data["grow"]["from"], data["grow"]["to"], str(source))
        return cls(path, data, raw)

    @property
    def edits(self) -> list[dict[str, Any]]:
        return self.manifest["edits"]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def grow(self) -> grow.GrowSpec | None:
        """The MLP widening this patch makes before its edits (added zero neurons), or None."""
        data = self.manifest.get("grow")
        return grow.GrowSpec.from_json(data) if data else None

    @property
    def signer_fingerprint(self) -> str | None:
        signer = self.manifest["signer"]
        return signer["key_fingerprint"] if signer else None

    def read_delta(self, edit: Mapping[str, Any]) -> "torch.Tensor":
        """The delta tensor of one edit (call :meth:`check_integrity` first to trust it)."""
        import torch

        return torch.from_numpy(self._delta(edit))

    def _delta(self, edit: Mapping[str, Any]) -> np.ndarray:
        import safetensors

        try:
            with safetensors.safe_open(str(self.path / DELTA_NAME), framework="np") as fh:
                return fh.get_tensor(edit["delta_key"])
        except Exception as exc:  # safetensors raises its own error types for bad files
            raise errors.IntegrityError(f"{self.path / DELTA_NAME}: cannot read delta {edit['delta_key']}: {exc}") from None

    # -- checks, each raising a precise error; verify() turns them into checklist lines --

    def verify_signature(self, pubkey: Path | None = None, allow_unsigned: bool = False) -> str | None:
        """Check the signature and that its key is trusted; return the signer fingerprint.

        With ``allow_unsigned`` a missing, invalid or untrusted signature is a warning, not an error.
        """
        try:
            self._check_signature()
            return self._check_trust(pubkey)
        except errors.SignatureError as exc:
            if not allow_unsigned:
                raise
            warnings.warn(f"--allow-unsigned: using a patch whose signature is not trusted: {exc}", UserWarning, stacklevel=2)
            return None

    def check_integrity(self) -> None:
        """Delta file hash and size, its tensors' names, dtypes and shapes, every slice inside its shape,
        and the delta's statistics (finite, as recorded)."""
        self._check_delta_file()
        self._check_slices()
        self._check_stats()

    def _check_signature(self) -> str:
        signer = self.manifest["signer"]
        if signer is None or safeio.kind(self.path / signing.SIGNATURE_NAME) == "missing":
            raise errors.SignatureError(f"{self.path}: unsigned patch (no {'signer' if signer is None else signing.SIGNATURE_NAME})")
        pem = signer["public_key"].encode()
        if signing.fingerprint(pem, f"{self.path / manifest.MANIFEST_NAME}: signer public key") != signer["key_fingerprint"]:
            raise errors.SignatureError(f"{self.path / manifest.MANIFEST_NAME}: signer public key does not match its fingerprint")
        signing.verify_patch_signature(self.path, pem)
        return f"valid OMS signature by key {signer['key_fingerprint'][:16]}…"

    def _check_trust(self, pubkey: Path | None) -> str:
        fp = self.signer_fingerprint
        if fp is None:
            raise errors.SignatureError(f"{self.path}: unsigned patch")
        return f"key {fp[:16]}… trusted ({signing.check_trusted(fp, pubkey)})"

    def _check_delta_file(self) -> str:
        path, want = self.path / DELTA_NAME, self.manifest["delta"]
        found_kind = safeio.kind(path)
        if found_kind == "missing":
            raise errors.IntegrityError(f"{path}: missing")
        if found_kind != "file":
            raise errors.IntegrityError(f"{path}: is a {found_kind}, not a regular file")
        size = path.stat().st_size
        if size != want["size"]:
            raise errors.IntegrityError(f"{path}: {size} bytes, manifest says {want['size']}")
        found = checkpoint.file_sha256(path)
        if found != want["sha256"]:
            raise errors.IntegrityError(f"{path}: sha256 {found[:16]}… but manifest says {want['sha256'][:16]}… (tampered?)")
        try:
            infos = {t.name: t for t in checkpoint.read_header(path)}
        except errors.CheckpointError as exc:
            raise errors.IntegrityError(str(exc)) from None
        expected = {e["delta_key"]: e for e in self.edits}
        if set(infos) != set(expected):
            raise errors.IntegrityError(f"{path}: holds {sorted(infos)}, manifest lists {sorted(expected)}")
        for key, e in expected.items():
            shape = delta.slice_shape(_slice(e))
            if infos[key].dtype != e["delta_dtype"] or infos[key].shape != shape:
                raise errors.IntegrityError(
                    f"{path}: {key} is {infos[key].dtype}{list(infos[key].shape)}, manifest says {e['delta_dtype']}{list(shape)}"
                )
        return f"sha256 {found[:16]}…, {len(infos)} tensor(s)"

    def _check_slices(self) -> str:
        for e in self.edits:
            if e["dtype"] not in delta.FLOAT_DTYPES:
                raise errors.IntegrityError(
                    f"{self.path / manifest.MANIFEST_NAME}: {e['tensor']}: cannot patch {e['dtype']} tensors "
                    f"(only {', '.join(delta.FLOAT_DTYPES)} weights are supported)"
                )
            slc, shape = _slice(e), tuple(e["shape"])
            if not delta.inside(slc, shape):
                raise errors.IntegrityError(f"{self.path / manifest.MANIFEST_NAME}: {e['tensor']}: slice {e['slice']} outside shape {list(shape)}")
            if e["numel"] != _numel(delta.slice_shape(slc)):
                raise errors.IntegrityError(f"{self.path / manifest.MANIFEST_NAME}: {e['tensor']}: numel {e['numel']} ≠ slice size")
        return f"{len(self.edits)} slice(s) inside their tensors"

    def _check_stats(self) -> str:
        for e in self.edits:
            try:
                l2, max_abs = delta.stats(self._delta(e))
            except errors.NotExactError as exc:
                raise errors.IntegrityError(f"{self.path / DELTA_NAME}: {e['delta_key']}: {exc}") from None
            if (l2, max_abs) != (e["delta_l2"], e["delta_max_abs"]):
                raise errors.IntegrityError(
                    f"{e['tensor']}: recomputed ΔL2 {l2!r}, max|Δ| {max_abs!r}; manifest says {e['delta_l2']!r}, {e['delta_max_abs']!r}"
                )
        return "ΔL2 and max |Δ| of every edit match the delta"

    # -- in-memory use on a loaded model --

    def apply_to(self, model: torch.nn.Module) -> None:
        """Apply the patch in place to a loaded model whose state_dict names match; exact, no grad.

        Checks every base slice hash first and raises BaseMismatchError (changing nothing) otherwise.
        """
        self._patch_module(model, forward=True)

    def revert_from(self, model: torch.nn.Module) -> None:
        """Undo :meth:`apply_to` in place, checking the patched slice hashes first."""
        self._patch_module(model, forward=False)

    def _patch_module(self, model: "torch.nn.Module", forward: bool) -> None:
        import torch

        self.check_integrity()
        state = model.state_dict()
        spec = self.grow
        if spec is not None and forward:  # widened copies first: nothing changes in the model until every check passed
            grow.check_spec(spec, {n: tuple(t.shape) for n, t in state.items()}, "model")
            state = dict(state) | {n: _pad_torch(state[n], a, spec.new) for n, a in spec.tensors.items()}
        elif spec is not None:
            state = dict(state) | {n: state[n].clone() for n in spec.tensors if n in state}
        updates = []
        for e in self.edits:
            t = state.get(e["tensor"])
            if t is None:
                raise errors.BaseMismatchError(f"model has no tensor {e['tensor']} (the patch edits it)")
            _check_tensor_matches(e, checkpoint.dtype_name(t.dtype), tuple(t.shape), "model")
            idx = tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in delta.index(_slice(e)))
            part, dtype = checkpoint.from_torch(t[idx])
            updates.append((t, idx, checkpoint.to_torch(self._transform(e, part, forward, "model"), dtype)))
        copies = {id(state[n]) for n in (spec.tensors if spec is not None else ()) if n in state}
        with torch.no_grad():
            for t, idx, new in updates:  # the widened (or to-be-narrowed) copies first: their checks precede any change
                if id(t) in copies:
                    t[idx] = new.to(t.device)
            if spec is not None:
                _resize_module(model, spec, state, forward)
            for t, idx, new in updates:
                if id(t) not in copies:
                    t[idx] = new.to(t.device)  # assignment, not copy_: a picked dimension's t[idx] is a copy

    def _transform(self, e: Mapping[str, Any], part: np.ndarray, forward: bool, where: str) -> np.ndarray:
        """Check ``part`` is the expected side, move it across with the delta, check the other side."""
        before, after = ("base_sha256", "patched_sha256") if forward else ("patched_sha256", "base_sha256")
        found = checkpoint.sha256_array(part)
        if found != e[before]:
            state = "base" if forward else "patched"
            if found == e[after]:
                raise errors.BaseMismatchError(
                    f"{where}: patch {self.name} is already applied ({e['tensor']} holds the patched values)"
                    if forward else
                    f"{where}: patch {self.name} is not applied ({e['tensor']} holds the base values, not the patched ones); nothing to revert"
                )
            raise errors.BaseMismatchError(
                f"{where}: {e['tensor']}{delta.format_slice(_slice(e), tuple(e['shape']))}: sha256 {found[:16]}…, "
                f"expected {e[before][:16]}… — not the {state} checkpoint this patch was made for"
            )
        d = self._delta(e)
        new = delta.add_delta(part, d, e["dtype"]) if forward else delta.sub_delta(part, d, e["dtype"])
        if checkpoint.sha256_array(new) != e[after]:
            raise errors.IntegrityError(f"{self.path}: {e['tensor']}: result does not hash to the manifest's {after}")
        return new

    def summary(self) -> dict[str, Any]:
        """What ``patchkit show`` prints: base, edits with their share of the model, evals, signer."""
        m = self.manifest
        total = m["base"]["num_parameters"]
        edits = [
            {
                "tensor": e["tensor"],
                "label": e.get("label"),
                "slice": delta.format_slice(_slice(e), tuple(e["shape"])),
                "shape": e["shape"],
                "dtype": e["dtype"],
                "delta_dtype": e["delta_dtype"],
                "numel": e["numel"],
                "share": e["numel"] / total,
                "delta_l2": e["delta_l2"],
                "delta_max_abs": e["delta_max_abs"],
            }
            for e in self.edits
        ]
        numel = sum(e["numel"] for e in self.edits)
        return {
            "name": m["name"],
            "description": m["description"],
            "created": m["created"],
            "patchkit_version": m["patchkit_version"],
            "signer": self.signer_fingerprint,
            "base": {k: m["base"][k] for k in ("repo_id", "revision", "fingerprint", "num_parameters", "num_tensors")},
            "edits": edits,
            "numel": numel,
            "share": numel / total,
            "method": m.get("method"),
            "evals": m.get("evals"),
            "repairs": repairs(m.get("evals")),
            "grow": m.get("grow"),
        }


def repairs(evals: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per facts panel: how many facts were wrong before, how many the edit fixed, how many it broke.

    Counts from the panel's ``before``/``after`` right answers and ``broken`` (right before, wrong
    after; 0 when not recorded): fixed = after − before + broken. This is what a patch repairs —
    not the size of the panel it was trained and judged on.
    """
    out = []
    for p in (evals or {}).get("panels", []):
        if p.get("kind") != "facts" or p.get("metric") != "accuracy":
            continue
        n, before, after = int(p["n"]), p["before"], p["after"]
        if before <= 1 and after <= 1 and n > 1 and (isinstance(before, float) or isinstance(after, float)):
            before, after = round(before * n), round(after * n)  # recorded as fractions
        broken = int(p.get("broken", 0))
        out.append({"panel": p["name"], "n": n, "wrong_before": n - int(before),
                    "fixed": int(after) - int(before) + broken, "broken": broken})
    return out


# ---- create ----------------------------------------------------------------------------


def create(
    base: str | Path,
    edited: str | Path | Mapping[str, "torch.Tensor"],
    out: str | Path,
    *,
    key: str | Path | None,
    name: str | None = None,
    description: str | None = None,
    method: Mapping[str, Any] | None = None,
    evals: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, str | Path] | None = None,
    labels: Mapping[str, str] | None = None,
    base_repo_id: str | None = None,
    base_revision: str | None = None,
    grow_spec: grow.GrowSpec | None = None,
    force: bool = False,
) -> Path:
    """Write the minimal signed patch that turns ``base`` into ``edited``.

    Args:
        base: checkpoint directory or ``.safetensors`` file.
        edited: a checkpoint path, or a mapping of full edited tensors (absent names are unchanged).
        out: the patch directory to write.
        key: EC P-256 private key (``patchkit keygen``); None writes an unsigned patch.
        grow_spec: widen the MLPs first (zero neurons, ``config.json`` updated; :mod:`patchkit.grow`): the
            edited tensors it lists then have the widened shape. ``base`` must be a checkpoint directory.
    Returns:
        ``out``.
    Example:
        >>> create("base/", "edited/", "fix/", key="key.pem")
    """
    base_ckpt = Checkpoint.open(base)
    out = Path(out)
    extras = _check_extra_files(extra_files or {})
    inputs = [base_ckpt.path, *extras.values()] + ([Path(edited)] if isinstance(edited, (str, Path)) else [])
    checkpoint.refuse_existing_output(out, force, inputs=inputs + ([Path(key)] if key is not None else []))
    labels = dict(labels or {})
    public_pem = signing.public_pem_of_private(Path(key)) if key is not None else None  # fail before hashing
    if grow_spec is not None:
        check_growable(base_ckpt, grow_spec)
    files, hashes = base_ckpt.hash_all()
    patched_hashes = dict(hashes)
    patched_shapes = {n: grow_spec.shape(n, t.shape) if grow_spec else t.shape for n, t in base_ckpt.tensors.items()}
    edits, deltas = [], {}
    for tensor, base_t, edited_t in _changed_tensors(base_ckpt, edited, grow_spec):
        box = delta.changed_box(base_t, edited_t)
        if box is None:
            continue
        info = base_ckpt.tensors[tensor]
        idx = delta.index(box)
        base_part, patched_part = np.array(base_t[idx], order="C"), np.array(edited_t[idx], order="C")
        try:
            d = delta.make_delta(base_part, patched_part, info.dtype)
            l2, max_abs = delta.stats(d)
        except errors.NotExactError as exc:
            raise errors.NotExactError(f"{tensor}{delta.format_slice(box, tuple(base_t.shape))}: {exc}") from None
        edit = {
            "tensor": tensor,
            "dtype": info.dtype,
            "shape": list(patched_shapes[tensor]),
            "slice": delta.slice_json(box),
            "delta_key": tensor,
            "delta_dtype": "F32" if d.dtype == np.float32 else "F64",
            "base_sha256": checkpoint.sha256_array(base_part),
            "patched_sha256": checkpoint.sha256_array(patched_part),
            "delta_l2": l2,
            "delta_max_abs": max_abs,
            "numel": _numel(delta.slice_shape(box)),
        }
        if tensor in labels:
            edit["label"] = labels[tensor]
        edits.append(edit)
        deltas[tensor] = np.array(d, order="C")
        patched_hashes[tensor] = checkpoint.sha256_array(edited_t)
    if grow_spec is not None:  # a widened tensor no edit touches still hashes as its zero-padded self
        for n, axis in grow_spec.tensors.items():
            if n not in deltas:
                patched_hashes[n] = checkpoint.sha256_array(grow.pad(base_ckpt.read_tensor(n), axis, grow_spec.new))
    if not edits:
        raise errors.NothingChangedError(f"{edited if isinstance(edited, (str, Path)) else 'edited tensors'}: identical to {base}")
    delta_bytes = _save_deltas(deltas)
    data: dict[str, Any] = {
        "schema_version": manifest.SCHEMA_VERSION,
        "name": name or out.name,
        "description": description or "",
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "patchkit_version": __version__,
        "signer": {"key_fingerprint": signing.fingerprint(public_pem), "public_key": public_pem.decode()} if public_pem else None,
        "base": {
            "repo_id": base_repo_id,
            "revision": base_revision,
            "files": files,
            "fingerprint": _fingerprint(base_ckpt, hashes),
            "num_parameters": base_ckpt.num_parameters,
            "num_tensors": len(base_ckpt.tensors),
        },
        "patched": {"fingerprint": checkpoint.fingerprint(
            {n: (t.dtype, patched_shapes[n], patched_hashes[n]) for n, t in base_ckpt.tensors.items()})},
        "edits": edits,
        "delta": {"file": DELTA_NAME, "sha256": hashlib.sha256(delta_bytes).hexdigest(), "size": len(delta_bytes)},
    }
    if grow_spec is not None:
        data["grow"] = grow_spec.to_json()
    if method is not None:
        data["method"] = manifest.plain(dict(method), "method")
    if evals is not None:
        data["evals"] = manifest.plain(dict(evals), "evals")
    manifest.validate(data)
    if key is None:
        warnings.warn(f"{out}: writing an UNSIGNED patch (no key given)", UserWarning, stacklevel=2)

    def write(tmp: Path) -> None:
        tmp.mkdir()
        manifest.write(tmp / manifest.MANIFEST_NAME, data)
        (tmp / DELTA_NAME).write_bytes(delta_bytes)
        for rel, src in extras.items():
            (tmp / rel).parent.mkdir(exist_ok=True)
            shutil.copyfile(src, tmp / rel)
        if key is not None:
            signing.sign_patch(tmp, Path(key))

    return checkpoint.atomic_output(out, force, write)


def _save_deltas(deltas: Mapping[str, np.ndarray]) -> bytes:
    import safetensors.numpy

    return safetensors.numpy.save(dict(deltas), metadata=_DELTA_METADATA)


def check_growable(base: Checkpoint, spec: grow.GrowSpec) -> None:
    """Refuse a widening the base cannot take and give back byte for byte (a bare file has no config)."""
    if base.is_file:
        raise errors.UsageError(f"{base.path}: widening the MLP needs a checkpoint directory with {grow.CONFIG_NAME}")
    grow.check_spec(spec, {n: t.shape for n, t in base.tensors.items()}, str(base.path))
    raw = _config_bytes(base)
    if grow.config_bytes(grow.config_bytes(raw, spec, True, str(base.path)), spec, False, str(base.path)) != raw:
        raise errors.CheckpointError(f"{base.root / grow.CONFIG_NAME}: {spec.config_key} cannot be changed and "
                                     "changed back byte for byte")
    for rel in sorted({base.tensors[n].file for n in spec.tensors}):
        grow.check_reversible(base.root / rel, spec)
    index = _index_raw(base)
    if index is not None:
        added, where = _added_bytes(base, spec, True), str(base.path)
        if grow.index_bytes(grow.index_bytes(index, added, True, where), added, False, where) != index:
            raise errors.CheckpointError(f"{base.root / INDEX_NAME}: total_size cannot be changed and changed back "
                                         "byte for byte")


def _added_bytes(ckpt: Checkpoint, spec: grow.GrowSpec, forward: bool) -> int:
    """The bytes the widening adds, from ``ckpt``'s shapes (the base's when ``forward``, else widened ones)."""
    return grow.added_bytes(spec, {n: (t.dtype, t.shape if forward else spec.shape(n, t.shape, False))
                                   for n, t in ckpt.tensors.items()})


def _index_raw(ckpt: Checkpoint) -> bytes | None:
    """The bytes of a sharded checkpoint's index (None: it has none)."""
    if ckpt.is_file or safeio.kind(ckpt.root / INDEX_NAME) == "missing":
        return None
    return _member_bytes(ckpt, INDEX_NAME)


def _index_bytes(ckpt: Checkpoint, spec: grow.GrowSpec, forward: bool) -> bytes | None:
    """A sharded checkpoint's index with its ``total_size`` changed by the widening (None: no index)."""
    raw = _index_raw(ckpt)
    if raw is None:
        return None
    return grow.index_bytes(raw, _added_bytes(ckpt, spec, forward), forward, str(ckpt.root / INDEX_NAME))


def _config_bytes(ckpt: Checkpoint) -> bytes:
    """The bytes of a checkpoint directory's ``config.json``."""
    return _member_bytes(ckpt, grow.CONFIG_NAME)


def _member_bytes(ckpt: Checkpoint, rel: str) -> bytes:
    """The bytes of a small JSON file of a checkpoint directory (a regular file inside it)."""
    return safeio.read_regular(checkpoint.member(ckpt.root, rel, where=str(ckpt.path)), errors.CheckpointError,
                               limit=safeio.MAX_JSON_FILE, follow=True)


def _changed_tensors(
    base: Checkpoint, edited: str | Path | Mapping[str, "torch.Tensor"], spec: grow.GrowSpec | None = None
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Yield (name, base array, edited array) for tensors whose bytes differ, one at a time (raw dtypes).

    With ``spec``, the tensors it widens are compared with their zero-padded base."""
    if isinstance(edited, Mapping):
        for name in sorted(edited):
            info = base.tensors.get(name)
            if info is None:
                raise errors.IncompatibleModelsError(f"edited tensor {name} is not in {base.path}")
            t, dtype = checkpoint.from_torch(edited[name])
            found = (dtype, tuple(t.shape))
            want = spec.shape(name, info.shape) if spec is not None else info.shape
            if found != (info.dtype, want):
                raise errors.IncompatibleModelsError(
                    f"{name}: edited is {found[0]}{list(found[1])}, {base.path} has {info.dtype}{list(want)}"
                )
            base_t = base.read_tensor(name)
            if spec is not None and name in spec.tensors:
                base_t = grow.pad(base_t, spec.tensors[name], spec.new)
            if not delta.bits_equal(base_t, t):
                yield name, base_t, t
        return
    if spec is not None:
        raise errors.UsageError("widening the MLP needs the edited tensors, not an edited checkpoint")
    other = Checkpoint.open(edited)
    missing, extra = sorted(set(base.tensors) - set(other.tensors)), sorted(set(other.tensors) - set(base.tensors))
    if missing or extra:
        raise errors.IncompatibleModelsError(
            f"{other.path}: tensor names differ from {base.path}: missing {missing[:3]}, extra {extra[:3]}"
        )
    for name in sorted(base.tensors):
        a, b = base.tensors[name], other.tensors[name]
        if (a.dtype, a.shape) != (b.dtype, b.shape):
            raise errors.IncompatibleModelsError(
                f"{name}: {other.path} has {b.dtype}{list(b.shape)}, {base.path} has {a.dtype}{list(a.shape)}"
            )
        if base.raw_bytes(name) != other.raw_bytes(name):
            yield name, base.read_tensor(name), other.read_tensor(name)


def _check_extra_files(extra: Mapping[str, str | Path]) -> dict[str, Path]:
    checked = {}
    for rel, src in extra.items():
        if not (is_patch_file(rel) and rel.startswith(PANELS_DIR + "/")):
            raise errors.UsageError(f"extra file {rel!r}: must be panels/<name> inside the patch")
        if not Path(src).is_file():
            raise errors.UsageError(f"extra file {rel!r}: source {src} is not a file")
        checked[rel] = Path(src)
    return checked


# ---- apply / revert --------------------------------------------------------------------


def apply(
    patch: str | Path,
    base: str | Path,
    out: str | Path,
    *,
    pubkey: str | Path | None = None,
    allow_unsigned: bool = False,
    force: bool = False,
) -> Path:
    """Write ``base`` with the patch applied to ``out``, streaming; return ``out``.

    Checks the signature, the delta and every base slice hash before writing anything.

    Example:
        >>> apply("fix/", "base/", "patched/", pubkey="key.pem.pub")
    """
    return _move(patch, base, out, forward=True, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force)


def revert(
    patch: str | Path,
    patched: str | Path,
    out: str | Path,
    *,
    pubkey: str | Path | None = None,
    allow_unsigned: bool = False,
    force: bool = False,
) -> Path:
    """Write ``patched`` with the patch undone to ``out``: the exact inverse of :func:`apply`.

    Example:
        >>> revert("fix/", "patched/", "restored/", pubkey="key.pem.pub")
    """
    return _move(patch, patched, out, forward=False, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force)


def _move(patch, source, out, *, forward: bool, pubkey, allow_unsigned: bool, force: bool) -> Path:
    p = Patch.load(patch)
    _check_files(p.path)
    p.verify_signature(Path(pubkey) if pubkey is not None else None, allow_unsigned)
    p.check_integrity()
    ckpt = Checkpoint.open(source)
    ckpt.check_files()
    out = Path(out)
    inputs = [ckpt.path, p.path, settings.trusted_keys_dir()] + ([Path(pubkey)] if pubkey is not None else [])
    checkpoint.refuse_existing_output(out, force, inputs=inputs)
    if forward:
        _refuse_overlap(p, applied_patches(ckpt.path), ckpt.path)
    plan = _plan(p, ckpt, forward)
    record = _updated_record(p, ckpt, forward)
    touched = {info.file for info, _, _ in plan}
    spec = p.grow
    if spec is not None:
        if ckpt.is_file:
            raise errors.UsageError(f"{ckpt.path}: patch {p.name} widens the MLP: give the checkpoint directory "
                                    f"(with its {grow.CONFIG_NAME}), not the weight file")
        touched |= {ckpt.tensors[n].file for n in spec.tensors}
        config_out = grow.config_bytes(_config_bytes(ckpt), spec, forward, str(ckpt.path))
        index_out = _index_bytes(ckpt, spec, forward)

    def write(tmp: Path) -> None:
        if spec is not None:
            _write_widened(tmp, ckpt, plan, spec, forward, config_out, index_out)
            if record["applied"]:
                (tmp / APPLIED_RECORD).write_bytes(_record_bytes(record))
            return
        if ckpt.is_file:
            checkpoint.clone_file(ckpt.path, tmp)
            checkpoint.write_rows(tmp, [(i, r, rows) for i, r, rows in plan])
            return
        tmp.mkdir()
        checkpoint.copy_checkpoint_dir(ckpt.root, tmp, weights=set(ckpt.files), touched=touched, skip={APPLIED_RECORD, *STALE_FILES})
        for rel in touched:
            checkpoint.write_rows(tmp / rel, [(i, r, rows) for i, r, rows in plan if i.file == rel])
        if record["applied"]:
            (tmp / APPLIED_RECORD).write_bytes(_record_bytes(record))

    # A single-file OUT keeps its record beside it: written in the same staging step, published with OUT.
    sidecars = {_record_path(out).name: _record_bytes(record) if record["applied"] else None} if ckpt.is_file else None
    return checkpoint.atomic_output(out, force, write, sidecars=sidecars)


def _write_widened(tmp: Path, ckpt: Checkpoint, plan: list[tuple[TensorInfo, int, np.ndarray]], spec: grow.GrowSpec,
                   forward: bool, config_out: bytes, index_out: bytes | None) -> None:
    """Write a widening patch's OUT into ``tmp``: widen then edit (apply), or unedit then narrow (revert)."""
    files = {ckpt.tensors[n].file for n in spec.tensors}
    edited = {i.file for i, _, _ in plan}
    tmp.mkdir()
    checkpoint.copy_checkpoint_dir(ckpt.root, tmp, weights=set(ckpt.files), touched=edited - files,
                                   skip={APPLIED_RECORD, grow.CONFIG_NAME, *STALE_FILES, *files,
                                         *(() if forward else edited), *(() if index_out is None else (INDEX_NAME,))})
    (tmp / grow.CONFIG_NAME).write_bytes(config_out)
    if index_out is not None:
        (tmp / INDEX_NAME).write_bytes(index_out)
    if forward:
        for rel in files:
            grow.write_resized(ckpt.root / rel, tmp / rel, spec, forward=True)
        infos = {i.name: i for rel in files for i in checkpoint.read_header(tmp / rel, rel)}
        plan = [(infos.get(i.name, i), r0, rows) for i, r0, rows in plan]
        for rel in {i.file for i, _, _ in plan}:
            checkpoint.write_rows(tmp / rel, [(i, r, rows) for i, r, rows in plan if i.file == rel])
        return
    for rel in edited | files:
        staged = tmp / (rel + ".unedited")
        checkpoint.clone_file(checkpoint.member(ckpt.root, rel).resolve(), staged)
        checkpoint.write_rows(staged, [(i, r, rows) for i, r, rows in plan if i.file == rel])
        if rel in files:
            grow.write_resized(staged, tmp / rel, spec, forward=False)
            staged.unlink()
        else:
            staged.rename(tmp / rel)


def _plan(p: Patch, ckpt: Checkpoint, forward: bool) -> list[tuple[TensorInfo, int, np.ndarray]]:
    """For every edit: (tensor, first row, the new whole rows), after checking hashes both sides.

    A widening patch applied to its base reads the base as if widened already (zeros beyond it)."""
    spec = p.grow if forward else None
    if spec is not None:
        grow.check_spec(spec, {n: t.shape for n, t in ckpt.tensors.items()}, str(ckpt.path))
    plan = []
    for e in p.edits:
        info = ckpt.tensors.get(e["tensor"])
        if info is None:
            raise errors.BaseMismatchError(f"{ckpt.path}: has no tensor {e['tensor']} (the patch edits it)")
        shape = spec.shape(e["tensor"], info.shape) if spec is not None else info.shape
        _check_tensor_matches(e, info.dtype, shape, str(ckpt.path))
        slc = _slice(e)
        first = slc[0] if slc else (0, 1)
        r0, r1 = (first.values[0], first.values[-1] + 1) if isinstance(first, delta.Picked) else first
        if spec is not None and e["tensor"] in spec.tensors:
            rows = _widened_rows(ckpt, e["tensor"], r0, r1, spec)
        else:
            rows = ckpt.read_rows(e["tensor"], r0, r1) if slc else ckpt.read_tensor(e["tensor"])
        lead = np.array(first.values) - r0 if isinstance(first, delta.Picked) else slice(0, r1 - r0)
        sub = (lead, *delta.index(slc[1:])) if slc else ()
        rows[sub] = p._transform(e, np.array(rows[sub], order="C"), forward, str(ckpt.path))
        plan.append((info, r0, rows))
    return plan


def _widened_rows(ckpt: Checkpoint, name: str, r0: int, r1: int, spec: grow.GrowSpec) -> np.ndarray:
    """Rows ``r0:r1`` of base tensor ``name`` as the widening makes it: zero rows or columns appended."""
    info = ckpt.tensors[name]
    axis = spec.tensors[name]
    if axis == 0:
        have = ckpt.read_rows(name, min(r0, info.shape[0]), min(r1, info.shape[0]))
        return grow.pad(have, 0, r1 - r0) if have.shape[0] < r1 - r0 else have
    return grow.pad(ckpt.read_rows(name, r0, r1), axis, spec.new)


def _check_tensor_matches(e: Mapping[str, Any], dtype: str, shape: tuple[int, ...], where: str) -> None:
    if (dtype, tuple(shape)) != (e["dtype"], tuple(e["shape"])):
        raise errors.BaseMismatchError(
            f"{where}: tensor {e['tensor']} is {dtype}{list(shape)}, the patch expects {e['dtype']}{e['shape']}"
        )


# ---- applied-patches record ------------------------------------------------------------


def applied_patches(path: str | Path) -> list[dict[str, Any]]:
    """The patches recorded as applied to a checkpoint written by :func:`apply` (oldest first)."""
    record = _record_path(Path(path))
    if safeio.kind(record) == "missing":
        return []
    malformed = errors.CheckpointError(f"{record}: malformed applied-patches record")
    try:
        raw = safeio.read_regular(record, errors.CheckpointError, limit=safeio.MAX_JSON_FILE)
        applied = safeio.loads(raw, errors.CheckpointError, str(record))["applied"]
    except errors.CheckpointError as exc:
        raise (malformed if "not valid JSON" in str(exc) else exc) from None
    except (KeyError, TypeError):
        raise malformed from None
    entry_keys = {"name": str, "patch_sha256": str, "signer": (str, type(None))}
    if not isinstance(applied, list) or not all(
        isinstance(a, dict) and all(isinstance(a.get(k), t) for k, t in entry_keys.items())
        and _record_edits_ok(a.get("edits", [])) for a in applied
    ):
        raise malformed
    return applied


def _record_edits_ok(edits: Any) -> bool:
    """A record entry's ``edits``: a list of {tensor: str, slice: [[int, int] or {"index": [int, ...]}, ...]}."""
    def slice_ok(raw: Any) -> bool:
        try:
            delta.parse_slice(raw)
        except ValueError:
            return False
        return True

    return isinstance(edits, list) and all(
        isinstance(e, dict) and isinstance(e.get("tensor"), str) and slice_ok(e.get("slice")) for e in edits
    )


def _record_path(path: Path) -> Path:
    return path / APPLIED_RECORD if path.is_dir() or not path.suffix else path.with_name(f"{path.name}.{APPLIED_RECORD}")


def _updated_record(p: Patch, ckpt: Checkpoint, forward: bool) -> dict[str, Any]:
    applied = applied_patches(ckpt.path)
    entry = {"name": p.name, "patch_sha256": p.manifest_sha256, "signer": p.signer_fingerprint,
             "edits": [{"tensor": e["tensor"], "slice": e["slice"]} for e in p.edits]}
    if forward:
        applied.append(entry)
    else:
        shas = [a.get("patch_sha256") for a in applied]
        if p.manifest_sha256 in shas:
            del applied[len(shas) - 1 - shas[::-1].index(p.manifest_sha256)]
        elif applied:
            warnings.warn(f"{ckpt.path}: its record does not list patch {p.name}; reverting by hashes alone", UserWarning)
    return {"applied": applied}


def _record_bytes(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")


def overlapping(a_edits: Iterable[Mapping[str, Any]], b_edits: Iterable[Mapping[str, Any]]) -> list[str]:
    """Where two patches' edits intersect: ``tensor[box]`` for each tensor whose slices share elements.

    Stacked patches must edit disjoint slices: then each one's slice hashes do not depend on the
    other, and they apply (and revert) in either order.
    """
    b_by_tensor = {e["tensor"]: e for e in b_edits}
    found = []
    for e in a_edits:
        other = b_by_tensor.get(e["tensor"])
        if other is None:
            continue
        shared = delta.intersect(delta.parse_slice(e["slice"]), delta.parse_slice(other["slice"]))
        if shared is not None:
            found.append(e["tensor"] + "[" + ", ".join(f"{len(d.values)} picked" if isinstance(d, delta.Picked)
                                                       else f"{d[0]}:{d[1]}" for d in shared) + "]")
    return found


def _refuse_overlap(p: Patch, applied: list[dict[str, Any]], where: Path) -> None:
    for entry in applied:
        if entry.get("patch_sha256") == p.manifest_sha256:
            continue  # the same patch again: the slice hashes say "already applied"
        shared = overlapping(p.edits, entry.get("edits") or [])
        if shared:
            raise errors.PatchConflictError(
                f"{where}: patch {p.name} overlaps patch {entry.get('name')} (already applied) on {shared[0]}; "
                f"stacked patches must edit disjoint slices (revert {entry.get('name')} first)"
            )


# ---- verify and show -------------------------------------------------------------------


def verify(
    patch: str | Path,
    *,
    base: str | Path | None = None,
    pubkey: str | Path | None = None,
    allow_unsigned: bool = False,
) -> VerifyReport:
    """Check a patch (and optionally a base checkpoint) and return the checklist.

    Checks: schema, files, signature, signer trusted, delta file, ΔL2/max|Δ|, slices, and with
    ``base``: its tensors, fingerprint and slice hashes. Never raises for a failed check.

    Example:
        >>> report = verify("fix/", base="base/", pubkey="key.pem.pub")
        >>> report.ok
    """
    report = VerifyReport(str(patch))
    try:
        p = Patch.load(patch)
    except errors.PatchkitError as exc:
        report.add("schema", False, str(exc))
        return report
    report.add("schema", True, f"{manifest.MANIFEST_NAME} matches schema v{manifest.SCHEMA_VERSION}")
    report.run("files", lambda: _check_files(p.path))
    key = Path(pubkey) if pubkey is not None else None
    for name, fn in (("signature", p._check_signature), ("signer trusted", lambda: p._check_trust(key))):
        try:
            report.add(name, True, fn())
        except errors.SignatureError as exc:
            if allow_unsigned:
                warnings.warn(f"--allow-unsigned: {exc}", UserWarning, stacklevel=2)
            report.add(name, allow_unsigned, f"{'NOT CHECKED (--allow-unsigned): ' if allow_unsigned else ''}{exc}")
    delta_ok = report.run("delta file", p._check_delta_file)
    slices_ok = report.run("slices", p._check_slices)
    if delta_ok:
        report.run("delta statistics", p._check_stats)
    if base is not None:
        report.run("base checkpoint", lambda: _check_base(p, Path(base), deep=delta_ok and slices_ok))
    return report


def _check_files(path: Path) -> str:
    """Every entry of a patch directory is one of its files (or ``panels/``), and a regular file."""
    found = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in dirnames + filenames:
            rel = (Path(dirpath) / name).relative_to(path).as_posix()
            if not (rel == PANELS_DIR and safeio.kind(path / rel) == "dir"):
                found.append(rel)
    found.sort()
    bad = [f for f in found if not is_patch_file(f) or safeio.kind(path / f) != "file"]
    if bad:
        raise errors.IntegrityError(f"{path}: unexpected files {bad[:5]}")
    return ", ".join(found)


def _check_base(p: Patch, base: Path, deep: bool) -> str:
    ckpt = Checkpoint.open(base)
    ckpt.check_files()
    files, hashes = ckpt.hash_all()
    spec = p.grow
    for e in p.edits:
        info = ckpt.tensors.get(e["tensor"])
        if info is None:
            raise errors.BaseMismatchError(f"{base}: has no tensor {e['tensor']} (the patch edits it)")
        _check_tensor_matches(e, info.dtype, spec.shape(e["tensor"], info.shape) if spec else info.shape, str(base))
    fp = _fingerprint(ckpt, hashes)
    if fp != p.manifest["base"]["fingerprint"]:
        if fp == p.manifest["patched"]["fingerprint"]:
            raise errors.BaseMismatchError(f"{base}: is the PATCHED checkpoint (this patch is already applied)")
        raise errors.BaseMismatchError(f"{base}: content fingerprint {fp[:16]}… ≠ the patch's base {p.manifest['base']['fingerprint'][:16]}…")
    if deep:
        _plan(p, ckpt, forward=True)
    same_layout = sorted((f["path"], f["sha256"]) for f in files) == sorted((f["path"], f["sha256"]) for f in p.manifest["base"]["files"])
    return f"fingerprint {fp[:16]}… matches; base slices hash as recorded; weight files {'identical' if same_layout else 'laid out differently (content equal)'}"


def show(path: str | Path) -> dict[str, Any]:
    """Summary of a patch directory, or of the patches applied to a checkpoint written by apply."""
    path = Path(path)
    if safeio.kind(path / manifest.MANIFEST_NAME) != "missing":
        return {"kind": "patch", **Patch.load(path).summary()}
    if _record_path(path).is_file() or path.exists():
        return {"kind": "checkpoint", "path": str(path), "applied": applied_patches(path)}
    raise errors.UsageError(f"{path}: neither a patch directory nor a checkpoint")


# ---- small helpers -----------------------------------------------------------------------


def _slice(e: Mapping[str, Any]) -> delta.Slice:
    return delta.parse_slice(e["slice"])


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _fingerprint(ckpt: Checkpoint, hashes: Mapping[str, str]) -> str:
    return checkpoint.fingerprint({n: (t.dtype, t.shape, hashes[n]) for n, t in ckpt.tensors.items()})


def _pad_torch(t: "torch.Tensor", axis: int, new: int) -> "torch.Tensor":
    """``t`` with zeros appended along ``axis`` up to ``new`` (a copy)."""
    import torch

    shape = list(t.shape)
    shape[axis] = new - shape[axis]
    return torch.cat([t.detach(), t.new_zeros(shape)], dim=axis)


def _resize_module(model: "torch.nn.Module", spec: grow.GrowSpec, state: Mapping[str, "torch.Tensor"], forward: bool) -> None:
    """Put ``state``'s widened tensors into ``model`` (``forward``), or narrow them back after checking the
    added neurons are zero again; ``model.config`` follows."""
    import torch

    new = {}
    for name, axis in spec.tensors.items():
        t = state[name]
        if not forward:
            extra = t.narrow(axis, spec.old, t.shape[axis] - spec.old)
            if bool(extra.ne(0).any()) or bool(torch.signbit(extra).any()):
                raise errors.BaseMismatchError(f"model: tensor {name} has non-zero values beyond index {spec.old} of "
                                               f"axis {axis}: not widened by this patch")
            t = t.narrow(axis, 0, spec.old).clone()
        new[name] = t
    for name, t in new.items():
        owner, attr = name.rsplit(".", 1)
        module = model.get_submodule(owner)
        getattr(module, attr).data = t
        if isinstance(module, torch.nn.Linear):
            module.out_features, module.in_features = module.weight.shape
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, spec.config_key):
        setattr(config, spec.config_key, spec.new if forward else spec.old)
