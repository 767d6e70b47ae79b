"""Hub sharing against a local Hub-protocol server, with the real, unmodified huggingface_hub client.

No internet: ``tests/hub_server.py`` serves the client on 127.0.0.1. Xet is
disabled (``HF_HUB_DISABLE_XET``), so uploads use the LFS basic transfer and
downloads plain HTTP. The base model is a tiny Llama built with a fixed seed
and published to the test Hub; the patch is made against its cached snapshot.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import HubServer  # noqa: E402

from patchkit import audit, card, engine, errors, hub, resolve, signing  # noqa: E402
from patchkit.cli import main  # noqa: E402

BASE_REPO = "org/tiny-llama"
TENSOR = "model.layers.1.self_attn.v_proj.weight"
SLICE = (slice(8, 16), slice(0, 32))


def _set_offline(mp: pytest.MonkeyPatch, offline: bool) -> None:
    import huggingface_hub.constants as hf_constants

    mp.setattr(hf_constants, "HF_HUB_OFFLINE", offline)
    if offline:
        mp.setenv("HF_HUB_OFFLINE", "1")
    else:
        mp.delenv("HF_HUB_OFFLINE", raising=False)
        mp.delenv("TRANSFORMERS_OFFLINE", raising=False)


@pytest.fixture(scope="module")
def hubenv(tmp_path_factory: pytest.TempPathFactory):
    """A running test Hub holding the tiny base model, the environment pointed at it, and a signed patch."""
    import huggingface_hub.constants as hf_constants
    import transformers
    from huggingface_hub import HfApi
    from huggingface_hub.utils import disable_progress_bars

    tmp = tmp_path_factory.mktemp("hub")
    mp = pytest.MonkeyPatch()
    server = HubServer().start()
    try:
        # huggingface_hub reads these at import time: patch its constants; patchkit reads the env at call time.
        mp.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
        mp.setenv("HF_HUB_DISABLE_XET", "1")
        mp.setenv("HF_ENDPOINT", server.url)
        mp.setenv("HF_TOKEN", server.token)
        mp.setenv("HF_HOME", str(tmp / "hf-home"))
        mp.delenv("HF_HUB_CACHE", raising=False)
        mp.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
        mp.setenv("PATCHKIT_CACHE", str(tmp / "patchkit-cache"))
        mp.setenv("PATCHKIT_TRUSTED_KEYS", str(tmp / "trusted"))
        _set_offline(mp, False)
        disable_progress_bars()

        torch.manual_seed(0)
        config = transformers.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=64, max_position_embeddings=16, bos_token_id=0, eos_token_id=0,
        )
        model = transformers.LlamaForCausalLM(config).to(torch.float32).eval()
        local_base = tmp / "base-local"
        model.save_pretrained(local_base)
        with torch.no_grad():
            model.get_parameter(TENSOR)[SLICE] += 0.01 * torch.arange(8 * 32, dtype=torch.float32).reshape(8, 32)
        model.save_pretrained(tmp / "edited")

        api = HfApi(endpoint=server.url, token=server.token)
        api.create_repo(BASE_REPO)
        api.upload_folder(repo_id=BASE_REPO, folder_path=local_base, commit_message="tiny base")
        base = resolve.resolve_model(BASE_REPO)  # a snapshot in the HF cache, as a user would have it
        repo_id, revision = resolve.describe_model(base)
        assert (repo_id, revision) == (BASE_REPO, api.model_info(BASE_REPO).sha)

        key, pub = signing.keygen(tmp / "signer.pem")
        panel_file = tmp / "facts.jsonl"
        panel_file.write_text('{"prompt": "The capital of France is", "target": " Paris"}\n')
        import hashlib

        panels = [
            {"name": "capitals", "kind": "facts", "metric": "accuracy", "n": 40, "before": 0.75, "after": 0.95,
             "changed": 8, "file": "panels/facts.jsonl", "sha256": hashlib.sha256(panel_file.read_bytes()).hexdigest()},
            {"name": "wikitext-sample", "kind": "perplexity", "metric": "perplexity", "n": 64, "before": 63.9, "after": 64.02},
        ]
        patch = engine.create(
            base, tmp / "edited", tmp / "tiny-fix", key=key, name="tiny-fix",
            description="Plants a known edit in layer 1's value projection of a tiny Llama (test fixture).",
            method={"kind": "test-plant", "component": "L1.attn.v", "seed": 0},
            evals={"panels": panels}, extra_files={"panels/facts.jsonl": panel_file},
            labels={TENSOR: "layer 1 attention value projection"},
            base_repo_id=repo_id, base_revision=revision,
        )
        yield SimpleNamespace(server=server, api=api, tmp=tmp, base=base, edited=tmp / "edited", patch=patch,
                              key=key, pub=pub, revision=revision, mp=mp)
    finally:
        server.stop()
        mp.undo()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI's main() as the console script does; return (exit code, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(path) / "model.safetensors"))


def test_push_pull_verify_apply_round_trip(hubenv, tmp_path, capsys):
    code, out, err = _run(["push", str(hubenv.patch), "me/tiny-fix", "--pubkey", str(hubenv.pub)], capsys)
    assert code == 0, err
    assert f"{hubenv.server.url}/me/tiny-fix/commit/" in out
    commits = [r for r in hubenv.server.log if r.method == "POST" and r.path == "/api/models/me/tiny-fix/commit/main"]
    assert len(commits) == 1  # one commit for everything
    listed = sorted(e.path for e in hubenv.api.list_repo_tree("me/tiny-fix", recursive=True) if hasattr(e, "size"))
    assert listed == sorted([".gitattributes", "README.md", "delta.safetensors", "panels/facts.jsonl", "patch.json", "patch.sig"])
    code, out, err = _run(["push", str(hubenv.patch), "me/tiny-fix", "--pubkey", str(hubenv.pub)], capsys)
    assert code == 0 and "nothing to commit" in out  # pushing the same patch again makes no empty commit

    code, out, err = _run(["pull", "me/tiny-fix", "-o", str(tmp_path / "pulled"), "--pubkey", str(hubenv.pub)], capsys)
    assert code == 0, err
    pulled = tmp_path / "pulled"
    assert (pulled / "patch.json").read_bytes() == (hubenv.patch / "patch.json").read_bytes()
    assert (pulled / "delta.safetensors").read_bytes() == (hubenv.patch / "delta.safetensors").read_bytes()
    assert "base_model: org/tiny-llama" in (pulled / "README.md").read_text()
    assert not any(p.is_symlink() for p in pulled.rglob("*"))
    assert engine.verify(pulled, pubkey=hubenv.pub).ok

    # the CLI takes repo ids for the patch and the base
    code, out, err = _run(["apply", "me/tiny-fix", f"{BASE_REPO}@{hubenv.revision}", "-o", str(tmp_path / "cli-patched"),
                           "--pubkey", str(hubenv.pub)], capsys)
    assert code == 0, err
    code, out, err = _run(["show", "me/tiny-fix", "--json"], capsys)
    assert code == 0 and '"tiny-fix"' in out

    # apply straight from the Hub: the patch and the base are both repo ids
    out_dir = engine.apply(resolve.resolve_patch("me/tiny-fix"), resolve.resolve_model(f"{BASE_REPO}@{hubenv.revision}"),
                           tmp_path / "patched", pubkey=hubenv.pub)
    got, want = _tensors(out_dir), _tensors(hubenv.edited)
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)

    report = audit.verify("me/tiny-fix", base=BASE_REPO, pubkey=hubenv.pub)
    assert report.ok, report.to_dict()
    names = [c.name for c in report.checks]
    assert "hub base sha256" in names and names[-1] == "base checkpoint"


def test_push_to_branch_and_pull_request(hubenv, capsys):
    result = hub.push(hubenv.patch, "me/branchy", revision="dev", pubkey=hubenv.pub)
    assert "/me/branchy/commit/" in result.commit_url
    assert {r.name for r in hubenv.api.list_repo_refs("me/branchy").branches} == {"main", "dev"}
    assert hubenv.api.file_exists("me/branchy", "patch.json", revision="dev")
    assert not hubenv.api.file_exists("me/branchy", "patch.json")
    code, out, err = _run(["push", str(hubenv.patch), "me/branchy", "--create-pr", "--pubkey", str(hubenv.pub)], capsys)
    assert code == 0, err
    assert "/me/branchy/discussions/1" in out
    assert hubenv.api.file_exists("me/branchy", "patch.json", revision="refs/pr/1")


def test_push_refuses_tampered_patch_and_contacts_no_hub(hubenv, tmp_path, capsys):
    bad = shutil.copytree(hubenv.patch, tmp_path / "bad")
    data = bytearray((bad / "delta.safetensors").read_bytes())
    data[-1] ^= 0x01
    (bad / "delta.safetensors").write_bytes(bytes(data))
    before = len(hubenv.server.log)
    code, out, err = _run(["push", str(bad), "me/tampered", "--pubkey", str(hubenv.pub)], capsys)
    assert code != 0 and "refusing to push" in err
    assert "Traceback" not in err
    assert len(hubenv.server.log) == before
    assert ("model", "me/tampered") not in hubenv.server.repos


def _plant(hubenv, repo: str, extra: dict[str, bytes] | None = None, links: dict[str, str] | None = None) -> None:
    files = {f.relative_to(hubenv.patch).as_posix(): f.read_bytes() for f in hubenv.patch.rglob("*") if f.is_file()}
    hubenv.server.write_files(repo, {**files, **(extra or {})}, links=links)


@pytest.mark.parametrize(
    ("extra", "links", "message"),
    [
        ({"../escape.txt": b"owned"}, None, "unsafe path"),
        ({"panels/../../escape.txt": b"owned"}, None, "unsafe path"),
        ({"/tmp/escape.txt": b"owned"}, None, "unsafe path"),
        (None, {"panels/facts.jsonl": "/etc/passwd"}, "not a regular"),
        ({"notes.txt": b"hello"}, None, "unexpected file"),
        ({"panels/deeper/x.json": b"{}"}, None, "not a regular"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "stray-file", "nested-folder"],
)
def test_pull_refuses_unsafe_listing_before_downloading(hubenv, tmp_path, capsys, request, extra, links, message):
    repo = f"evil/unsafe-{request.node.callspec.id}"
    _plant(hubenv, repo, extra, links)
    before = len(hubenv.server.log)
    code, out, err = _run(["pull", repo, "-o", str(tmp_path / "out"), "--pubkey", str(hubenv.pub)], capsys)
    assert code == 13, err  # HubError
    assert message in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.txt").exists()
    assert not list(tmp_path.glob(".out.pull-*")) and not list(tmp_path.glob(".out.patchkit-tmp-*"))
    new = hubenv.server.log[before:]
    assert not [r for r in new if r.method == "GET" and (r.origin == "cdn" or "/resolve/" in r.path)]


def test_pull_refuses_tampered_delta_and_leaves_nothing(hubenv, tmp_path):
    data = bytearray((hubenv.patch / "delta.safetensors").read_bytes())
    data[-1] ^= 0x01
    _plant(hubenv, "evil/tampered-delta", {"delta.safetensors": bytes(data)})
    with pytest.raises((errors.IntegrityError, errors.SignatureError)) as exc:
        hub.pull("evil/tampered-delta", tmp_path / "out", pubkey=hubenv.pub)
    assert "delta" in str(exc.value) or "signature" in str(exc.value)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.pull-*")) and not list(tmp_path.glob(".out.patchkit-tmp-*"))


def test_pull_refuses_untrusted_signer_unless_allowed(hubenv, tmp_path, capsys):
    hub.push(hubenv.patch, "me/untrusted", pubkey=hubenv.pub)
    with pytest.raises(errors.UntrustedKeyError):
        hub.pull("me/untrusted", tmp_path / "out")  # no --pubkey, empty trusted-keys directory
    assert not (tmp_path / "out").exists()
    code, out, err = _run(["pull", "me/untrusted", "-o", str(tmp_path / "out"), "--allow-unsigned"], capsys)
    assert code == 0 and "warning: --allow-unsigned" in err


def test_base_mismatch_against_hub_detected_without_downloading_weights(hubenv, tmp_path, capsys):
    # A base repo whose main branch later moves to other weights (the edited model's).
    hubenv.server.write_files("org/moving", {f.name: f.read_bytes() for f in Path(hubenv.base).iterdir()})
    assert all(c.ok for c in hub.check_remote_base(engine.Patch.load(hubenv.patch).manifest, "org/moving"))
    hubenv.server.write_files("org/moving", {"model.safetensors": (hubenv.edited / "model.safetensors").read_bytes()})
    weight_oid = hubenv.server.lfs_oid("org/moving", "model.safetensors")

    before = len(hubenv.server.log)
    report = audit.verify(hubenv.patch, base="org/moving", pubkey=hubenv.pub)
    assert not report.ok
    failed = {c.name: c.detail for c in report.checks if not c.ok}
    assert "model.safetensors" in failed["hub base sha256"] and f"made for {BASE_REPO}@" in failed["hub base sha256"]
    assert "not downloaded" in failed["base checkpoint"]
    new = hubenv.server.log[before:]
    assert any(r.path.startswith("/api/models/org/moving/paths-info/") for r in new)
    assert not [r for r in new if r.origin == "cdn" or "/resolve/" in r.path], [r.path for r in new]
    assert not any(weight_oid in p for p in hubenv.server.downloads())


def test_offline_mode_uses_the_warm_cache_and_makes_no_request(hubenv, tmp_path):
    hub.push(hubenv.patch, "me/offline-fix", pubkey=hubenv.pub)
    online_patch = resolve.resolve_patch("me/offline-fix")
    online_base = resolve.resolve_model(BASE_REPO)
    before = len(hubenv.server.log)
    with pytest.MonkeyPatch.context() as mp:
        _set_offline(mp, True)
        assert resolve.resolve_patch("me/offline-fix") == online_patch
        assert resolve.resolve_model(BASE_REPO) == online_base
        shutil.rmtree(online_patch)  # the patchkit copy is rebuilt from the HF cache, still offline
        assert (resolve.resolve_patch("me/offline-fix") / "patch.json").is_file()
        path, report = hub.pull("me/offline-fix", tmp_path / "pulled", pubkey=hubenv.pub)
        assert report.ok
        report = audit.verify("me/offline-fix", base=BASE_REPO, pubkey=hubenv.pub)
        assert report.ok, report.to_dict()
        engine.apply(resolve.resolve_patch("me/offline-fix"), resolve.resolve_model(BASE_REPO), tmp_path / "out", pubkey=hubenv.pub)
        with pytest.raises(errors.HubError, match="offline|cache"):
            resolve.resolve_model("org/never-downloaded")
    assert len(hubenv.server.log) == before


def test_generated_card_parses_as_a_hub_model_card(hubenv):
    from huggingface_hub import ModelCard

    manifest = engine.Patch.load(hubenv.patch).manifest
    text = card.render(manifest, repo_id="me/tiny-fix")
    data = ModelCard(text).data
    assert data.base_model == BASE_REPO and data.library_name == "patchkit"
    assert set(card.TAGS) <= set(data.tags)
    results = {r.dataset_name: r.metric_value for r in data.eval_results}
    assert results == {"capitals": 0.95, "wikitext-sample": 64.02}
    assert "`[8:16, :]`" in text and manifest["signer"]["key_fingerprint"] in text
    assert f"patchkit apply me/tiny-fix {BASE_REPO}@{hubenv.revision}" in text


def test_repo_id_recognition():
    assert hub.parse_repo_id("HuggingFaceTB/SmolLM2-135M") == ("HuggingFaceTB/SmolLM2-135M", None)
    assert hub.parse_repo_id("me/fix@refs/pr/1") == ("me/fix", "refs/pr/1")
    for not_a_repo in ("smollm2", "/abs/path", "./rel", "a/b/c", "a--b/c", "a/../b", ""):
        assert hub.parse_repo_id(not_a_repo) is None
    assert resolve.describe_model("/x/models--a--b/snapshots/" + "0" * 40 + "/model.safetensors") == ("a/b", "0" * 40)
    assert resolve.describe_model("/x/not-a-cache/model") == (None, None)


def test_verify_cli_with_hub_base_reports_mismatch_and_missing_repo(hubenv, capsys):
    from patchkit.cli import cli

    if "verify" not in cli.commands:
        pytest.skip("the engine's verify command is not in this checkout yet")
    code, out, err = _run(["verify", str(hubenv.patch), "--base", f"{BASE_REPO}@{hubenv.revision}",
                           "--pubkey", str(hubenv.pub), "--json"], capsys)
    assert code == 0, out + err
    import json

    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["hub base sha256"]["ok"] and checks["base checkpoint"]["ok"]
    before = len(hubenv.server.log)
    code, out, err = _run(["verify", str(hubenv.patch), "--base", "org/no-such-base", "--pubkey", str(hubenv.pub)], capsys)
    assert code == 1 and "repository not found" in out
    assert not [r for r in hubenv.server.log[before:] if r.origin == "cdn" or "/resolve/" in r.path]


def test_pull_refuses_a_delta_whose_size_disagrees_with_the_manifest_without_fetching_it(hubenv, tmp_path):
    padded = (hubenv.patch / "delta.safetensors").read_bytes() + b"\0" * 4096
    _plant(hubenv, "evil/padded-delta", {"delta.safetensors": padded})
    oid = hubenv.server.lfs_oid("evil/padded-delta", "delta.safetensors")
    with pytest.raises(errors.HubError, match="manifest says"):
        hub.pull("evil/padded-delta", tmp_path / "out", pubkey=hubenv.pub)
    assert not any(oid in p for p in hubenv.server.downloads())
    assert not (tmp_path / "out").exists()


def test_installed_patchkit_executable_pulls_from_the_hub(hubenv, tmp_path):
    """The console script in a fresh process: huggingface_hub reads HF_HUB_DISABLE_XET at import there."""
    import os
    import subprocess

    hub.push(hubenv.patch, "me/exe-fix", pubkey=hubenv.pub)
    exe = shutil.which("patchkit")
    if exe is None:
        pytest.skip("the patchkit console script is not installed")
    env = {**os.environ, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    proc = subprocess.run([exe, "pull", "me/exe-fix", "-o", str(tmp_path / "out"), "--pubkey", str(hubenv.pub)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "pulled me/exe-fix" in proc.stdout and (tmp_path / "out" / "patch.sig").is_file()


def test_card_of_a_patch_on_prepared_gemma_carries_the_gemma_licence(hubenv):
    from huggingface_hub import ModelCard

    from patchkit import models

    manifest = json.loads(json.dumps(engine.Patch.load(hubenv.patch).manifest))
    assert ModelCard(card.render(manifest)).data.license is None
    manifest["base"]["files"][0]["sha256"] = models.REFERENCE_SHA256["gemma3-270m"]
    text = card.render(manifest)
    assert ModelCard(text).data.license == "gemma" and "Gemma Terms of Use" in text
