"""Patches whose changed elements are spread along one dimension (chosen neurons): the slice lists them.

Why it matters: an edit of 192 chosen neurons of a down projection touches columns all over the
weight; a bounding box would store (and claim) eight times the parameters it changes.
"""

from __future__ import annotations

import pytest
import torch

from patchkit import engine, errors, manifest
from conftest import PLANTED, load_tensors, snapshot

TENSOR = PLANTED["gpt2"][0]
COLUMNS = [1, 5, 6, 20, 31]  # spread over the tensor's 0..31+ columns


@pytest.fixture(scope="module")
def picked(make_pair, keypair, tmp_path_factory):
    pair = make_pair("gpt2", "fp32", False)
    root = tmp_path_factory.mktemp("picked")
    base = load_tensors(pair.base)
    edited = base[TENSOR].clone()
    g = torch.Generator().manual_seed(0)
    edited[:, COLUMNS] += torch.randn(edited.shape[0], len(COLUMNS), generator=g) * 0.01
    patch = engine.create(pair.base, {TENSOR: edited}, root / "fix", key=keypair[0], name="fix")
    return pair, patch, edited, base, keypair[1]


def test_the_manifest_lists_the_changed_columns_and_counts_only_them(picked):
    pair, patch, edited, _, _ = picked
    (e,) = manifest.read(patch / "patch.json")["edits"]
    rows = edited.shape[0]
    assert e["slice"] == [[0, rows], {"index": COLUMNS}]
    assert e["numel"] == rows * len(COLUMNS)
    shown = engine.show(patch)["edits"][0]
    assert shown["slice"] == f"[:, {len(COLUMNS)} of {edited.shape[1]}]"
    assert engine.verify(patch, base=pair.base, pubkey=picked[4]).ok


def test_apply_and_revert_on_disk_are_bit_exact(picked, tmp_path):
    pair, patch, edited, _, pub = picked
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=pub)
    assert torch.equal(load_tensors(out)[TENSOR].view(torch.uint8), edited.view(torch.uint8))
    back = engine.revert(patch, out, tmp_path / "back", pubkey=pub)
    assert snapshot(back) == snapshot(pair.base)


def test_apply_and_revert_in_memory_are_bit_exact(picked):
    from transformers import AutoModelForCausalLM

    pair, patch, edited, base, pub = picked
    model = AutoModelForCausalLM.from_pretrained(str(pair.base), dtype=torch.float32).eval()
    p = engine.Patch.load(patch)
    p.apply_to(model)
    assert torch.equal(model.state_dict()[TENSOR], edited)
    p.revert_from(model)
    assert torch.equal(model.state_dict()[TENSOR], base[TENSOR])


def test_stacking_checks_the_columns_not_their_bounding_range(picked, keypair, tmp_path):
    pair, patch, _, base, pub = picked
    between = base[TENSOR].clone()
    between[:, 10:14] += 0.5  # inside the picked columns' range 1..31, but none of them
    other = engine.create(pair.base, {TENSOR: between}, tmp_path / "between", key=keypair[0], name="between")
    both = engine.apply(other, engine.apply(patch, pair.base, tmp_path / "one", pubkey=pub), tmp_path / "two",
                        pubkey=pub)
    assert [a["name"] for a in engine.applied_patches(both)] == ["fix", "between"]
    clash = base[TENSOR].clone()
    clash[:, 5] += 0.5  # one of the picked columns
    third = engine.create(pair.base, {TENSOR: clash}, tmp_path / "clash", key=keypair[0], name="clash")
    with pytest.raises(errors.PatchConflictError, match=r"\[0:\d+, 1 picked\]"):
        engine.apply(third, both, tmp_path / "three", pubkey=pub)
    assert not (tmp_path / "three").exists()


@pytest.mark.filterwarnings("ignore::UserWarning")  # the edited manifest no longer matches its signature
@pytest.mark.parametrize("bad", [{"index": [5, 1]}, {"index": [1, 1]}, {"index": [1, 9999]}])
def test_a_picked_dimension_out_of_order_or_shape_is_refused(picked, tmp_path, bad):
    import shutil

    _, patch, _, _, _ = picked
    copy = tmp_path / "copy"
    shutil.copytree(patch, copy)
    data = manifest.read(copy / "patch.json")
    data["edits"][0]["slice"][1] = bad
    (copy / "patch.json").write_text(__import__("json").dumps(data))
    report = engine.verify(copy, allow_unsigned=True)
    failed = {c.name for c in report.checks if not c.ok}
    assert failed & {"schema", "slices"}, failed


def test_picked_rows_stream_through_apply_and_revert(make_pair, keypair, tmp_path):
    """The first dimension listed (GPT-2's Conv1D keeps a down projection's neurons in rows): apply reads the
    bounding rows, writes back only the listed ones."""
    pair = make_pair("gpt2", "fp32", False)
    base = load_tensors(pair.base)
    edited = base[TENSOR].clone()
    edited[[0, 3, 9], :] += 0.25
    patch = engine.create(pair.base, {TENSOR: edited}, tmp_path / "rows", key=keypair[0], name="rows")
    (e,) = manifest.read(patch / "patch.json")["edits"]
    assert e["slice"] == [{"index": [0, 3, 9]}, [0, edited.shape[1]]]
    out = engine.apply(patch, pair.base, tmp_path / "out", pubkey=keypair[1])
    assert torch.equal(load_tensors(out)[TENSOR], edited)
    assert snapshot(engine.revert(patch, out, tmp_path / "back", pubkey=keypair[1])) == snapshot(pair.base)
