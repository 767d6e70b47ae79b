"""patch.json: schema (one source of truth), canonical bytes, strict except inside method/evals."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from patchkit import engine, errors, manifest

ROOT = Path(__file__).resolve().parents[1]


def test_repo_schema_is_the_packaged_schema():
    assert (ROOT / "schemas/patch.schema.json").read_bytes() == (ROOT / "patchkit/schemas/patch.schema.json").read_bytes()
    jsonschema.Draft202012Validator.check_schema(manifest.schema())


@pytest.fixture
def good(gpt2_patch) -> dict:
    return json.loads((gpt2_patch[1] / "patch.json").read_text())


def test_written_manifest_is_canonical(gpt2_patch, good):
    raw = (gpt2_patch[1] / "patch.json").read_bytes()
    assert manifest.dumps(good) == raw
    shuffled = dict(reversed(list(good.items())))
    assert manifest.dumps(shuffled) == raw
    assert manifest.dumps({"name": "café"}) == '{\n  "name": "café"\n}\n'.encode()


def test_method_and_evals_accept_extra_keys(good):
    good["method"] = {"kind": "surgery", "anything": {"nested": [1]}}
    good["evals"] = {"panels": [{"name": "f", "kind": "facts", "n": 8, "metric": "accuracy", "before": 2, "after": 8, "extra": True}], "notes": "x"}
    manifest.validate(good)


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda m: m.update(surprise=1), "(top level)"),
        (lambda m: m["edits"][0].update(surprise=1), "edits/0"),
        (lambda m: m["edits"][0].update(base_sha256="xyz"), "edits/0/base_sha256"),
        (lambda m: m["base"].pop("fingerprint"), "base"),
        (lambda m: m.update(schema_version=2), "schema_version"),
        (lambda m: m.update(edits=[]), "edits"),
        (lambda m: m.update(evals={"panels": [{"name": "f"}]}), "evals/panels/0"),
    ],
)
def test_schema_rejects_with_the_field_named(good, mutate, where):
    bad = copy.deepcopy(good)
    mutate(bad)
    with pytest.raises(errors.SchemaError, match=where.replace("(", r"\(").replace(")", r"\)")):
        manifest.validate(bad)


def test_read_rejects_invalid_json(tmp_path):
    (tmp_path / "patch.json").write_text("{not json")
    with pytest.raises(errors.SchemaError, match="not valid JSON"):
        manifest.read(tmp_path / "patch.json")
    with pytest.raises(errors.SchemaError, match="missing"):
        manifest.read(tmp_path / "nope.json")


def test_patch_files_constant_matches_what_create_writes(gpt2_patch):
    names = sorted(p.name for p in gpt2_patch[1].iterdir())
    assert names == sorted(set(engine.PATCH_FILES) - {"README.md"})


def test_plain_turns_numbers_from_numpy_and_torch_into_json():
    import numpy as np
    import torch

    value = {"a": np.float32(0.5), "b": torch.tensor([1, 2]), "c": np.arange(2), "p": Path("x")}
    assert manifest.plain(value, "method") == {"a": 0.5, "b": [1, 2], "c": [0, 1], "p": "x"}
    with pytest.raises(errors.SchemaError, match="evals"):
        manifest.plain({"x": float("nan")}, "evals")
    with pytest.raises(errors.SchemaError, match="not JSON"):
        manifest.plain({"x": object()}, "method")
