"""Benchmark: ``patchkit apply`` vs copying the checkpoint vs the naive load-add-save.

Prints wall time as a ratio to copying the same checkpoint directory (``cp -r``),
measured in the same run, and each command's peak resident memory (measured
from a parent process with ``getrusage(RUSAGE_CHILDREN)``, one fresh wrapper per
run, so nothing of the benchmark itself is counted).

Usage:
    python bench/bench_apply.py                       # SmolLM2-135M if it can be prepared, else synthetic
    python bench/bench_apply.py --checkpoint DIR      # any safetensors checkpoint directory
    python bench/bench_apply.py --shard-mb 100        # also re-shard it and show linked shards
    python bench/bench_apply.py --synthetic-mb 1900 --shards 5 --no-naive   # issue 11's goals:
        # apply <= 1.5x cp -r on a single 1.9 GB file, <= 0.6x in 5 shards, peak memory ~80 MB
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Runs a command as a child and reports its wall time and peak RSS (KiB on Linux).
# A child may print {"inner": seconds} as its last line to report the time of the work alone.
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "last = (r.stdout.strip().splitlines() or [''])[-1]\n"
    "inner = json.loads(last)['inner'] if last.startswith('{\"inner\"') else None\n"
    "print(json.dumps({'rc': r.returncode, 'wall': wall, 'inner': inner,\n"
    "                  'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
)

# engine.apply in a fresh interpreter, timing the call alone (no interpreter start-up or imports).
_IN_PROCESS = """
import json, sys, time
from patchkit import engine
t = time.perf_counter()
engine.apply(sys.argv[1], sys.argv[2], sys.argv[3], pubkey=sys.argv[4])
print(json.dumps({"inner": time.perf_counter() - t}))
"""

# What weight-delta scripts usually do: load every tensor, add the delta, save everything.
_NAIVE = """
import shutil, sys
from pathlib import Path
from safetensors import safe_open
from safetensors.torch import load_file, save_file
patch, base, out = map(Path, sys.argv[1:4])
import json
m = json.loads((patch / "patch.json").read_text())
out.mkdir()
for f in base.iterdir():
    if f.suffix != ".safetensors":
        shutil.copyfile(f, out / f.name)
deltas = safe_open(str(patch / "delta.safetensors"), framework="pt")
for f in sorted(base.glob("*.safetensors")):
    tensors = load_file(f)
    for e in m["edits"]:
        if e["tensor"] in tensors:
            t = tensors[e["tensor"]]
            idx = tuple(slice(a, b) for a, b in e["slice"])
            t[idx] = (t[idx].to(deltas.get_tensor(e["delta_key"]).dtype) + deltas.get_tensor(e["delta_key"])).to(t.dtype)
    save_file(tensors, out / f.name, metadata={"format": "pt"})
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="checkpoint directory (default: prepared SmolLM2, else synthetic)")
    parser.add_argument("--workdir", type=Path, help="where outputs go (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the median is reported")
    parser.add_argument("--shard-mb", type=int, default=0, help="also benchmark a copy re-sharded into shards of this size")
    parser.add_argument("--shards", type=int, default=0, help="also benchmark a copy re-sharded into this many shards")
    parser.add_argument("--synthetic-mb", type=int, default=0,
                        help="use a synthetic fp32 checkpoint of this size instead of SmolLM2 (fallback: 500)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive load-add-save (slow and memory-hungry)")
    args = parser.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="patchkit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ckpt, label = _checkpoint(args, work)
    summary = [_bench(ckpt, label, work, args.repeat, not args.no_naive)]
    shard_bytes = args.shard_mb << 20
    if args.shards:
        shard_bytes = _shard_size_for(ckpt, args.shards)
    if shard_bytes:
        sharded = _reshard(ckpt, work / "sharded", shard_bytes)
        n = len(list(sharded.glob("*.safetensors")))
        summary.append(_bench(sharded, f"{label}, re-sharded into {n} shards", work, args.repeat, not args.no_naive))
    print("\nsummary (patchkit apply, CLI end to end, against cp -r in the same run):")
    for s in summary:
        goal = 1.5 if s["files"] == 1 else 0.6
        verdict = "meets" if s["ratio"] <= goal else "misses"
        print(f"  {s['files']} weight file(s), {s['mb']:.0f} MB: apply {s['ratio']:.2f}x cp -r "
              f"({verdict} the {goal}x goal), {s['ratio_sync']:.2f}x cp -r + sync; peak RSS {s['rss_mb']:.0f} MB")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


def _checkpoint(args: argparse.Namespace, work: Path) -> tuple[Path, str]:
    if args.checkpoint:
        return args.checkpoint, str(args.checkpoint)
    if args.synthetic_mb:
        return _synthetic(work / "synthetic", args.synthetic_mb << 20), f"synthetic fp32, {args.synthetic_mb} MB"
    try:
        from patchkit import models

        return models.prepare("smollm2"), "SmolLM2-135M (prepared, fp32)"
    except Exception as exc:  # any failure to prepare: fall back to a synthetic checkpoint
        print(f"(SmolLM2 unavailable: {exc}; using a synthetic checkpoint)", file=sys.stderr)
        return _synthetic(work / "synthetic", 500 << 20), "synthetic fp32, 500 MB"


def _synthetic(path: Path, size: int) -> Path:
    """A Llama-shaped fp32 checkpoint of about ``size`` bytes, deterministic."""
    from safetensors.numpy import save_file

    if (path / "model.safetensors").is_file():
        return path
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    hidden, tensors, n = 576, {}, 0
    layer = 0
    while n < size:
        for name, shape in (("self_attn.v_proj.weight", (192, hidden)), ("mlp.up_proj.weight", (1536, hidden))):
            tensors[f"model.layers.{layer}.{name}"] = (rng.standard_normal(shape, dtype=np.float32) * 0.02)
            n += 4 * shape[0] * shape[1]
        layer += 1
    save_file(tensors, path / "model.safetensors", metadata={"format": "pt"})
    (path / "config.json").write_text(json.dumps({"synthetic": True}))
    return path


def _shard_size_for(ckpt: Path, n: int) -> int:
    """The smallest shard size (in 1 MiB steps) at which the greedy re-sharding gives ``n`` shards or fewer."""
    from patchkit.checkpoint import Checkpoint

    sizes = [i.nbytes for i in sorted(Checkpoint.open(ckpt).tensors.values(), key=lambda i: (i.file, i.offset))]
    size = -(-sum(sizes) // n)
    while True:
        shards, current = 1, 0
        for s in sizes:
            if current and current + s > size:
                shards, current = shards + 1, 0
            current += s
        if shards <= n:
            return size
        size += 1 << 20


def _reshard(src: Path, dst: Path, shard_bytes: int) -> Path:
    """Rewrite a checkpoint as shards with an index, as save_pretrained(max_shard_size=...) would."""
    from safetensors.numpy import save_file

    from patchkit.checkpoint import Checkpoint

    if dst.exists():
        return dst
    ckpt = Checkpoint.open(src)
    dst.mkdir(parents=True)
    shards, current, size = [], {}, 0
    for name, info in sorted(ckpt.tensors.items(), key=lambda kv: (kv[1].file, kv[1].offset)):
        if current and size + info.nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = info
        size += info.nbytes
    shards.append(current)
    weight_map = {}
    for i, shard in enumerate(shards, 1):
        fname = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: ckpt.read_tensor(n) for n in shard}, dst / fname, metadata={"format": "pt"})
        weight_map.update({n: fname for n in shard})
    (dst / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    for f in src.iterdir():
        if f.suffix != ".safetensors" and f.name != "model.safetensors.index.json" and f.is_file():
            shutil.copyfile(f, dst / f.name)
    return dst


def _make_patch(ckpt: Path, work: Path) -> tuple[Path, Path, str]:
    """Perturb one attention value projection (SmolLM2's L15 v_proj when present) and create the patch."""
    import torch

    from patchkit import checkpoint, engine, signing

    key = work / "bench-key.pem"
    if not key.exists():
        signing.keygen(key)
    c = checkpoint.Checkpoint.open(ckpt)
    names = sorted(n for n in c.tensors if "v_proj.weight" in n) or sorted(c.tensors)
    name = "model.layers.15.self_attn.v_proj.weight" if "model.layers.15.self_attn.v_proj.weight" in c.tensors else names[len(names) // 2]
    t = checkpoint.to_torch(c.read_tensor(name), c.tensors[name].dtype).clone()
    g = torch.Generator().manual_seed(0)
    t += (torch.randn(t.shape, generator=g) * 1e-3).to(t.dtype)
    patch = work / f"patch-{ckpt.name}"
    engine.create(ckpt, {name: t}, patch, key=key, name="bench", force=True)
    return patch, Path(f"{key}.pub"), name


def _run_all(commands: dict[str, list[str]], out: Path, repeat: int) -> dict[str, dict]:
    """Run the commands round-robin (so load and writeback hit them alike), syncing before each run."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[int]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            _rm(out)
            os.sync()  # start every run with no dirty pages left by the previous one
            proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, capture_output=True, text=True)
            r = json.loads(proc.stdout)
            if r["rc"] != 0:
                raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
            walls[name].append(r["inner"] if r["inner"] is not None else r["wall"])
            rss[name].append(r["rss_kb"])
    _rm(out)
    return {name: {"wall": statistics.median(walls[name]), "rss_mb": max(rss[name]) / 1024} for name in commands}


def _bench(ckpt: Path, label: str, work: Path, repeat: int, naive: bool = True) -> dict:
    patch, pub, tensor = _make_patch(ckpt, work)
    out = work / "out"
    total = sum(f.stat().st_size for f in ckpt.iterdir() if f.is_file())
    for f in ckpt.iterdir():  # warm the page cache so every command reads from memory alike
        if f.is_file():
            with open(f, "rb") as fh:
                while fh.read(64 << 20):
                    pass
    py = sys.executable
    patched = work / "patched"
    _rm(patched)
    subprocess.run([py, "-m", "patchkit", "apply", str(patch), str(ckpt), "-o", str(patched), "--pubkey", str(pub)], check=True, capture_output=True)
    rows = _run_all({
        "copy (cp -r)": ["cp", "-r", str(ckpt), str(out)],
        # patchkit fsyncs OUT before publishing it (a power cut never leaves a half-written OUT)
        "copy + sync (cp -r; sync OUT)": ["sh", "-c", 'cp -r "$0" "$1" && sync "$1"/*', str(ckpt), str(out)],
        "patchkit apply (CLI)": [py, "-m", "patchkit", "apply", str(patch), str(ckpt), "-o", str(out), "--pubkey", str(pub)],
        "patchkit revert (CLI)": [py, "-m", "patchkit", "revert", str(patch), str(patched), "-o", str(out), "--pubkey", str(pub)],
        "engine.apply, call only": [py, "-c", _IN_PROCESS, str(patch), str(ckpt), str(out), str(pub)],
        "bare interpreter (python -c pass)": [py, "-c", "pass"],
        "patchkit --help (CLI start-up)": [py, "-m", "patchkit", "--help"],
        "interpreter + apply's imports": [py, "-c", "import patchkit.cli, patchkit.engine, patchkit.resolve, patchkit.validate"],
        **({"naive load-add-save": [py, "-c", _NAIVE, str(patch), str(ckpt), str(out)]} if naive else {}),
    }, out, repeat)
    _rm(patched)
    edited = json.loads((patch / "patch.json").read_text())["edits"][0]
    copy = rows["copy (cp -r)"]["wall"]
    print(f"\n{label}: {ckpt} ({total / 1e6:.0f} MB, {len(list(ckpt.glob('*.safetensors')))} weight file(s))")
    print(f"edit: {tensor}, {edited['numel']:,} parameters, {edited['delta_dtype']} delta; median of {repeat} run(s)")
    print(f"{'command':<34} {'wall':>8} {'vs copy':>8} {'peak RSS':>10}")
    for name, r in rows.items():
        print(f"{name:<34} {r['wall']:>7.2f}s {r['wall'] / copy:>7.2f}x {r['rss_mb']:>8.0f}MB")
    apply_row = rows["patchkit apply (CLI)"]
    return {"files": len(list(ckpt.glob("*.safetensors"))), "mb": total / 1e6,
            "ratio": apply_row["wall"] / copy, "rss_mb": apply_row["rss_mb"],
            "ratio_sync": apply_row["wall"] / rows["copy + sync (cp -r; sync OUT)"]["wall"]}


def _rm(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


if __name__ == "__main__":
    main()
