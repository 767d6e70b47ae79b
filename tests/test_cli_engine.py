"""The engine's CLI commands: through click's runner, main()'s exit codes, and once the installed executable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from patchkit import cli
from conftest import snapshot


def _main(capsys, *args) -> tuple[int, str, str]:
    """Run patchkit's real entry point (error mapping included); return (exit code, stdout, stderr)."""
    code = 0
    try:
        cli.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_create_verify_apply_revert_show(make_pair, tmp_path):
    pair = make_pair("llama", "bf16", True)
    runner = CliRunner()
    key = tmp_path / "k.pem"
    assert runner.invoke(cli.cli, ["keygen", str(key)]).exit_code == 0
    assert (key.stat().st_mode & 0o777) == 0o600 and (tmp_path / "k.pem.pub").is_file()
    pub = f"{key}.pub"

    r = runner.invoke(cli.cli, ["create", str(pair.base), str(pair.edited), "-o", str(tmp_path / "p"), "--key", str(key), "--name", "fix"])
    assert r.exit_code == 0, r.output
    assert "model.layers.1.self_attn.v_proj.weight[8:16, :]" in r.output

    r = runner.invoke(cli.cli, ["verify", str(tmp_path / "p"), "--base", str(pair.base), "--pubkey", pub, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["ok"] is True

    r = runner.invoke(cli.cli, ["apply", str(tmp_path / "p"), str(pair.base), "-o", str(tmp_path / "out"), "--pubkey", pub])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.cli, ["show", str(tmp_path / "out"), "--json"])
    assert [a["name"] for a in json.loads(r.output)["applied"]] == ["fix"]
    r = runner.invoke(cli.cli, ["revert", str(tmp_path / "p"), str(tmp_path / "out"), "-o", str(tmp_path / "back"), "--pubkey", pub])
    assert r.exit_code == 0, r.output
    assert snapshot(tmp_path / "back") == snapshot(pair.base)

    r = runner.invoke(cli.cli, ["show", str(tmp_path / "p")])
    assert r.exit_code == 0 and "BF16 weights, F32 delta" in r.output


def test_verify_exits_1_when_a_check_fails_and_2_on_usage(gpt2_patch, capsys, tmp_path):
    _, patch = gpt2_patch
    code, out, _ = _main(capsys, "verify", patch)  # signer not trusted
    assert code == 1 and "FAIL  signer trusted" in out
    code, _, err = _main(capsys, "verify", patch, "--reproduce")  # usage: --reproduce needs --base
    assert code == 2 and err.startswith("error: ")


@pytest.mark.parametrize("case", ["wrong-base", "untrusted", "exists"])
def test_errors_are_one_line_with_their_exit_code(gpt2_patch, keypair, other_keypair, capsys, tmp_path, make_pair, case):
    pair, patch = gpt2_patch
    wrong = make_pair("gpt2", "fp32", True).edited
    capsys.readouterr()
    args = {
        "wrong-base": (["apply", patch, wrong, "-o", tmp_path / "out", "--pubkey", keypair[1]], 6),
        "untrusted": (["apply", patch, pair.base, "-o", tmp_path / "out", "--pubkey", other_keypair[1]], 5),
        "exists": (["apply", patch, pair.base, "-o", tmp_path, "--pubkey", keypair[1]], 2),
    }[case]
    code, _, err = _main(capsys, *args[0])
    assert code == args[1]
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_allow_unsigned_warns(gpt2_patch, capsys, tmp_path):
    pair, patch = gpt2_patch
    code, _, err = _main(capsys, "apply", patch, pair.base, "-o", tmp_path / "out", "--allow-unsigned")
    assert code == 0 and "warning:" in err
    assert (tmp_path / "out").is_dir()


def test_installed_executable_round_trip(make_pair, tmp_path):
    exe = shutil.which("patchkit")
    if exe is None:
        pytest.skip("patchkit console script not installed")
    pair = make_pair("gpt2", "fp16", False)

    def run(*args):
        return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=120)

    assert run("keygen", tmp_path / "k.pem").returncode == 0
    r = run("create", pair.base, pair.edited, "-o", tmp_path / "p", "--key", tmp_path / "k.pem")
    assert r.returncode == 0, r.stderr
    r = run("apply", tmp_path / "p", pair.base, "-o", tmp_path / "out", "--pubkey", tmp_path / "k.pem.pub")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == (pair.edited / "model.safetensors").read_bytes()
    r = run("apply", tmp_path / "p", pair.base, "-o", tmp_path / "out", "--pubkey", tmp_path / "k.pem.pub")
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    # the standard OMS command verifies what patchkit signed
    oms = subprocess.run(
        [sys.executable, "-m", "model_signing", "verify", "key", str(tmp_path / "p"),
         "--signature", str(tmp_path / "p" / "patch.sig"), "--public_key", str(tmp_path / "k.pem.pub")],
        capture_output=True, text=True, timeout=120,
    )
    assert oms.returncode == 0, oms.stderr


def test_apply_never_imports_torch_or_model_signing(gpt2_patch, keypair, tmp_path):
    """Both cost more memory/time than the whole streaming apply (see docs/engine.md)."""
    pair, patch = gpt2_patch
    code = (
        "import sys\n"
        "from patchkit import cli\n"
        f"cli.main(['apply', {str(patch)!r}, {str(pair.base)!r}, '-o', {str(tmp_path / 'out')!r}, '--pubkey', {str(keypair[1])!r}])\n"
        "print(sorted(m for m in ('torch', 'model_signing', 'transformers') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
