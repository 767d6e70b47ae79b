"""``patchkit demo``: the whole story on a real model, in a few minutes on 2 CPU cores.

Prepare SmolLM2-135M-Instruct (or, with ``model="gemma3-270m"``, Gemma 3
270M), trace the routing failure on "The capital of Poland is" (Gemma: "The
capital of France is"), triage the capitals panel, repair the routing
failures by training one slice, print the before/after table, sign, verify,
apply to the checkpoint, reload the patched checkpoint with plain
transformers and show its answers, then revert and show the base restored
bit for bit.

The signing key is created in the working directory (a temporary one by
default), never in the repository.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from patchkit import checkpoint
from patchkit.progress import is_terminal  # surgery's own training bar only on a terminal

COMPONENT = None  # SmolLM2's story runs the default command, as the committed patch was made (since session 4)


def surg_config(**overrides: object) -> object:
    """A SurgeryConfig, imported late (torch stays out of ``import patchkit.demo``)."""
    from patchkit.train import SurgeryConfig

    return SurgeryConfig(**overrides)

# Per prepared model: the prompt traced in step 2, its right answer, and the component
# surgery trains (None: surgery's default, the automatic component search).
STORIES: dict[str, dict[str, str | None]] = {
    "smollm2": {"prompt": "The capital of Poland is", "target": " Warsaw", "component": COMPONENT},
    "gemma3-270m": {"prompt": "The capital of France is", "target": " Paris", "component": None},
}
# Per-model surgery settings beyond the default command (none since session 4: both stories run the default
# command's own search; the SmolLM2 one is how patches/smollm2-135m-capitals was made).
RECIPES: dict[str, dict[str, object]] = {}
STEPS = ["prepare", "trace", "triage", "surgery", "verify", "apply", "reload", "revert"]


def run(workdir: Path | None = None, keep: bool = False, echo: Callable[[str], None] = print,
        model: str = "smollm2") -> dict[str, object]:
    """Run the demo; returns the key figures (for tests and scripts).

    Args:
        workdir: where to write the key, the patch and the patched/restored
            checkpoints (default: a temporary directory, removed at the end).
        keep: keep the temporary directory.
        echo: where to print.
        model: the prepared model to repair (a key of ``STORIES``).
    """
    from patchkit import errors

    if model not in STORIES:
        raise errors.UsageError(f"demo: no story for {model!r} (known: {', '.join(STORIES)})")
    from patchkit.progress import bar

    tmp = None
    if workdir is None:
        tmp = Path(tempfile.mkdtemp(prefix="patchkit-demo-"))
        workdir = tmp
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stages = bar(total=len(STEPS), desc="demo", unit="stage", position=0)
    figures: dict[str, object] = {"workdir": str(workdir)}
    try:
        figures.update(_story(workdir, model, echo, stages))
    finally:
        stages.close()
        if tmp is not None and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    figures["seconds"] = round(time.perf_counter() - start, 1)
    echo(f"\ndemo finished in {figures['seconds']}s" + (f"; files kept in {workdir}" if keep or tmp is None else ""))
    return figures


def _stage(stages, echo: Callable[[str], None], name: str, title: str) -> None:
    stages.set_description(f"demo: {name}")
    echo(f"\n== {title} ==")


def _story(workdir: Path, model_name: str, echo: Callable[[str], None], stages) -> dict[str, object]:
    import torch

    from patchkit import engine, evals, models, signing, trace, triage
    from patchkit import surgery as surg

    figures: dict[str, object] = {}
    facts_file = Path(str(resources.files("patchkit") / "data" / "capitals.jsonl"))

    _stage(stages, echo, "prepare", f"1. prepare {model_name} (a plain safetensors checkpoint, cached)")
    base = models.prepare(model_name)
    echo(f"base checkpoint: {base}")
    stages.update(1)

    story = STORIES[model_name]
    _stage(stages, echo, "trace", f"2. trace: who overrides {story['target']!r}?")
    m, tok = models.load_model(base)
    with models.single_thread():
        tr = trace.trace(m, tok, story["prompt"], story["target"])
    echo(trace.format_trace(tr, top=8))
    figures["trace"] = {"rival": tr.rival, "logit_diff": round(tr.logit_diff, 3)}
    stages.update(1)

    _stage(stages, echo, "triage", "3. triage the capitals panel: fixable (routing, near miss) or absent?")
    facts = evals.load_facts(facts_file)
    report = triage.triage(m, tok, facts, progress=True)
    echo(triage.format_report(report))
    routing = [i for i in report.items if i.fixable]  # routing failures and near misses
    figures["triage"] = report.counts
    stages.update(1)

    component = story["component"]
    _stage(stages, echo, "surgery",
           f"4. surgery: edit only {component or 'the slice the search picks'} on the facts")
    key = workdir / "demo-key.pem"
    if not key.exists():
        signing.keygen(key)
    pub = key.with_name(key.name + ".pub")
    patch_dir = workdir / f"{model_name}-capitals"
    recipe = dict(RECIPES.get(model_name, {}))  # the committed patch's recipe where one exists (reproducible)
    if "config" in recipe:
        recipe["config"] = surg_config(**recipe["config"])
    result = surg.surgery(base, facts_file, patch_dir, key=key, component=component, force=True, progress=is_terminal(),
                          **recipe,
                          description=f"Fixes {len(routing)} capitals the model overrides with ' the'.",
                          log=lambda msg: echo(msg))
    del m
    echo(surg.format_table(result))
    echo(f"{'solved' if result.closed_form else 'trained'} {len(result.trained_facts)} facts in {result.train.seconds:.1f}s; "
         f"facts right: {_fixed(result)}")
    figures["panels"] = result.panels
    figures["params"] = result.params
    stages.update(1)

    _stage(stages, echo, "verify", "5. verify the signed patch against the base")
    rep = engine.verify(patch_dir, base=base, pubkey=pub)
    for c in rep.checks:
        echo(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<18} {c.detail}")
    figures["verified"] = rep.ok
    stages.update(1)

    _stage(stages, echo, "apply", "6. apply the patch to the checkpoint (streams only the touched slice)")
    patched = engine.apply(patch_dir, base, workdir / "patched", pubkey=pub, force=True)
    echo(f"patched checkpoint: {patched}")
    stages.update(1)

    _stage(stages, echo, "reload", "7. reload base and patched checkpoints with plain transformers and generate")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ptok = AutoTokenizer.from_pretrained(str(patched))
    generated: dict[str, dict[str, str]] = {}
    for label, path in (("base", base), ("patched", patched)):
        lm = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32).eval()
        with models.single_thread(), torch.no_grad():
            for item in routing:
                ids = ptok(item.prompt, return_tensors="pt").input_ids
                out = lm.generate(ids, max_new_tokens=3, do_sample=False, pad_token_id=ptok.eos_token_id)
                generated.setdefault(label, {})[item.prompt] = ptok.decode(out[0, ids.shape[1]:])
        del lm
    answers = generated["patched"]
    echo(f"{'prompt':40} {'base':>16}    patched")
    for item in routing:
        echo(f"{item.prompt!r:40} {generated['base'][item.prompt]!r:>16} -> {answers[item.prompt]!r}")
    figures["answers"] = answers
    figures["base_answers"] = generated["base"]
    stages.update(1)

    _stage(stages, echo, "revert", "8. revert, and compare with the base bit for bit")
    restored = engine.revert(patch_dir, patched, workdir / "restored", pubkey=pub, force=True)
    same = _weights_sha(restored) == _weights_sha(base)
    echo(f"restored checkpoint: {restored}")
    echo("weights identical to the base, byte for byte" if same else "RESTORED WEIGHTS DIFFER FROM THE BASE")
    figures["restored_identical"] = same
    stages.update(1)
    return figures


def _fixed(result) -> str:
    row = next(r for r in result.panels if r["kind"] == "facts")
    return f"{int(row['before'])}/{row['n']} -> {int(row['after'])}/{row['n']}"


def _weights_sha(path: Path) -> dict[str, str]:
    """sha256 of every weight file of a checkpoint, by name."""
    root = path if path.is_dir() else path.parent
    out = {}
    for f in sorted(root.glob("*.safetensors")):
        out[f.name] = checkpoint.file_sha256(f)
    return out
