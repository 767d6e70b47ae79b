"""Share patches on the Hugging Face Hub: push, pull, and audit a base against the Hub's records.

Everything goes through the real ``huggingface_hub`` client. The endpoint,
offline mode and cache directory come from :mod:`patchkit.settings` and are
passed explicitly on every call, so they are read when a command runs, not
when ``huggingface_hub`` was first imported.

- :func:`push` verifies a patch, then uploads its files and a generated model
  card in one commit.
- :func:`pull` lists the repo first and refuses anything that is not a patch
  file (absolute paths, ``..``, links, folders, stray files), downloads only
  the patch files, and verifies them before the output directory appears.
- :func:`check_remote_base` compares a manifest's per-file sha256 with the
  Hub's LFS sha256 (``get_paths_info``): no weights are downloaded.
- :func:`download_model` / :func:`download_patch` back :mod:`patchkit.resolve`,
  so every command accepts ``OWNER/NAME[@REVISION]`` for a model or a patch.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from patchkit import card, errors, settings

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from patchkit.engine import Check, VerifyReport

# A Hub repo id, optionally pinned: OWNER/NAME or OWNER/NAME@REVISION (branch, tag or commit sha).
_REPO_ID = re.compile(
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})(?:@(?P<rev>[A-Za-z0-9_./-]{1,200}))?"
)
# Files a Hub repo has that are not part of a patch, and that pull skips.
_HUB_FILES = (".gitattributes",)
# Weight formats patchkit never reads (pickles and other frameworks): not worth downloading with a base.
_SKIP_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx", "*.gguf", "*.ot", "*.tflite", "*.pkl")
# Upper bounds for the files pull fetches whose size the manifest does not record.
_MAX_SMALL_FILE = 8 * 1024 * 1024
_MAX_PANEL_FILE = 256 * 1024 * 1024
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}")


# ---- repo ids ---------------------------------------------------------------------------


def parse_repo_id(spec: str | os.PathLike[str]) -> tuple[str, str | None] | None:
    """Split ``OWNER/NAME[@REVISION]`` into ``(repo_id, revision)``; None when ``spec`` is not a repo id.

    Example:
        >>> parse_repo_id("HuggingFaceTB/SmolLM2-135M@main")
        ('HuggingFaceTB/SmolLM2-135M', 'main')
    """
    m = _REPO_ID.fullmatch(str(spec))
    if m is None or "--" in m.group("repo") or ".." in m.group("repo"):
        return None
    return m.group("repo"), m.group("rev")


def looks_like_repo_id(spec: str | os.PathLike[str]) -> bool:
    """True when ``spec`` is not an existing local path and parses as a Hub repo id."""
    return not Path(spec).exists() and parse_repo_id(spec) is not None


# ---- push -------------------------------------------------------------------------------


@dataclass
class PushResult:
    """What :func:`push` did: the commit (or pull request) it made and the files it uploaded."""

    repo_id: str
    commit_url: str
    commit_oid: str
    pr_url: str | None
    files: list[str]
    changed: bool = True  # False when the repo already held exactly these files (no commit was made)


def push(
    patch: str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    private: bool = False,
    create_pr: bool = False,
    token: str | None = None,
    pubkey: str | Path | None = None,
) -> PushResult:
    """Verify a patch, then publish it and its model card to a Hub repo in one commit.

    Args:
        patch: the patch directory.
        repo_id: ``OWNER/NAME`` of the model repo; created (``private`` if asked) when missing.
        revision: the branch to commit to (created from ``main`` when missing); default ``main``.
        create_pr: open a pull request instead of committing to the branch.
        token: a Hub token; default: ``HF_TOKEN`` or the saved login.
        pubkey: the signer's public key, when it is not in the trusted-keys directory.
    Returns:
        A :class:`PushResult` with the commit URL.

    Example:
        >>> push("fix/", "me/smollm2-capital-fix").commit_url
        'https://huggingface.co/me/smollm2-capital-fix/commit/…'
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.hf_api import RepoFile

    from patchkit import engine

    patch = Path(patch)
    if parse_repo_id(repo_id) is None or "@" in repo_id:
        raise errors.UsageError(f"{repo_id}: not a Hub repo id (OWNER/NAME); give the branch with --revision")
    report = engine.verify(patch, pubkey=pubkey)
    _raise_unless_ok(report, f"{patch}: refusing to push")
    p = engine.Patch.load(patch)
    files = sorted(
        f.relative_to(patch).as_posix()
        for f in patch.rglob("*")
        if f.is_file() and f.relative_to(patch).as_posix() != engine.README_NAME
    )
    readme = card.render(p.manifest, repo_id=repo_id).encode("utf-8")
    operations: list[Any] = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(patch / f)) for f in files]
    operations.append(CommitOperationAdd(path_in_repo=engine.README_NAME, path_or_fileobj=readme))
    keep = {*files, engine.README_NAME, *_HUB_FILES}
    api = _api(token)
    with _hub_errors(f"push to {repo_id}"):
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        head = api.repo_info(repo_id, revision=revision, repo_type="model").sha
        stale = [
            e.path
            for e in api.list_repo_tree(repo_id, revision=head, recursive=True)
            if isinstance(e, RepoFile) and e.path not in keep
        ]
        operations += [CommitOperationDelete(path_in_repo=path) for path in stale]
        signer = p.signer_fingerprint or "unsigned"
        info = api.create_commit(
            repo_id,
            operations=operations,
            commit_message=f"patchkit: {p.name}",
            commit_description=f"Patch {p.name!r} signed by key {signer}; the files are verified by `patchkit pull`.",
            revision=revision,
            create_pr=create_pr,
            parent_commit=None if create_pr else head,
        )
    return PushResult(repo_id, info.commit_url, info.oid, info.pr_url, [*files, engine.README_NAME], info.oid != head)


# ---- pull -------------------------------------------------------------------------------


def pull(
    repo_id: str,
    out: str | Path,
    *,
    revision: str | None = None,
    pubkey: str | Path | None = None,
    allow_unsigned: bool = False,
    force: bool = False,
    token: str | None = None,
) -> tuple[Path, "VerifyReport"]:
    """Download a patch from the Hub into ``out`` and verify it; ``out`` appears only if it verifies.

    Refuses, before downloading anything, a repo that lists anything other
    than the patch's files: absolute paths, ``..``, links, folders or stray
    files. Then checks signature, trust and integrity, as ``verify`` does.

    Args:
        repo_id: ``OWNER/NAME``, or ``OWNER/NAME@REVISION``.
        out: the patch directory to write.
        revision: branch, tag or commit sha (default ``main``).
        pubkey / allow_unsigned: as for ``verify``.
        force: replace ``out`` if it exists.
    Returns:
        ``(out, report)``.

    Example:
        >>> path, report = pull("me/smollm2-capital-fix", "fix/", pubkey="signer.pub")
    """
    from patchkit import checkpoint, engine

    repo_id, revision = _split(repo_id, revision)
    out = Path(out)
    inputs = [settings.trusted_keys_dir()] + ([Path(pubkey)] if pubkey is not None else [])
    checkpoint.refuse_existing_output(out, force, inputs=inputs)
    reports = []

    def write(tmp: Path) -> None:  # in a staging sibling: fsynced, published by one exclusive rename
        download_patch(repo_id, revision, dest=tmp, token=token)
        report = engine.verify(tmp, pubkey=pubkey, allow_unsigned=allow_unsigned)
        _raise_unless_ok(report, f"{repo_id}: refusing the pulled patch")
        reports.append(report)

    checkpoint.atomic_output(out, force, write)
    reports[0].patch = str(out)
    return out, reports[0]


def download_patch(repo_id: str, revision: str | None = None, *, dest: Path, token: str | None = None) -> str:
    """Fetch a patch's files from the Hub (through the HF cache) into ``dest`` as plain files; return the commit sha.

    Online, the repo's listing is checked first and only the patch files are
    downloaded. Offline (``HF_HUB_OFFLINE``), the cached snapshot is used and
    its listing checked the same way. Nothing is verified here: callers do.
    """
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.hf_api import RepoFile

    cache = settings.hub_cache_dir()
    if settings.hub_offline():
        with _hub_errors(f"{repo_id}: the patch from the local Hugging Face cache (offline)"):
            folder = Path(
                snapshot_download(
                    repo_id, revision=revision or "main", cache_dir=cache, local_files_only=True,
                    allow_patterns=["*.json", "*.safetensors", "*.sig", "*.md", "panels/*"],
                )
            )
        names = _check_listing(
            [(f.relative_to(folder).as_posix(), "other" if f.is_dir() else "file") for f in folder.rglob("*")],
            repo_id,
        )
        sha = folder.name
    else:
        api = _api(token)
        with _hub_errors(f"{repo_id}: listing the patch"):
            sha = api.repo_info(repo_id, revision=revision, repo_type="model").sha or ""
            entries = list(api.list_repo_tree(repo_id, revision=sha, recursive=True))
        names = _check_listing([(e.path, "file" if isinstance(e, RepoFile) else "other") for e in entries], repo_id)
        sizes = {e.path: e.size for e in entries if isinstance(e, RepoFile)}
        if sizes.get("patch.json", 0) > _MAX_SMALL_FILE:
            raise errors.HubError(f"{repo_id}: patch.json is {sizes['patch.json']} bytes; refusing (limit {_MAX_SMALL_FILE})")
        with _hub_errors(f"{repo_id}: downloading the patch"):
            # patch.json first (by name, not sha, so the cache records the ref for offline use), then
            # the rest once the listed sizes agree with the manifest: nothing oversized is fetched.
            manifest_path = Path(
                hf_hub_download(
                    repo_id, "patch.json", revision=revision or "main", cache_dir=cache,
                    endpoint=settings.hub_endpoint(), token=token,
                )
            )
        if manifest_path.parent.name != sha:
            raise errors.HubError(f"{repo_id}: changed on the Hub while pulling ({sha[:12]} -> {manifest_path.parent.name[:12]}); retry")
        _check_sizes(repo_id, sizes, names, manifest_path)
        with _hub_errors(f"{repo_id}: downloading the patch"):
            folder = Path(
                snapshot_download(
                    repo_id, revision=sha, cache_dir=cache, endpoint=settings.hub_endpoint(),
                    token=token, allow_patterns=names,
                )
            )
    _copy_plain(folder, names, dest, storage=folder.parent.parent)
    return sha


def _check_listing(listing: list[tuple[str, str]], repo_id: str) -> list[str]:
    """Return the patch files to download from a repo listing of (path, kind); raise on anything else."""
    from patchkit import engine

    names: list[str] = []
    for path, kind in listing:
        if path in _HUB_FILES:
            continue
        if not _safe_relpath(path):
            raise errors.HubError(f"{repo_id}: refusing a repo that holds an unsafe path {path!r} (absolute, '..' or odd characters)")
        if kind != "file":
            if path == engine.PANELS_DIR:
                continue
            raise errors.HubError(f"{repo_id}: refusing {path!r}: not a regular file (a link, folder or other entry)")
        if not engine.is_patch_file(path):
            raise errors.HubError(f"{repo_id}: refusing unexpected file {path!r} (a patch repo holds only patch files)")
        names.append(path)
    if "patch.json" not in names:
        raise errors.HubError(f"{repo_id}: not a patch repo (no patch.json)")
    return sorted(names)


def _check_sizes(repo_id: str, sizes: dict[str, int], names: list[str], manifest_path: Path) -> None:
    """Refuse, before downloading them, files whose listed size cannot be right for this manifest."""
    import json

    try:
        want = int(json.loads(manifest_path.read_bytes())["delta"]["size"])
    except (ValueError, KeyError, TypeError):
        return  # not a readable manifest: verification reports it, and the delta's size is unknown
    for name in names:
        size = sizes.get(name, 0)
        if name == "delta.safetensors" and size != want:
            raise errors.HubError(
                f"{repo_id}: delta.safetensors is {size} bytes on the Hub but the manifest says {want}; refusing to download it"
            )
        if name in ("README.md", "patch.sig") and size > _MAX_SMALL_FILE:
            raise errors.HubError(f"{repo_id}: {name} is {size} bytes; refusing (limit {_MAX_SMALL_FILE})")
        if name.startswith("panels/") and size > _MAX_PANEL_FILE:
            raise errors.HubError(f"{repo_id}: {name} is {size} bytes; refusing (limit {_MAX_PANEL_FILE})")


def _safe_relpath(path: str) -> bool:
    if not path or path.startswith(("/", "\\")) or "\\" in path or re.match(r"^[A-Za-z]:", path):
        return False
    return all(_SAFE_SEGMENT.fullmatch(part) for part in path.split("/"))


def _copy_plain(folder: Path, names: list[str], dest: Path, *, storage: Path) -> None:
    """Copy cached files into ``dest`` as regular files, never following a link out of the HF cache."""
    root = storage.resolve()
    dest.mkdir(parents=True)
    for name in names:
        src = folder / name
        real = src.resolve()
        if root not in real.parents or not real.is_file():
            raise errors.HubError(f"{src}: cached file resolves outside the Hugging Face cache ({real})")
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with open(real, "rb") as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)


# ---- models and patches as command arguments ----------------------------------------------


def download_model(repo_id: str, revision: str | None = None, *, token: str | None = None) -> Path:
    """Return the local snapshot of a model repo (``snapshot_download``; the cache and ``HF_HUB_OFFLINE`` apply).

    Pickled and other-framework weights are skipped: patchkit reads safetensors only.
    """
    from huggingface_hub import snapshot_download

    offline = settings.hub_offline()
    with _hub_errors(f"{repo_id}{'@' + revision if revision else ''}: base model" + (" (offline)" if offline else "")):
        return Path(
            snapshot_download(
                repo_id, revision=revision or "main", cache_dir=settings.hub_cache_dir(),
                endpoint=settings.hub_endpoint(), token=token, local_files_only=offline,
                ignore_patterns=list(_SKIP_WEIGHTS),
            )
        )


def cached_patch(repo_id: str, revision: str | None = None, *, token: str | None = None) -> Path:
    """A patch repo as a local directory of plain files, kept under patchkit's cache by commit sha.

    Not verified here: ``apply``/``verify`` check signature and integrity themselves.
    """
    root = settings.cache_dir() / "hub-patches" / repo_id.replace("/", "--")
    tmp = root / f".incoming-{uuid.uuid4().hex[:8]}"
    try:
        sha = download_patch(repo_id, revision, dest=tmp, token=token)
        final = root / sha
        if not (final / "patch.json").is_file():
            if final.exists():
                _remove(final)
            tmp.rename(final)
        return final
    finally:
        if tmp.exists():
            _remove(tmp)


# ---- the base, audited against the Hub ---------------------------------------------------


def check_remote_base(
    manifest: dict[str, Any], repo_id: str, revision: str | None = None, *, token: str | None = None
) -> list["Check"]:
    """Compare the manifest's base weight files with the Hub's LFS records, downloading nothing.

    Uses ``get_paths_info`` for exactly the files the manifest lists, and
    compares sha256 and size. Returns checks for a :class:`VerifyReport`; an
    empty list when offline (the full local check still runs on the cached
    snapshot).

    Example:
        >>> [c.ok for c in check_remote_base(Patch.load("fix").manifest, "HuggingFaceTB/SmolLM2-135M")]
        [True, True]
    """
    from huggingface_hub.hf_api import RepoFile

    from patchkit.engine import Check

    if settings.hub_offline():
        return []
    base = manifest.get("base", {})
    files = {f["path"]: f for f in base.get("files", [])}
    api = _api(token)
    with _hub_errors(f"{repo_id}: Hub records of the base"):
        sha = api.repo_info(repo_id, revision=revision, repo_type="model").sha or ""
        remote = {e.path: e for e in api.get_paths_info(repo_id, list(files), revision=sha) if isinstance(e, RepoFile)}
    where = f"{repo_id}@{sha[:12]}"
    recorded = base.get("repo_id"), base.get("revision")
    note = ""
    if recorded[0] and (recorded[0] != repo_id or (recorded[1] and recorded[1] != sha)):
        note = f"; the patch was made from {recorded[0]}@{(recorded[1] or '?')[:12]}"
    checks = [Check("hub base revision", True, f"{where} (resolved from {revision or 'main'}){note}")]
    problems, matched = [], 0
    for path, want in sorted(files.items()):
        got = remote.get(path)
        if got is None:
            problems.append(f"{path}: not in {where}")
        elif got.lfs is None:
            if got.size != want["size"]:
                problems.append(f"{path}: size {got.size} on the Hub ≠ {want['size']} in the manifest")
            else:
                matched += 1  # stored in git, not LFS: the Hub records no sha256; the local check hashes it
        elif got.lfs.sha256 != want["sha256"] or got.lfs.size != want["size"]:
            problems.append(
                f"{path}: Hub LFS sha256 {got.lfs.sha256[:16]}… ({got.lfs.size} bytes) ≠ manifest "
                f"{want['sha256'][:16]}… ({want['size']} bytes)"
            )
        else:
            matched += 1
    if problems:
        hint = f" (the patch was made for {recorded[0]}@{recorded[1]})" if note and recorded[1] else ""
        checks.append(Check("hub base sha256", False, "; ".join(problems) + hint))
    else:
        checks.append(Check("hub base sha256", True, f"{matched} weight file(s) match the Hub's LFS sha256 and size"))
    return checks


# ---- helpers ----------------------------------------------------------------------------


def _api(token: str | None = None) -> "HfApi":
    from huggingface_hub import HfApi

    return HfApi(endpoint=settings.hub_endpoint(), token=token)


def _split(repo_id: str, revision: str | None) -> tuple[str, str | None]:
    parsed = parse_repo_id(repo_id)
    if parsed is None:
        raise errors.UsageError(f"{repo_id}: not a Hub repo id (OWNER/NAME or OWNER/NAME@REVISION)")
    if parsed[1] and revision and parsed[1] != revision:
        raise errors.UsageError(f"{repo_id}: two revisions given ({parsed[1]} and --revision {revision})")
    return parsed[0], parsed[1] or revision


def _raise_unless_ok(report: "VerifyReport", what: str) -> None:
    """Turn a failed verification into the most specific patchkit error, naming the failed checks."""
    failed = [c for c in report.checks if not c.ok]
    if not failed:
        return
    detail = "; ".join(f"{c.name}: {c.detail}" for c in failed)
    names = {c.name for c in failed}
    if "schema" in names:
        raise errors.SchemaError(f"{what}: {detail}")
    if "signer trusted" in names and "signature" not in names:
        raise errors.UntrustedKeyError(f"{what}: {detail}")
    if "signature" in names:
        raise errors.SignatureError(f"{what}: {detail}")
    raise errors.IntegrityError(f"{what}: {detail}")


@contextlib.contextmanager
def _hub_errors(what: str) -> Iterator[None]:
    """Turn huggingface_hub and network failures into one-line patchkit errors."""
    from huggingface_hub import errors as hf

    try:
        yield
    except errors.PatchkitError:
        raise
    except hf.GatedRepoError:
        raise errors.HubError(f"{what}: the repo is gated; accept its terms on the Hub and log in") from None
    except hf.RepositoryNotFoundError:
        raise errors.HubError(f"{what}: repository not found (or private and no valid token)") from None
    except hf.RevisionNotFoundError:
        raise errors.HubError(f"{what}: no such revision") from None
    except hf.LocalEntryNotFoundError as exc:
        raise errors.HubError(f"{what}: not in the local Hugging Face cache ({_first_line(exc)})") from None
    except hf.OfflineModeIsEnabled:
        raise errors.HubError(f"{what}: HF_HUB_OFFLINE is set and the files are not cached") from None
    except hf.HFValidationError as exc:
        raise errors.UsageError(f"{what}: {_first_line(exc)}") from None
    except hf.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        server = getattr(exc, "server_message", None) or ""
        raise errors.HubError(f"{what}: the Hub answered HTTP {status} {_first_line(server or exc)}") from None
    except (OSError, ValueError, RuntimeError) as exc:
        # httpx2 connection errors are OSError-like only in part; name the type so the line is useful
        raise errors.HubError(f"{what}: {type(exc).__name__}: {_first_line(exc)}") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore"):
            raise errors.HubError(f"{what}: cannot reach {settings.hub_endpoint()} ({type(exc).__name__}: {_first_line(exc)})") from None
        raise


def _first_line(value: object) -> str:
    text = str(value).strip()
    return next((line.strip() for line in text.splitlines() if line.strip()), text)[:300]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
