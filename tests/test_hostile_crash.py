"""kill -9 at random moments of an apply on a ~100 MB checkpoint (four 25 MB shards) (issue 10, item 4).

Whatever the moment, the run leaves either no OUT or the complete, correct OUT; whatever staging
it left behind is removed by the next run, which then succeeds (or refuses an existing OUT).
Bounded: a handful of seeded kill moments, a few seconds in all.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from patchkit import checkpoint, engine
from hostile_helpers import leftovers, run_cli

SHARDS, ROWS, COLS = 4, 1600, 4096  # four F32 shards of 25 MiB: a ~100 MiB checkpoint
KILLS = 5


def _save(path: Path, name: str, value: np.ndarray) -> None:
    import safetensors.numpy

    safetensors.numpy.save_file({name: value}, str(path))


@pytest.fixture(scope="module")
def big_patch(tmp_path_factory, keypair):
    root = tmp_path_factory.mktemp("big")
    base, edited = root / "base", root / "edited"
    base.mkdir()
    edited.mkdir()
    rng = np.random.default_rng(0)
    weight_map = {}
    for i in range(SHARDS):
        name, shard = f"layer{i}.weight", f"model-{i + 1:05d}-of-{SHARDS:05d}.safetensors"
        value = rng.random((ROWS, COLS), dtype=np.float32)
        _save(base / shard, name, value)
        weight_map[name] = shard
        if i == 2:  # the edit: two rows of one shard
            value[ROWS // 2 : ROWS // 2 + 2, 100:200] += 0.5
            _save(edited / shard, name, value)
        else:
            os.link(base / shard, edited / shard)
    for d in (base, edited):
        (d / checkpoint.INDEX_NAME).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
        (d / "config.json").write_text(json.dumps({"model_type": "none"}))
    patch = engine.create(base, edited, root / "patch", key=keypair[0])
    want = checkpoint.Checkpoint.open(edited).fingerprint()
    return root, patch, want


def test_kill_9_at_random_moments_leaves_nothing_a_rerun_does_not_clean(big_patch, keypair, tmp_path):
    root, patch, want = big_patch
    out = tmp_path / "out"
    args = ["apply", str(patch), str(root / "base"), "-o", str(out), "--pubkey", str(keypair[1])]
    code = f"from patchkit import cli; cli.main({args!r})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    start = time.perf_counter()
    full = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    span = time.perf_counter() - start
    assert full.returncode == 0, full.stderr
    assert checkpoint.Checkpoint.open(out).fingerprint() == want
    _remove(out)

    rng = random.Random(10)
    outcomes = {"no OUT": 0, "complete OUT": 0, "staging left": 0}
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.15) * span)
        proc.kill()
        proc.wait()
        outcomes["staging left"] += bool(leftovers(tmp_path))
        if out.exists():  # the run got as far as publishing: OUT must be whole
            outcomes["complete OUT"] += 1
            assert checkpoint.Checkpoint.open(out).fingerprint() == want
            assert json.loads((out / engine.APPLIED_RECORD).read_text())["applied"][0]["name"] == "patch"
        else:
            outcomes["no OUT"] += 1
        rc, _, err = run_cli(*args)  # the rerun: cleans the dead run's staging, then applies or refuses
        assert rc in (0, 2) and "Traceback" not in err, err
        assert not leftovers(tmp_path), leftovers(tmp_path)
        assert checkpoint.Checkpoint.open(out).fingerprint() == want
        _remove(out)
    print(f"kill -9 outcomes over {KILLS} runs (full run {span:.2f}s): {outcomes}")
    assert outcomes["no OUT"] + outcomes["complete OUT"] == KILLS


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path)
