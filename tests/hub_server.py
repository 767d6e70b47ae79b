"""A small Hugging Face Hub-protocol server for tests, on 127.0.0.1.

It serves the *unmodified* ``huggingface_hub`` client (``HfApi(endpoint=…)``,
``hf_hub_download``, ``snapshot_download``) for the flows patchkit uses:
repo creation, ``preupload``, the LFS batch API and a basic PUT transfer, the
NDJSON ``commit`` endpoint (branches and ``create_pr``), ``paths-info``,
``tree``, ``refs``, model info with file metadata, and ``resolve`` downloads
with the headers the client checks (``X-Repo-Commit``, ``ETag``,
``X-Linked-Etag``, ``X-Linked-Size``, ``Location``, ``Content-Length``).

Like the real Hub, LFS content is served from a second origin (a "CDN" on
another port): ``HEAD /resolve`` on an LFS file answers ``302`` with the
linked etag and size, and the client fetches the bytes from ``Location``.

The tests use it with ``HF_HUB_DISABLE_XET=1``: there is no Xet storage here.
Every request is logged in :attr:`HubServer.log` so tests can assert what the
client did (or did not) download.

Only the standard library is used.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

# What a fresh repo's .gitattributes routes to LFS (a subset of the Hub's default).
_LFS_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx", "*.gguf", "*.npy")
_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS).encode()
_LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores files over 10 MB in LFS whatever their name
_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


def _git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Entry:
    """One path in a commit: a regular file (inline or LFS) or a git symlink (mode 120000)."""

    data: bytes | None = None  # regular, non-LFS content
    lfs_oid: str | None = None  # sha256 of the LFS object
    size: int = 0
    link_target: str | None = None  # a symlink's target

    @property
    def blob_oid(self) -> str:
        if self.link_target is not None:
            return _git_blob_oid(self.link_target.encode())
        if self.lfs_oid is not None:
            return _git_blob_oid(_lfs_pointer(self.lfs_oid, self.size))
        return _git_blob_oid(self.data or b"")


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, Entry]
    date: str


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    refs: dict[str, str] = field(default_factory=dict)  # branch or refs/pr/N -> commit oid
    commits: dict[str, Commit] = field(default_factory=dict)
    prs: int = 0


@dataclass
class Request:
    """One logged request: which listener saw it, the method and the unquoted path."""

    origin: str  # "hub" or "cdn"
    method: str
    path: str
    query: dict[str, list[str]]


class _HttpError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers, self.extra = headers or {}, extra or {}


class HubServer:
    """The Hub state plus two listeners: the Hub API on one port and the LFS "CDN" on another.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. ``url`` is
    the endpoint to give the client.
    """

    def __init__(self, token: str | None = "hf_dummy_test_token") -> None:
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.log: list[Request] = []
        self._lock = threading.RLock()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._counter = 0
        self.url = ""
        self.cdn_url = ""

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "HubServer":
        for origin in ("hub", "cdn"):
            handler = type(f"_{origin}Handler", (_Handler,), {"hub": self, "origin": origin})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, name=f"hub-server-{origin}", daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        self.url = f"http://127.0.0.1:{self._servers[0].server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{self._servers[1].server_address[1]}"
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for tests --------------------------------------------------------------------
    def downloads(self) -> list[str]:
        """Paths whose *content* was sent: GET on /resolve (regular files) and GET on the CDN (LFS objects)."""
        with self._lock:
            return [r.path for r in self.log if r.method == "GET" and (r.origin == "cdn" or "/resolve/" in r.path)]

    def lfs_oid(self, repo_id: str, path: str, revision: str = "main") -> str | None:
        """The LFS sha256 of ``path`` at ``revision``, or None for an inline file."""
        with self._lock:
            repo = self.repos[("model", repo_id)]
            return self._commit(repo, revision).files[path].lfs_oid

    def write_files(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        links: dict[str, str] | None = None,
        revision: str = "main",
        title: str = "direct write",
        replace: bool = False,
    ) -> str:
        """Commit ``files`` (and git symlinks ``links``) straight into a repo, creating it if needed.

        This is the back door a test uses to plant what a client would refuse
        to upload (a symlink, a traversal name, a tampered file). Returns the
        new commit oid.
        """
        with self._lock:
            repo = self.repos.get(("model", repo_id)) or self._create(repo_id, "model", private=False)
            head = self._commit(repo, revision)
            tree = {} if replace else dict(head.files)
            for path, data in files.items():
                tree[path] = self._store(path, data)
            for path, target in (links or {}).items():
                tree[path] = Entry(link_target=target, size=len(target.encode()))
            return self._new_commit(repo, revision, head.oid, title, tree)

    # -- state (call with the lock held) -------------------------------------------------------
    def _next_oid(self, *parts: str) -> str:
        self._counter += 1
        return hashlib.sha1("\0".join((*parts, str(self._counter), str(time.time_ns()))).encode()).hexdigest()

    def _create(self, repo_id: str, repo_type: str, private: bool) -> Repo:
        repo = Repo(repo_id=repo_id, repo_type=repo_type, private=private)
        self.repos[(repo_type, repo_id)] = repo
        tree = {".gitattributes": Entry(data=_GITATTRIBUTES, size=len(_GITATTRIBUTES))}
        oid = self._next_oid(repo_id, "initial")
        repo.commits[oid] = Commit(oid, None, "initial commit", tree, _now())
        repo.refs["main"] = oid
        return repo

    def _store(self, path: str, data: bytes) -> Entry:
        if _is_lfs(path, data):
            oid = hashlib.sha256(data).hexdigest()
            self.lfs[oid] = data
            return Entry(lfs_oid=oid, size=len(data))
        return Entry(data=data, size=len(data))

    def _commit(self, repo: Repo, revision: str) -> Commit:
        oid = repo.refs.get(revision, revision)
        commit = repo.commits.get(oid)
        if commit is None:
            matches = [c for o, c in repo.commits.items() if len(revision) >= 7 and o.startswith(revision)]
            if len(matches) != 1:
                raise _HttpError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            commit = matches[0]
        return commit

    def _new_commit(self, repo: Repo, ref: str, parent: str, title: str, tree: dict[str, Entry]) -> str:
        oid = self._next_oid(repo.repo_id, ref, parent, title)
        repo.commits[oid] = Commit(oid, parent, title, tree, _now())
        repo.refs[ref] = oid
        return oid


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _is_lfs(path: str, data: bytes) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        any(fnmatch.fnmatch(name, p) for p in _LFS_PATTERNS)
        or len(data) >= _LFS_THRESHOLD
        or b"\0" in data[:8000]
    )


def _entry_json(path: str, entry: Entry) -> dict[str, Any]:
    if entry.link_target is not None:
        return {"type": "symlink", "oid": entry.blob_oid, "size": entry.size, "path": path, "target": entry.link_target}
    out: dict[str, Any] = {"type": "file", "oid": entry.blob_oid, "size": entry.size, "path": path}
    if entry.lfs_oid is not None:
        out["lfs"] = {"oid": entry.lfs_oid, "size": entry.size, "pointerSize": len(_lfs_pointer(entry.lfs_oid, entry.size))}
    return out


def _folder_json(path: str, files: dict[str, Entry]) -> dict[str, Any]:
    inside = sorted(p for p in files if p.startswith(path + "/"))
    oid = hashlib.sha1("\n".join(f"{p} {files[p].blob_oid}" for p in inside).encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def _folders(files: dict[str, Entry]) -> set[str]:
    out: set[str] = set()
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


class _Handler(BaseHTTPRequestHandler):
    """Routes one request. ``hub`` and ``origin`` are set on a per-listener subclass."""

    hub: HubServer
    origin: str
    protocol_version = "HTTP/1.1"
    server_version = "patchkit-test-hub/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing -----------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, ctype: str = "application/json") -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        query = parse_qs(split.query)
        with self.hub._lock:
            self.hub.log.append(Request(self.origin, self.command, unquote(path), query))
        body = self._body() if self.command in ("POST", "PUT") else b""
        try:
            if self.origin == "cdn":
                self._cdn(path, body)
            else:
                self._route(path, query, body)
        except _HttpError as err:
            headers = dict(err.headers)
            if err.code:
                headers["X-Error-Code"] = err.code
            headers["X-Error-Message"] = err.message
            self._json(err.status, {"error": err.message, **err.extra}, headers)
        except Exception as exc:  # a bug in the test server: say so loudly
            self._json(500, {"error": f"test hub server error: {exc!r}"})
            raise

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch

    # -- auth ---------------------------------------------------------------------------------
    def _authed(self) -> bool:
        auth = self.headers.get("Authorization", "")
        return self.hub.token is None or auth == f"Bearer {self.hub.token}"

    def _require_auth(self) -> None:
        if not self._authed():
            raise _HttpError(401, "Invalid credentials in Authorization header")

    def _repo(self, repo_type: str, repo_id: str, write: bool = False) -> Repo:
        if write:
            self._require_auth()
        repo = self.hub.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not self._authed()):
            raise _HttpError(404, "Repository not found", "RepoNotFound")
        return repo

    # -- the LFS "CDN" ------------------------------------------------------------------------
    def _cdn(self, path: str, body: bytes) -> None:
        m = re.fullmatch(r"/lfs/([0-9a-f]{64})", path)
        if not m:
            raise _HttpError(404, "not found")
        oid = m.group(1)
        if self.command == "PUT":
            if hashlib.sha256(body).hexdigest() != oid:
                raise _HttpError(400, "uploaded content does not match its oid")
            with self.hub._lock:
                self.hub.lfs[oid] = body
            self._send(200, b"", {"ETag": f'"{oid}"'})
            return
        with self.hub._lock:
            data = self.hub.lfs.get(oid)
        if data is None:
            raise _HttpError(404, "no such object")
        self._send_content(data, {"ETag": f'"{oid}"'}, "application/octet-stream")

    def _send_content(self, data: bytes, headers: dict[str, str], ctype: str) -> None:
        start = 0
        rng = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and int(m.group(1)) < len(data):
            start = int(m.group(1))
            headers = {**headers, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            self._send(206, data[start:], headers, ctype)
            return
        self._send(200, data, headers, ctype)

    # -- the Hub ------------------------------------------------------------------------------
    def _route(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
        m = self.command
        if path == "/api/repos/create" and m == "POST":
            return self._create_repo(json.loads(body or b"{}"))
        if path == "/api/validate-yaml" and m == "POST":
            return self._validate_yaml(json.loads(body or b"{}"))
        if path == "/api/whoami-v2" and m == "GET":
            self._require_auth()
            return self._json(200, {"type": "user", "name": "tester", "auth": {"accessToken": {"role": "write"}}})
        r = re.fullmatch(r"/api/(models|datasets|spaces)/([^/]+/[^/]+|[^/]+)(?:/(.*))?", path)
        if r:
            return self._api(_REPO_TYPES[r.group(1)], unquote(r.group(2)), r.group(3) or "", query, body)
        r = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)\.git/info/lfs/objects/(batch|verify)", path)
        if r and m == "POST":
            repo_type = _REPO_TYPES.get(f"{r.group(1)}", "model") if r.group(1) else "model"
            return self._lfs(repo_type, unquote(r.group(2)), r.group(3), json.loads(body or b"{}"))
        r = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if r and m in ("GET", "HEAD"):
            repo_type = _REPO_TYPES[r.group(1)] if r.group(1) else "model"
            return self._resolve(repo_type, unquote(r.group(2)), unquote(r.group(3)), unquote(r.group(4)))
        raise _HttpError(404, f"no route for {m} {path}")

    def _create_repo(self, payload: dict[str, Any]) -> None:
        self._require_auth()
        name, org = payload.get("name"), payload.get("organization")
        repo_type = payload.get("type") or "model"
        if not name:
            raise _HttpError(400, "name is required")
        repo_id = f"{org}/{name}" if org else f"tester/{name}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.hub.url}/{prefix}{repo_id}"
        with self.hub._lock:
            if (repo_type, repo_id) in self.hub.repos:
                raise _HttpError(409, "You already created this model repo", extra={"url": url})
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            self.hub._create(repo_id, repo_type, private)
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        content = payload.get("content", "")
        meta = re.match(r"^---\n(.*?)\n---\n", content, re.S)
        if meta is None:
            return self._json(200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]})
        try:
            data = yaml.safe_load(meta.group(1))
        except yaml.YAMLError as exc:
            return self._json(400, {"errors": [{"message": f"invalid YAML: {exc}"}]})
        problems = [] if isinstance(data, dict) else [{"message": "metadata must be a mapping"}]
        for index in (data or {}).get("model-index", []) if isinstance(data, dict) else []:
            for result in index.get("results", []):
                if "type" not in result.get("task", {}):
                    problems.append({"message": "model-index: task.type is required"})
                if not {"name", "type"} <= set(result.get("dataset", {})):
                    problems.append({"message": "model-index: dataset.name and dataset.type are required"})
                for metric in result.get("metrics", []):
                    if not {"type", "value"} <= set(metric):
                        problems.append({"message": "model-index: metrics need type and value"})
        if problems:
            return self._json(400, {"errors": problems}, {"X-Error-Message": problems[0]["message"]})
        self._json(200, {"errors": [], "warnings": []})

    def _api(self, repo_type: str, repo_id: str, rest: str, query: dict[str, list[str]], body: bytes) -> None:
        m = self.command
        with self.hub._lock:
            if rest == "" and m == "GET":
                return self._info(self._repo(repo_type, repo_id), "main", query)
            if rest.startswith("revision/") and m == "GET":
                return self._info(self._repo(repo_type, repo_id), unquote(rest[len("revision/"):]), query)
            if rest == "refs" and m == "GET":
                return self._refs(self._repo(repo_type, repo_id), query)
            head, _, tail = rest.partition("/")
            if head == "preupload" and m == "POST":
                return self._preupload(self._repo(repo_type, repo_id, write=True), unquote(tail), json.loads(body))
            if head == "commit" and m == "POST":
                return self._commit_ndjson(self._repo(repo_type, repo_id, write=True), unquote(tail), query, body)
            if head == "branch" and m == "POST":
                return self._branch(self._repo(repo_type, repo_id, write=True), unquote(tail), json.loads(body or b"{}"))
            if head == "paths-info" and m == "POST":
                return self._paths_info(self._repo(repo_type, repo_id), unquote(tail), parse_qs(body.decode()))
            if head == "tree" and m == "GET":
                rev, _, sub = tail.partition("/")
                return self._tree(self._repo(repo_type, repo_id), unquote(rev), unquote(sub), query)
        raise _HttpError(404, f"no route for {m} /api/{repo_type}s/{repo_id}/{rest}")

    def _info(self, repo: Repo, revision: str, query: dict[str, list[str]]) -> None:
        commit = self.hub._commit(repo, revision)
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        siblings = []
        for path, entry in sorted(commit.files.items()):
            sib: dict[str, Any] = {"rfilename": path}
            if blobs:
                sib.update(size=entry.size, blobId=entry.blob_oid)
                if entry.lfs_oid is not None:
                    sib["lfs"] = _entry_json(path, entry)["lfs"] | {"sha256": entry.lfs_oid}
            siblings.append(sib)
        card = commit.files.get("README.md")
        card_data = None
        if card is not None and card.data is not None:
            meta = re.match(r"^---\n(.*?)\n---\n", card.data.decode("utf-8", "replace"), re.S)
            card_data = yaml.safe_load(meta.group(1)) if meta else None
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.oid,
            "lastModified": commit.date,
            "createdAt": next(iter(repo.commits.values())).date,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": list((card_data or {}).get("tags", [])) if isinstance(card_data, dict) else [],
            "library_name": (card_data or {}).get("library_name") if isinstance(card_data, dict) else None,
            "siblings": siblings,
        }
        if isinstance(card_data, dict):
            info["cardData"] = card_data
        self._json(200, info)

    def _refs(self, repo: Repo, query: dict[str, list[str]]) -> None:
        def ref(name: str, full: str) -> dict[str, str]:
            return {"name": name, "ref": full, "targetCommit": repo.refs[name]}

        out: dict[str, Any] = {
            "branches": [ref(n, f"refs/heads/{n}") for n in repo.refs if not n.startswith("refs/")],
            "tags": [],
            "converts": [],
        }
        if query.get("include_prs", ["0"])[0].lower() in ("1", "true"):
            out["pullRequests"] = [ref(n, n) for n in repo.refs if n.startswith("refs/pr/")]
        self._json(200, out)

    def _preupload(self, repo: Repo, revision: str, payload: dict[str, Any]) -> None:
        commit = self.hub._commit(repo, revision)
        files = []
        for item in payload.get("files", []):
            path = item["path"]
            sample = base64.b64decode(item.get("sample", ""))
            lfs = _is_lfs(path, sample) or int(item.get("size", 0)) >= _LFS_THRESHOLD
            existing = commit.files.get(path)
            oid = None
            if existing is not None and existing.link_target is None:
                oid = existing.lfs_oid if existing.lfs_oid is not None else _git_blob_oid(existing.data or b"")
                if (existing.lfs_oid is not None) != lfs:
                    oid = None
            files.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": files, "commitOid": commit.oid})

    def _lfs(self, repo_type: str, repo_id: str, action: str, payload: dict[str, Any]) -> None:
        with self.hub._lock:
            self._repo(repo_type, repo_id, write=True)
            if action == "verify":
                oid = payload.get("oid")
                if oid not in self.hub.lfs or len(self.hub.lfs[oid]) != payload.get("size"):
                    raise _HttpError(404, f"LFS object {oid} not uploaded")
                return self._json(200, {}, {"Content-Type": "application/vnd.git-lfs+json"})
            objects = []
            for obj in payload.get("objects", []):
                oid, size = obj["oid"], int(obj["size"])
                out: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
                if oid not in self.hub.lfs:
                    prefix = "" if repo_type == "model" else f"{repo_type}s/"
                    out["actions"] = {
                        "upload": {"href": f"{self.hub.cdn_url}/lfs/{oid}"},
                        "verify": {"href": f"{self.hub.url}/{prefix}{repo_id}.git/info/lfs/objects/verify"},
                    }
                objects.append(out)
        self._json(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _commit_ndjson(self, repo: Repo, revision: str, query: dict[str, list[str]], body: bytes) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise _HttpError(400, "commit payload must start with a header line")
        header = lines[0]["value"]
        head = self.hub._commit(repo, revision)
        parent = header.get("parentCommit")
        if parent and parent != head.oid:
            raise _HttpError(412, f"A commit has happened since. Please refresh and try again. (parent {parent} is not head {head.oid})")
        tree = dict(head.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"]
            if ".." in path.split("/") or path.startswith("/"):
                raise _HttpError(400, f"invalid path {path!r}")
            if key == "file":
                data = base64.b64decode(value["content"]) if value.get("encoding") == "base64" else value["content"].encode()
                tree[path] = Entry(data=data, size=len(data))
            elif key == "lfsFile":
                oid = value["oid"]
                if oid not in self.hub.lfs:
                    raise _HttpError(400, f"LFS object {oid} for {path} was not uploaded")
                tree[path] = Entry(lfs_oid=oid, size=len(self.hub.lfs[oid]))
            elif key == "deletedFile":
                if path not in tree:
                    raise _HttpError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del tree[path]
            elif key == "deletedFolder":
                for p in [p for p in tree if p.startswith(path.rstrip("/") + "/")]:
                    del tree[p]
            else:
                raise _HttpError(400, f"unknown commit operation {key!r}")
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        pr_url = None
        ref = revision if revision in repo.refs else None
        if query.get("create_pr", ["0"])[0] == "1":
            repo.prs += 1
            ref = f"refs/pr/{repo.prs}"
            pr_url = f"{self.hub.url}/{prefix}{repo.repo_id}/discussions/{repo.prs}"
        if ref is None:
            raise _HttpError(400, f"cannot commit to {revision!r}: not a branch")
        oid = self.hub._new_commit(repo, ref, head.oid, header.get("summary", ""), tree)
        self._json(200, {
            "success": True,
            "commitOid": oid,
            "commitUrl": f"{self.hub.url}/{prefix}{repo.repo_id}/commit/{oid}",
            "commitMessage": header.get("summary", ""),
            "pullRequestUrl": pr_url,
        })

    def _branch(self, repo: Repo, branch: str, payload: dict[str, Any]) -> None:
        if branch in repo.refs:
            raise _HttpError(409, f"Reference already exists: refs/heads/{branch}")
        start = self.hub._commit(repo, payload.get("startingPoint") or "main")
        repo.refs[branch] = start.oid
        self._json(200, {})

    def _paths_info(self, repo: Repo, revision: str, form: dict[str, list[str]]) -> None:
        commit = self.hub._commit(repo, revision)
        folders = _folders(commit.files)
        out = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                out.append(_entry_json(path, commit.files[path]))
            elif path in folders:
                out.append(_folder_json(path, commit.files))
        self._json(200, out, {"X-Repo-Commit": commit.oid})

    def _tree(self, repo: Repo, revision: str, sub: str, query: dict[str, list[str]]) -> None:
        commit = self.hub._commit(repo, revision)
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        sub = sub.strip("/")
        folders = _folders(commit.files)
        if sub and sub not in folders:
            raise _HttpError(404, f"Entry not found: {sub}", "EntryNotFound")
        prefix = sub + "/" if sub else ""
        out = []
        for folder in sorted(folders):
            rel = folder[len(prefix):] if folder.startswith(prefix) else None
            if rel and (recursive or "/" not in rel):
                out.append(_folder_json(folder, commit.files))
        for path, entry in sorted(commit.files.items()):
            rel = path[len(prefix):] if path.startswith(prefix) else None
            if rel and (recursive or "/" not in rel):
                out.append(_entry_json(path, entry))
        self._json(200, out)

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        with self.hub._lock:
            repo = self._repo(repo_type, repo_id)
            commit = self.hub._commit(repo, revision)
            entry = commit.files.get(path)
        base = {"X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
        if entry is None:
            raise _HttpError(404, "Entry not found", "EntryNotFound", headers=base)
        if entry.link_target is not None:
            # git stores a symlink as a blob holding its target; serve that, as a raw file.
            data = entry.link_target.encode()
            return self._send_content(data, {**base, "ETag": f'"{entry.blob_oid}"'}, "text/plain")
        if entry.lfs_oid is not None:
            location = f"{self.hub.cdn_url}/lfs/{entry.lfs_oid}?repo={quote(repo_id, safe='')}&path={quote(path, safe='')}"
            return self._send(302, b"", {
                **base,
                "ETag": f'"{entry.blob_oid}"',
                "X-Linked-Etag": f'"{entry.lfs_oid}"',
                "X-Linked-Size": str(entry.size),
                "Location": location,
            })
        self._send_content(entry.data or b"", {**base, "ETag": f'"{entry.blob_oid}"'}, "application/octet-stream")


def _self_test() -> None:  # pragma: no cover - handy when changing the server
    import tempfile

    from huggingface_hub import HfApi, hf_hub_download

    with HubServer() as hub, tempfile.TemporaryDirectory() as tmp:
        api = HfApi(endpoint=hub.url, token=hub.token)
        api.create_repo("me/x")
        api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id="me/x")
        print(hf_hub_download("me/x", "a.txt", endpoint=hub.url, cache_dir=tmp, token=hub.token))
        print([r.path for r in hub.log])


if __name__ == "__main__":  # pragma: no cover
    _self_test()
