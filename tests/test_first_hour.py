"""A newcomer's first hour (issue 11): fail fast, quiet logs, named data sets, clear messages.

Every command must reject bad arguments before any weights are loaded: the
tests replace the weight loaders with a function that fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from patchkit import cli, datasets, engine, errors, evals, progress


def _main(capsys, *args) -> tuple[int, str, str]:
    """Run patchkit's real entry point; return (exit code, stdout, stderr)."""
    code = 0
    try:
        cli.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _loud_again():
    yield
    progress.set_quiet(False)


@pytest.fixture
def no_weights(monkeypatch):
    """Any attempt to load weights fails the test: validation must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded before the arguments were checked")

    from patchkit import models

    monkeypatch.setattr(models, "load_model", refuse)
    monkeypatch.setattr(cli, "_load", refuse)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


# ---- (1) fail fast ------------------------------------------------------------------------


@pytest.fixture
def surgery_args(make_pair, keypair, tmp_path):
    """A valid surgery command line on a tiny Llama (2 layers, 2 KV heads); tests spoil one argument."""
    pair = make_pair("llama", "fp32", False)
    return {"model": pair.base, "--facts": "capitals", "-o": tmp_path / "fix", "--key": keypair[0],
            "--component": "L1.attn.v"}


def _surgery(capsys, args: dict, *extra: str) -> tuple[int, str, str]:
    argv = ["surgery", str(args["model"])]
    for k, v in args.items():
        if k != "model" and v is not None:
            argv += [k, str(v)]
    return _main(capsys, *argv, *extra)


def test_surgery_refuses_an_existing_output_before_loading_weights(surgery_args, no_weights, capsys):
    surgery_args["-o"].mkdir()
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 2 and "exists (pass --force to replace it)" in _one_error_line(err)


@pytest.mark.parametrize("name, fragment", [("L1.atn.v", "L1.atn.v"), ("L7.attn.v", "out of range"), ("L0.attn.v.h5", "h5")])
def test_surgery_refuses_a_bad_component_from_config_alone(surgery_args, no_weights, capsys, name, fragment):
    surgery_args["--component"] = name
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 9 and fragment in _one_error_line(err)


def test_surgery_refuses_a_malformed_facts_file(surgery_args, no_weights, capsys, tmp_path):
    bad = tmp_path / "facts.jsonl"
    bad.write_text('{"prompt": "The capital of Poland is", "target": " Warsaw"}\n{"prompt": 3}\n')
    surgery_args["--facts"] = bad
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 3 and f"{bad}:2" in _one_error_line(err)


def test_surgery_refuses_an_unknown_facts_name(surgery_args, no_weights, capsys):
    surgery_args["--facts"] = "capitols"
    code, _, err = _surgery(capsys, surgery_args)
    line = _one_error_line(err)
    assert code == 2 and "capitals" in line  # the message lists the shipped names


def test_surgery_refuses_an_unreadable_key(surgery_args, no_weights, capsys, tmp_path):
    surgery_args["--key"] = tmp_path / "missing.pem"
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 2 and "missing.pem" in _one_error_line(err)
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello")
    surgery_args["--key"] = not_a_key
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 2 and "private key" in _one_error_line(err)


def test_surgery_needs_out_and_key_unless_dry_run(surgery_args, no_weights, capsys):
    surgery_args["-o"] = None
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 2 and "-o PATCH" in _one_error_line(err)


def test_triage_and_eval_check_facts_before_loading(make_pair, no_weights, capsys, tmp_path):
    bad = tmp_path / "facts.jsonl"
    bad.write_text("not json\n")
    model = make_pair("llama", "fp32", False).base
    for command in ("triage", "eval"):
        code, _, err = _main(capsys, command, model, "--facts", bad)
        assert code == 3 and "not valid JSON" in _one_error_line(err)


def test_eval_checks_the_patch_signature_before_loading(gpt2_patch, no_weights, capsys):
    pair, patch = gpt2_patch
    code, _, err = _main(capsys, "eval", pair.base, "--patch", patch)  # signer not trusted
    assert code == 5 and "not trusted" in _one_error_line(err)


@pytest.mark.parametrize("command", ["apply", "revert"])
def test_apply_and_revert_refuse_an_existing_output_before_resolving_the_model(gpt2_patch, keypair, capsys, tmp_path, monkeypatch, command):
    from patchkit import resolve

    monkeypatch.setattr(resolve, "resolve_model", lambda *a, **k: pytest.fail("resolved (maybe downloaded) the model first"))
    _, patch = gpt2_patch
    (tmp_path / "out").mkdir()
    code, _, err = _main(capsys, command, patch, "org/some-model", "-o", tmp_path / "out", "--pubkey", keypair[1])
    assert code == 2 and "exists (pass --force to replace it)" in _one_error_line(err)


def test_create_checks_output_and_key_before_reading_checkpoints(make_pair, keypair, capsys, tmp_path, monkeypatch):
    from patchkit import resolve

    monkeypatch.setattr(resolve, "resolve_model", lambda *a, **k: pytest.fail("read the checkpoints first"))
    (tmp_path / "fix").mkdir()
    code, _, err = _main(capsys, "create", "a", "b", "-o", tmp_path / "fix", "--key", keypair[0])
    assert code == 2 and "exists" in _one_error_line(err)
    code, _, err = _main(capsys, "create", "a", "b", "-o", tmp_path / "new", "--key", keypair[1])  # a public key
    assert code == 2 and "private key" in _one_error_line(err)


def test_pull_refuses_an_existing_output_before_any_request(capsys, tmp_path, monkeypatch):
    from patchkit import hub

    monkeypatch.setattr(hub, "download_patch", lambda *a, **k: pytest.fail("contacted the Hub first"))
    (tmp_path / "fix").mkdir()
    code, _, err = _main(capsys, "pull", "alice/fix", "-o", tmp_path / "fix")
    assert code == 2 and "exists" in _one_error_line(err)


def test_trace_plot_output_is_checked_before_loading(make_pair, no_weights, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = _main(capsys, "trace", make_pair("llama").base, "--prompt", "x", "--plot", tmp_path / "file" / "p.png")
    assert code == 2 and "is a file" in _one_error_line(err)


# ---- (2) logs -----------------------------------------------------------------------------


def test_progress_in_a_log_is_one_line_per_phase(capsys):
    assert not progress.is_terminal()  # pytest captures stderr
    for _ in progress.bar(range(300), desc="triage", unit="fact"):
        pass
    b = progress.bar(total=5, desc="surgery", unit="step")
    for _ in range(5):
        b.update(1)
    b.set_postfix(loss=0.5)
    b.close()
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 2 and re.fullmatch(r"triage: 300 facts in [0-9.]+ s", lines[0])
    assert lines[1].startswith("surgery: 5 steps in") and "loss=0.5" in lines[1]


def test_quiet_silences_bars_and_status_lines(capsys):
    progress.set_quiet(True)
    for _ in progress.bar(range(3), desc="x"):
        pass
    progress.say("hello")
    assert capsys.readouterr().err == ""


def test_every_command_takes_quiet():
    def walk(group):
        for c in group.commands.values():
            yield from walk(c) if hasattr(c, "commands") else [c]

    for command in walk(cli.cli):
        assert any("--quiet" in p.opts for p in command.params), command.name


def test_an_error_starts_on_its_own_line_after_a_live_bar(capsys, make_pair):
    bar = progress.bar(total=10, desc="triage", unit="fact")
    bar.update(3)  # a phase interrupted by an error
    code, _, err = _main(capsys, "show", "/nonexistent/patch")
    assert code == 10
    assert "\nerror: " in "\n" + err and all(line.startswith("error: ") for line in err.splitlines())


# ---- (3) named data sets ------------------------------------------------------------------


def test_shipped_sets_resolve_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert datasets.resolve("capitals") == datasets.data_dir() / "capitals.jsonl"
    assert len(evals.load_facts("capitals")) == 26
    (tmp_path / "capitals").write_text('{"prompt": "a", "target": "b"}\n')
    assert len(evals.load_facts("capitals")) == 1  # an existing file wins over a name


def test_data_list_shows_every_shipped_set(capsys):
    code, out, _ = _main(capsys, "data", "list")
    assert code == 0
    for name in ("capitals", "general", "side_effects", "perplexity", "preserve"):
        assert re.search(rf"^{name}\s", out, re.M)
    code, out, _ = _main(capsys, "data", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)["data_sets"]}
    assert rows["capitals"]["items"] == 26 and Path(rows["capitals"]["file"]).is_file()


def test_gitignore_keeps_workflow_outputs_out_of_the_repo():
    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().split()
    for entry in ("/fix/", "/patched/", "/restored/", "*.pem"):
        assert entry in ignored


# ---- (4) messages -------------------------------------------------------------------------


def test_applying_twice_says_already_applied(gpt2_patch, keypair, capsys, tmp_path):
    pair, patch = gpt2_patch
    code, _, _ = _main(capsys, "apply", patch, pair.base, "-o", tmp_path / "once", "--pubkey", keypair[1])
    assert code == 0
    code, _, err = _main(capsys, "apply", patch, tmp_path / "once", "-o", tmp_path / "twice", "--pubkey", keypair[1])
    assert code == 6 and "already applied" in _one_error_line(err)
    assert not (tmp_path / "twice").exists()


def test_show_counts_the_facts_repaired_not_the_panel_and_rounds(capsys):
    patch = Path(__file__).parent.parent / "patches" / "smollm2-135m-capitals"
    code, out, _ = _main(capsys, "show", patch)
    assert code == 0
    assert "repairs 8 of the 8 facts that were wrong in capitals (26 facts), breaks 0" in out
    assert "perplexity 18.24 -> 18.24" in out and "18.243866" not in out  # rounded, not the raw float
    assert engine.repairs({"panels": [{"name": "f", "kind": "facts", "metric": "accuracy", "n": 10,
                                       "before": 5, "after": 7, "broken": 1}]}) == [
        {"panel": "f", "n": 10, "wrong_before": 5, "fixed": 3, "broken": 1}]


def test_patched_checkpoint_drops_the_stale_prepared_marker(gpt2_patch, keypair, tmp_path):
    pair, patch = gpt2_patch
    base = tmp_path / "base"
    shutil.copytree(pair.base, base)
    (base / "prepared.json").write_text('{"model_sha256": "stale"}')
    patched = engine.apply(patch, base, tmp_path / "patched", pubkey=keypair[1])
    assert not (patched / "prepared.json").exists()
    assert (patched / "config.json").is_file()


def test_missing_patch_and_missing_model_share_one_exit_code(gpt2_patch, keypair, capsys, tmp_path):
    pair, patch = gpt2_patch
    code_patch, _, err = _main(capsys, "apply", tmp_path / "nope", pair.base, "-o", tmp_path / "o1")
    assert "nope" in _one_error_line(err)
    code_model, _, err = _main(capsys, "apply", patch, tmp_path / "nomodel", "-o", tmp_path / "o2", "--pubkey", keypair[1])
    assert "nomodel" in _one_error_line(err)
    code_show, _, _ = _main(capsys, "show", tmp_path / "nope")
    assert code_patch == code_model == code_show == 10
    assert isinstance(errors.PatchNotFoundError("x"), errors.NotFoundError)


def test_help_marks_required_options_and_lists_model_names():
    from click.testing import CliRunner

    runner = CliRunner()
    out = runner.invoke(cli.cli, ["apply", "--help"]).output
    assert re.search(r"--out PATH .*\[required\]", out.replace("\n", " "))
    out = runner.invoke(cli.cli, ["surgery", "--help"]).output
    assert "[required unless --dry-run]" in out.replace("\n", " ").replace("  ", " ") or "required unless" in out
    out = runner.invoke(cli.cli, ["models", "prepare", "--help"]).output
    assert "smollm2" in out
    result = runner.invoke(cli.cli, ["models", "prepare", "llama7"])
    assert result.exit_code == 2 and "smollm2" in result.output


def test_force_has_one_wording():
    helps = set()

    def walk(group):
        for c in group.commands.values():
            yield from walk(c) if hasattr(c, "commands") else [c]

    for command in walk(cli.cli):
        for p in command.params:
            if "--force" in getattr(p, "opts", []) and command.name != "keygen":
                helps.add(p.help)
    assert helps == {"Replace OUT if it exists."}


def test_cli_model_names_match_the_models_module():
    from patchkit import models

    assert cli._KNOWN_MODELS == models.KNOWN_MODELS


# ---- (5) installing torch -----------------------------------------------------------------


@pytest.mark.parametrize("gpu, env, expected", [
    (False, {}, "--index-url https://download.pytorch.org/whl/cpu"),
    (True, {}, "install --quiet torch==2.13.0\n"),
    (False, {"PATCHKIT_TORCH_INDEX": "https://example.org/whl/cu128"}, "--index-url https://example.org/whl/cu128"),
])
def test_install_torch_picks_the_cpu_wheel_index_without_a_gpu(tmp_path, gpu, env, expected):
    """scripts/install_torch.sh with stand-ins for python3 and nvidia-smi: which pip command it runs."""
    import os
    import subprocess

    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "pip.log"
    # a python3 without torch whose local-wheel install fails, so the script has to pick an index
    (bindir / "python3").write_text(f'#!/bin/sh\necho "$@" >> {log}\ncase "$*" in -c*|*--no-index*) exit 1;; esac\nexit 0\n')
    # an nvidia-smi that lists a GPU, or none (so a real one elsewhere on PATH is never asked)
    (bindir / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100'\n" if gpu else "#!/bin/sh\nexit 9\n")
    for f in bindir.iterdir():
        f.chmod(0o755)
    script = Path(__file__).parent.parent / "scripts" / "install_torch.sh"
    env = {"PATH": f"{bindir}:/usr/bin:/bin", **env}
    r = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert expected in log.read_text().splitlines()[-1] + "\n"


def test_surgery_in_a_log_draws_no_training_bar_and_hub_bars_are_off(surgery_args, capsys, monkeypatch):
    """Surgery's own tqdm training bar is kept off a log (its phase lines remain), as are the Hub's."""
    from patchkit import surgery as surg

    seen = {}

    def fake_surgery(*args, **kwargs):
        seen.update(kwargs)
        raise errors.RegressionError("stop here")

    monkeypatch.setattr(surg, "surgery", fake_surgery)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "")
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS")
    code, _, err = _surgery(capsys, surgery_args)
    assert code == 12 and seen["progress"] is False and callable(seen["log"])
    import os

    assert os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS") == "1"


# ---- (7) start-up and (9) the import graph ------------------------------------------------


def test_the_package_import_graph_has_no_cycle():
    """Module-level and function-level imports alike: resolve -> hub, models, never back."""
    import ast

    root = Path(__file__).parent.parent / "patchkit"
    mods = {p.stem: p for p in root.glob("*.py")}
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "patchkit":
                deps |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("patchkit."):
                deps.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("patchkit.")}
        graph[name] = deps - {name}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for dep in graph.get(node, ()):
            assert state.get(dep) != 1, "import cycle: " + " -> ".join(path + [dep])
            if dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert "resolve" not in graph["hub"] | graph["models"]


def test_cli_start_up_and_apply_import_only_what_they_need(gpt2_patch, keypair, tmp_path):
    import subprocess
    import sys

    pair, patch = gpt2_patch
    probe = (
        "import sys\nfrom patchkit import cli\n"
        "heavy = ('torch', 'transformers', 'model_signing', 'numpy', 'jsonschema', 'huggingface_hub')\n"
        "before = [m for m in heavy if m in sys.modules]\n"
        "try:\n    cli.main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(repr((before, [m for m in heavy if m in sys.modules])))\n"
    )
    args = ["apply", str(patch), str(pair.base), "-o", str(tmp_path / "out"), "--pubkey", str(keypair[1])]
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, check=True)
    at_start, after_apply = eval(out.stdout.strip().splitlines()[-1])
    assert at_start == []  # `patchkit --help` and every command start with click and errors only
    assert not {"torch", "transformers", "model_signing"} & set(after_apply)


def test_the_default_command_leaves_the_budget_to_the_library_and_a_named_one_is_passed(surgery_args, capsys,
                                                                                         monkeypatch):
    """No --max-share: None reaches surgery(), which may widen it for many facts; a value given is a cap."""
    from patchkit import surgery as surg

    seen = []

    def fake_surgery(*args, **kwargs):
        seen.append(kwargs["max_share"])
        raise errors.RegressionError("stop here")

    monkeypatch.setattr(surg, "surgery", fake_surgery)
    _surgery(capsys, surgery_args)
    _surgery(capsys, surgery_args, "--max-share", "0.002")
    assert seen == [None, 0.002]
