"""Surgery: diagnose, choose a component, train it, judge it, ship it as a signed patch.

The command a maintainer runs (``patchkit surgery MODEL --facts F -o P --key K``)
and nothing else: the training loop is :mod:`patchkit.train`, the choice of
component and each candidate's edit :mod:`patchkit.search` (``Search``), the set
that judges candidates :mod:`patchkit.selection`, the panels' judgement
:mod:`patchkit.judge` and ``--minimize`` :mod:`patchkit.minimize`.

The order of work, and why:

1. triage: which facts are wrong but fixable (routing failures and near
   misses); absent knowledge is reported and skipped.
2. the selection set, built from the facts' own templates with other
   subjects plus generic prompts — disjoint from every reported panel.
3. candidates: ``--component`` (in the order given), or the search: the best
   down-projection neuron ranges (edited in closed form at the subject,
   :mod:`patchkit.solve`; specific to the facts given; for more facts than a
   range holds, whole down projections, which drop the facts they cannot hold
   locally and say so), then triage's override
   head (closed form at the last token: a route repair), and only if none of
   those passes, the best few slices of a first-order gradient screen, trained.
4. each candidate is solved or trained (facts, their trained context variants,
   KL to base on preservation text and half the neighbours) and judged on the
   selection set; the first that fixes every trained fact without changing a
   selection answer ships, the others are recorded with their reasons.
5. the reported panels before/after; a regression there refuses the patch
   (it never picks another candidate: those panels judge, they do not select).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from patchkit import arch, errors
from patchkit.judge import DEFAULT_TOLERANCES  # noqa: F401  (re-exported)
from patchkit.train import (  # noqa: F401  (the training core's public names, re-exported)
    SliceTarget,
    SurgeryConfig,
    TrainResult,
    apply_edit,
    as_targets,
    check_untouched,
    encode_fact,
    restore,
    slice_params,
    train_slices,
)
from patchkit.train import _preserve_schedule  # noqa: F401  (tests read the schedule)

DEFAULT_CANDIDATES = 3  # trained components tried after the gradient screen when none is named
DEFAULT_SOLVE_TRIES = 8  # down-projection neuron ranges solved in closed form before any training
# a wide edit drops the facts it cannot hold locally; one that holds fewer than this share is not a repair
# of the facts asked for (on the tuning set, 67-78 of 83 were held)
MIN_HELD_SHARE = 0.5

@dataclass
class SurgeryResult:
    """Everything :func:`surgery` measured; ``patch`` is None when nothing was written."""

    patch: Path | None
    component: str
    targets: list[SliceTarget]
    trained_facts: list[tuple[str, str]]
    skipped_absent: list[str]
    panels: list[dict[str, Any]]
    regressions: list[str]
    params: int
    model_params: int
    train: TrainResult
    method: dict[str, Any]
    seconds: float
    minimized_from: str | None = None
    edited: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    triage_counts: dict[str, int] = field(default_factory=dict)
    routing_fixed: tuple[int, int] = (0, 0)  # (fixed, fixable: routing + near misses) on the facts panel
    tried: list[dict[str, Any]] = field(default_factory=list)  # components judged, in order: name, regressions
    after_predictions: list[str] = field(default_factory=list, repr=False)  # the facts panel's, after the edit
    candidates: list[Any] = field(default_factory=list)  # search.Candidate, in screen order
    selection: dict[str, Any] = field(default_factory=dict)  # what the selection set held
    paraphrases_fixed: tuple[int, int] = (0, 0)  # repaired facts' reported paraphrases right after / all of them

    @property
    def closed_form(self) -> bool:
        """Whether the shipped edit was solved in closed form (else trained)."""
        return bool(self.train.details)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patch": str(self.patch) if self.patch else None,
            "component": self.component,
            "params": self.params,
            "model_params": self.model_params,
            "share": self.params / self.model_params if self.model_params else 0.0,
            "trained_facts": [list(f) for f in self.trained_facts],
            "wordings_trained": list(self.method.get("wordings_trained", [])),  # the other prompts trained
            "skipped_absent": self.skipped_absent,
            "panels": self.panels,
            "regressions": self.regressions,
            "minimized_from": self.minimized_from,
            "triage": self.triage_counts,
            "routing_fixed": list(self.routing_fixed),
            "tried": self.tried,
            "candidates": [c.to_dict() for c in self.candidates],
            "selection": self.selection,
            "paraphrases_fixed": list(self.paraphrases_fixed),
            "seconds": round(self.seconds, 2),
            "train_seconds": round(self.train.seconds, 2),
            "final_loss": self.train.losses[-1] if self.train.losses else None,
        }


def warm_cache(model: str | Path, seed: int = 0) -> float:
    """Compute and cache what every surgery on this base model needs before its first edit; seconds taken.

    Why: the model's own samples (the closed form's preserved text), the shipped panels' base scores
    and the selection passage's base perplexity depend only on the weights and patchkit's code
    (:mod:`patchkit.modelcache`), and they were a third of a first run's time on SmolLM2 (~17 s of
    ~41 s). ``patchkit models prepare`` calls this once, so the first surgery runs as fast as later ones.
    The look-alike names' states (:mod:`patchkit.lookalikes`) are cached here too: ~25 s for SmolLM2, minutes
    for Gemma 3 270M's 262k-token vocabulary.
    """
    from patchkit import evals, judge, lookalikes, modelcache, models, samples
    from patchkit.resolve import resolve_model

    start = time.perf_counter()
    m, tok = models.load_model(resolve_model(model))
    fingerprint = modelcache.weights_fingerprint(m)
    samples.self_samples(m, tok, seed=seed, fingerprint=fingerprint)
    evals.base_results(m, tok, evals.shipped_panels(), fingerprint)
    judge.selection_passage(m, tok, fingerprint)
    lookalikes.head_states(m, tok, fingerprint)
    return time.perf_counter() - start


def load_preserve(paths: Sequence[str | Path] = (), default: bool = True) -> list[str]:
    """Preservation texts: the shipped ``data/preserve.jsonl`` plus user files.

    A user file is JSON Lines (``{"text": ...}`` or ``{"prompt": ...}`` per line)
    or plain text (one text per non-empty line).
    """
    from importlib import resources

    files: list[Path] = []
    if default:
        files.append(Path(str(resources.files("patchkit") / "data" / "preserve.jsonl")))
    files.extend(Path(p) for p in paths)
    return [t for f in files for t in _read_texts(f, ("text", "prompt"), "preservation")]


def _read_texts(f: Path, keys: Sequence[str], what: str) -> list[str]:
    """One text per non-empty line: the first of ``keys`` present in a ``.jsonl`` line's object, else the line."""
    import json

    if not f.is_file():
        raise errors.UsageError(f"{f}: no such {what} file")
    out: list[str] = []
    for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if f.suffix != ".jsonl":
            out.append(line)
            continue
        try:
            obj = json.loads(line)
            value = next(obj[k] for k in keys if k in obj)
            if not isinstance(value, str):
                raise TypeError
        except (json.JSONDecodeError, StopIteration, TypeError):
            wanted = " (or ".join(f"'{k}'" for k in keys) + ")" * (len(keys) - 1)
            raise errors.SchemaError(f"{f}:{lineno}: expected a JSON object with a {wanted} string") from None
        out.append(value)
    return out


DEFAULT_MAX_SHARE = 0.001  # of the model's parameters, per searched candidate


def surgery(
    model: str | Path,
    facts: str | Path,
    out: str | Path | None,
    *,
    key: str | Path | None,
    component: str | Sequence[str] | None = None,
    config: SurgeryConfig = SurgeryConfig(),
    preserve: Sequence[str | Path] = (),
    panels: Sequence[str | Path] = (),
    default_panels: bool = True,
    include_absent: bool = False,
    minimize: bool = False,
    allow_regressions: bool = False,
    tolerances: Mapping[str, float] | None = None,
    name: str | None = None,
    description: str | None = None,
    force: bool = False,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    solve_tries: int = DEFAULT_SOLVE_TRIES,
    guards: Sequence[str | Path] = (),
    auto_selection: bool = True,
    variants: bool = True,
    solve_variants: bool = False,
    neurons: str = "ranges",
    keep_shape: bool = False,
    other_questions: bool = False,
    wordings: bool = False,
    contexts: bool = False,
    max_share: float | None = None,
    method: str = "auto",
    solve_config: Any = None,
) -> SurgeryResult:
    """Repair the wrong-but-fixable facts in ``facts`` by training one component's slice, and ship a patch.

    Args:
        model: checkpoint directory or prepared-model name (``smollm2``).
        facts: facts JSON Lines file (``schemas/facts.schema.json``).
        out: patch directory to write (None: measure only, write nothing).
        key: private key to sign with (``patchkit keygen``).
        component: e.g. ``L15.attn.v`` or ``L15.attn.v.h2``, or several tried in order; default:
            search every layer's ``attn.v``/``attn.o``/``mlp.down`` and try the best ``candidates``.
        config: training hyper-parameters.
        preserve: extra preservation files (added to the shipped set).
        panels: extra eval panels (facts files judged as side effects, or ``.txt`` perplexity).
        default_panels: also run the shipped general, side-effect and perplexity panels.
        include_absent: also train facts triaged ``absent`` (default: report and skip them).
        minimize: prune the slice to the fewest heads that still do the job.
        allow_regressions: write the patch even if a panel regresses, or if no candidate
            passes the selection set (then the first one tried ships).
        candidates: how many components from the gradient screen to train, when nothing before them
            passed (ignored with ``component``).
        solve_tries: how many down-projection neuron ranges (by the ``k^T C^-1 k`` screen) to edit in
            closed form before training anything (``method`` auto or solve; 0: none).
        guards: extra selection files (facts JSON Lines or one prompt a line): prompts whose
            answers no candidate may change; they judge candidates and are never reported.
        auto_selection: build neighbours of the facts' templates and generic prompts for
            the selection set (off: only ``guards`` and the trained facts judge).
        variants: also train each fact's first paraphrase (facts with two or more); the
            reported paraphrase panel then leaves those out, so no reported paraphrase is trained.
        solve_variants: closed-form neuron ranges also solve for those paraphrases (one target and one
            averaged key per fact, ROME-style); paraphrases generalise better, locality is worse (tuning
            sets, docs/repair.md), so it is off by default.
        neurons: the closed-form candidates below a whole projection: ``ranges`` (contiguous neuron ranges,
            the default) or ``keys`` (per layer, the neurons that carry the facts' keys; docs/repair.md, session 10).
        max_share: largest share of the model's parameters a searched component may have
            (whole projections over it are searched head by head, or in neuron ranges with ``solve``);
            default 0.1%, widened for the down projections to a whole one when there are more facts
            than a neuron range holds (``solve.RANGE_FACTS``); a value given is a hard cap.
        method: ``auto``: a named down projection (or neuron range of it) is edited in closed form
            (:mod:`patchkit.solve`), anything else trained, and the search is the gradient screen
            over attention slices; ``solve``: the search tries down-projection slices in closed form;
            ``train``: the slice-masked training loop for every candidate, named or not; ``memory``: one
            MLP neuron per fact added as a key-value memory (:mod:`patchkit.memory`), at the
            layers of ``memory.DEPTHS`` in turn (``component`` ``L5.mlp``: that layer).
        keep_shape: memory neurons rewrite the least-used existing neurons instead of adding new ones, so the
            patched checkpoint keeps the base's shapes (and its answers move more: docs/repair.md, session 15).
        other_questions: the selection set also asks each fact's subject other questions of its kind
            (``data/questions.json``; "The biggest city in Australia is" for a capital fact), and an added memory
            that moves one is solved again with δ off what moves them, then given back (its facts dropped) if it
            still does. Off by default: on the tuning sets it kept 54 of 68 facts, and on Gemma's 102 held-out
            capitals nothing shipped (docs/repair.md, session 17).
        wordings: also train the shipped wordings of each fact's question where the selection set knows them
            (:func:`patchkit.selection.own_wordings`: "The seat of government of Poland is in" for a capital fact;
            never a reported prompt). Off by default: on the tuning sets it bought 4 untrained paraphrases on each
            model (32 -> 36 of 68, 8 -> 12 of 26) but moved a Gemma neighbour at layer 3, other questions about
            the subjects moved more there (27 -> 38 of 118), and an 8-fact run takes 0.51x the bare training loop
            (the bar is 0.5; the default 0.30x) (docs/repair.md, session 18).
        contexts: also train each fact after the openings of :data:`patchkit.selection.CONTEXTS` ("Did you know?
            The capital of Poland is"); a memory layer refused with them is tried again without them, and the facts
            whose contexts make their memories move other questions about their subjects (where the kind is known:
            :func:`patchkit.selection.known_questions`) that the memories without them leave alone give them up
            (session 21). Off by
            default: on the tuning sets untrained paraphrases went 32 -> 41 of 68 (SmolLM2) and 8 -> 10 of 26
            (Gemma) with no right answer changed, but the memories fire more on their subjects under other questions:
            the 128-capital run was refused ("The largest city in Turkey is" -> " Ankara"), and on held-out sets the
            gain stayed under the 80 % bar (docs/repair.md, session 19).
        solve_config: :class:`patchkit.solve.SolveConfig` for closed-form edits.
    Returns:
        A :class:`SurgeryResult` (``.patch`` is the written directory).
    Raises:
        RegressionError: no candidate passed the selection set, or the shipped one regressed a
            panel, and ``allow_regressions`` is False (nothing written).

    Example:
        >>> surgery("smollm2", "capitals.jsonl", "fix/", key="key.pem")   # doctest: +SKIP
    """
    from patchkit import evals, judge, modelcache, models, search, selection, solve, triage
    from patchkit.resolve import resolve_model

    say = log or (lambda _m: None)
    start = time.perf_counter()
    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    base_path = resolve_model(model)
    fact_list = evals.load_facts(facts)
    panel_list = judge.panels(evals, Path(facts), panels, default_panels, skip_trained=variants)
    guard_prompts = _load_guards(guards)
    m, tok = models.load_model(base_path)
    amap = arch.for_model(m)
    named = [component] if isinstance(component, str) else list(component or [])
    if method not in ("auto", "solve", "train", "memory"):
        raise errors.UsageError(f"method {method!r}: expected auto, solve, train or memory")
    if neurons not in ("ranges", "keys"):
        raise errors.UsageError(f"neurons {neurons!r}: expected ranges or keys")
    if method == "solve" and not named and solve_tries <= 0:
        raise errors.UsageError("--method solve with --ranges 0 leaves the search nothing to try")
    for c in named:
        amap.resolve(c)  # a bad name fails now, not after training
        if method == "solve" and not solve.is_down(c):
            raise errors.ComponentError(f"{c}: the closed-form edit applies to mlp.down (or a neuron range of it) only")
        if method == "memory" and not re.fullmatch(r"L\d+\.mlp", c):
            raise errors.ComponentError(f"{c}: memory neurons are chosen within one layer's MLP; name it as L5.mlp")
    solve_config = solve_config or solve.SolveConfig()
    if not keep_shape and "gate" in amap.mlp_parts and out is not None:
        why = _cannot_grow(base_path, amap)
        if why:  # the patch could not widen this checkpoint: rewrite neurons instead of failing at the end
            say(f"memory neurons: rewriting existing ones (as --keep-shape): {why}")
            keep_shape = True

    say(f"triage: {len(fact_list)} facts")
    report = triage.triage(m, tok, fact_list, progress=progress)
    by_fact = {(i.prompt, i.target): i for i in report.items}
    absent = [f.prompt for f in fact_list if by_fact[(f.prompt, f.target)].verdict == "absent"]
    fixable = [f for f in fact_list if by_fact[(f.prompt, f.target)].fixable]
    train_facts = [(f.prompt, f.target) for f in fact_list
                   if by_fact[(f.prompt, f.target)].fixable or (include_absent and f.prompt in absent)]
    if not train_facts:
        raise errors.UsageError("no failing fact to repair (all ok or absent; --include-absent trains absent ones)")
    say(f"triage: {len(fixable)} fixable ({report.counts['routing']} routing, {report.counts['near_miss']} near misses), "
        f"{len(absent)} absent, {report.counts['ok']} ok")

    reported = {f.prompt for p in panel_list for f in p.items}
    fixable_set = set(train_facts)
    trained_variants = [(f.paraphrases[0], f.target) for f in fact_list
                        if variants and (f.prompt, f.target) in fixable_set and len(f.paraphrases) >= 2]
    sel = _selection(m, tok, selection, train_facts, reported, guard_prompts, auto_selection, trained_variants, say,
                     other_questions, wordings and variants, contexts)
    texts = load_preserve(preserve)
    all_facts = list(train_facts)  # every fixable fact (``train_facts`` is rebound to the shipped edit's below)
    trained = all_facts + sel.train_variants

    model_params = sum(p.numel() for p in m.parameters())
    share = max_share if max_share is not None else DEFAULT_MAX_SHARE
    # a hash of the base weights, computed once if needed: what the cached samples and base scores are kept under
    base_fingerprint = functools.cache(lambda: modelcache.weights_fingerprint(m))

    found = search.Search(m, tok, amap, facts=train_facts, trained=trained, selection_set=sel, texts=texts,
                          triaged=report.items, named=named, method=method, budget=int(share * model_params),
                          share=share, solve_tries=solve_tries, candidates=candidates, solve_config=solve_config,
                          train_config=config, fingerprint=base_fingerprint, say=say, widen=max_share is None,
                          solve_variants=solve_variants and variants, neurons=neurons, keep_shape=keep_shape)
    passage = judge.selection_passage(m, tok, base_fingerprint()) if auto_selection else None
    found.judge = lambda edited, held: judge.selection_verdict(m, tok, edited, held, sel.judge, passage)
    # (candidate, targets, training, edited tensors, minimized_from, shipped component name, facts it holds)
    attempts: list[tuple[Any, list[SliceTarget], TrainResult, dict[str, torch.Tensor], str | None, str,
                         list[tuple[str, str]]]] = []
    for cand in found:
        t0 = time.perf_counter()
        targets = as_targets(amap.resolve(cand.component))
        train = found.edit(cand, targets, _step_bar(config.steps) if progress else None)
        comp = train.details.get("component") or cand.component  # a wide edit names the layers it used
        if comp != cand.component:  # added neurons (memory's grow) have numbers only the widened MLP has
            targets = as_targets(_widened(amap, train).resolve(comp))
        check_untouched({k: v.detach() for k, v in m.named_parameters()}, train.edited, targets)
        edited, minimized_from = train.edited, None
        cand.tried = True
        dropped = set(train.details.get("dropped", ()))
        kept = [f for f in train_facts if f[0] not in dropped]
        if dropped:
            leaked = train.details.get("leaked", [])
            why = (f"{len(leaked)} memories moved another question about their subject (e.g. {leaked[0]['moved']!r})"
                   if leaked else "still wrong at the locality floor")
            say(f"solve: {len(dropped)} of {len(train_facts)} facts dropped ({why}); {comp} holds {len(kept)}")
        if not kept:
            cand.reasons = ["no trained fact comes out right"]
        elif comp in found.verdicts:  # a wide edit was judged on these facts as it grew
            cand.reasons = list(found.verdicts[comp].reasons)
        else:
            cand.reasons = judge.selection_reasons(m, tok, edited, kept, sel.judge, passage)
        if not cand.reasons:
            cand.reasons = found.contexts_leak(train)
        if kept and len(kept) < MIN_HELD_SHARE * len(train_facts):
            cand.reasons.append(f"holds only {len(kept)} of {len(train_facts)} facts (at least "
                                f"{MIN_HELD_SHARE:.0%} must come out right)")
        if minimize and not cand.reasons and not found.solved(cand.component):
            say("minimize: pruning heads")
            targets, edited, comp, minimized_from = _minimized(m, tok, amap, cand.component, targets, edited,
                                                               trained, texts, config, train_facts, sel)
        cand.seconds = time.perf_counter() - t0
        cand.passed = not cand.reasons
        attempts.append((cand, targets, train, edited, minimized_from, comp, kept))
        if cand.passed:
            break
        say(f"refused {arch.short_name(cand.component)}: " + "; ".join(cand.reasons))
    tried = [{"component": a[0].component, "regressions": list(a[0].reasons)} | a[0].marks for a in attempts]
    passed = attempts[-1][0].passed  # the loop stops at the first candidate that passes
    cand, targets, train, edited, minimized_from, comp, train_facts = attempts[-1] if passed else attempts[0]
    say("eval: " + ", ".join(p.name for p in panel_list))
    before = evals.base_results(m, tok, panel_list, base_fingerprint(), progress=progress)
    saved = apply_edit(m, edited)
    try:
        after = [evals.run_panel(m, tok, p, progress=progress) for p in panel_list]
    finally:
        restore(m, saved)
    repaired = judge.repaired_prompts(fact_list)
    rows = [judge.panel_row(evals, p, b, a, tol, repaired) for p, b, a in zip(panel_list, before, after)]
    regressions = judge.regressions(rows, tol)
    if not passed:
        regressions = [f"selection: no candidate passed ({len(tried)} tried)"] + regressions
    n_params = slice_params(m, targets, {k: v.shape for k, v in edited.items()})
    closed = bool(train.details)
    # what the shipped edit trained besides the facts (each one's first paraphrase, the shipped wordings of its
    # question, the contexts unless it is a plain memory): a reported paraphrase is never one of these, and an auditor
    # can see so
    besides = found.variants(cand)
    record = _method(comp, targets, config, train, all_facts + besides, found.preserved if closed else texts, preserve,
                     n_params, minimized_from)
    record["wordings_trained"] = [p for p, _ in besides]
    if closed and train.details.get("method") == "memory":
        from patchkit import memory

        record["kind"] = ("key-value memory neurons (one MLP neuron added per fact, gate/up rows and down column; every "
                          "layer's MLP widened by as many zero neurons)" if train.details.get("grow") else
                          "key-value memory neurons (one little-used MLP neuron per fact, gate/up rows and down column)")
        record["losses"] = {"targets": "per fact, the change of the MLP's output at the subject's last token that "
                                      "makes the target win by the margin (Adam on that vector only)",
                            "memory": memory.FORMULA, "final": train.losses[-1] if train.losses else None}
        record["hyperparameters"] = train.details["config"]
        record["memory"] = {k: v for k, v in train.details.items() if k != "config"}
    elif closed:
        record["kind"] = "closed-form key-value edit (ROME/MEMIT-style least squares on one slice)"
        record["losses"] = {"targets": "per fact, the change of the slice's output at the edit position (the subject's "
                                      "last token; for an override head, the prompt's last token) that "
                                      "makes the target win by the margin (Adam on that vector only)",
                            "solve": solve.formula(train.details.get("config", solve_config.to_dict())),
                            "final": train.losses[-1] if train.losses else None}
        record["hyperparameters"] = train.details.get("config", solve_config.to_dict())
        record["solve"] = {k: v for k, v in train.details.items() if k != "config"}
    if closed:
        record["preserve"]["self_samples"] = len(found.preserved or []) - len(texts)
        if train.details.get("dropped"):
            record["facts_trained"] = len(train_facts)  # the facts the edit holds; "dropped" lists the rest
    record["search"] = {
        "named": bool(named),
        "share": share,
        "screen": {"closed-form ranges": "mean k^T C^-1 k per neuron: how unlike preserved inputs the facts' keys are",
                   "trained slices": "|G|^2 / sqrt(tr(G C G^T)): fact-loss gradient against preserved-input second moment"},
        "override_head": found.head,
        "candidates": [c.to_dict() for c in found.ranked[: max(len(found.to_try), 10)]],
        "selection": sel.summary() | {"guards": len(guard_prompts)},
    }
    record["triage"] = {"counts": report.counts, "thresholds": report.thresholds}
    result = SurgeryResult(None, comp, targets, list(train_facts), [] if include_absent else absent, rows,
                           regressions, n_params, model_params, train, record, 0.0, minimized_from, edited)
    result.after_predictions = list(after[0].predictions)
    result.triage_counts = report.counts
    result.tried = tried
    result.candidates = found.ranked[: max(len(found.to_try), 10)]
    result.selection = record["search"]["selection"]
    fix_set = {(f.prompt, f.target) for f in fixable}
    result.routing_fixed = (sum(1 for f, pred in zip(panel_list[0].items, after[0].predictions)
                                if (f.prompt, f.target) in fix_set and pred == f.target), len(fix_set))
    result.paraphrases_fixed = _paraphrases_fixed(panel_list, before, after)
    if regressions and not allow_regressions:
        result.seconds = time.perf_counter() - start
        raise SurgeryRegression(result)
    if out is not None:
        from patchkit import engine

        extra = {judge.panel_file(p): p.path for p in panel_list if p.kind != "paraphrases"}
        labels = {t.tensor: arch.short_name(t.label) for t in result.targets if t.label}  # the slice lists neurons
        result.patch = engine.create(
            base_path, result.edited, out, key=key, name=name or Path(out).name,
            description=description or _describe(result.component, train_facts, result.params,
                                                  result.closed_form, train.details.get("grow")),
            method=result.method, evals={"panels": [dict(r) for r in result.panels]}, extra_files=extra,
            labels=labels, force=force, grow_spec=_grow_spec(amap, train),
        )
    result.seconds = time.perf_counter() - start
    return result


def _cannot_grow(base_path: str | Path, amap: Any) -> str | None:
    """Why a patch could not widen ``base_path``'s MLPs (a bare weight file, a header not laid out as the safetensors
    library writes it, a config without one plain ``intermediate_size``, an index whose ``total_size`` would not come back
    byte for byte), or None when it can."""
    from patchkit import engine
    from patchkit.checkpoint import Checkpoint

    try:
        engine.check_growable(Checkpoint.open(base_path), amap.grow_spec(amap.d_mlp + 1))
    except errors.PatchkitError as exc:
        return str(exc)
    return None


def _widened(amap: Any, train: TrainResult) -> Any:
    """``amap`` with the MLP width a memory edit's added neurons give (``amap`` itself when it added none)."""
    grown = train.details.get("grow")
    return amap.widened(grown["to"]) if grown else amap


def _grow_spec(amap: Any, train: TrainResult) -> Any:
    """How the patch widens the checkpoint's MLPs for the neurons a memory edit added, or None."""
    grown = train.details.get("grow")
    return amap.grow_spec(grown["to"]) if grown else None


def _load_guards(paths: Sequence[str | Path]) -> list[str]:
    """Guard prompts from facts JSON Lines (``prompt`` field) or plain text (one a line)."""
    return [t for p in paths for t in _read_texts(Path(p), ("prompt",), "guard")]


def _selection(m: Any, tok: Any, selection: Any, facts: Sequence[tuple[str, str]], reported: set[str],
               guards: Sequence[str], auto: bool, variants: Sequence[tuple[str, str]],
               say: Callable[[str], None], questions: bool = False, wordings: bool = False,
               contexts: bool = False) -> Any:
    """The selection set: auto-built neighbours and generic prompts, the user's guards, the trained variants
    (with ``wordings``, also the shipped wordings of each fact's question; with ``contexts``, each fact after the
    openings of :data:`patchkit.selection.CONTEXTS`)."""
    if auto:
        sel = selection.build(m, tok, [p for p, _ in facts], exclude=reported, questions=questions)
    else:
        sel = selection.SelectionSet({}, [], [], [], [])
    if guards:
        sel.judge_generic.extend(selection.probe(m, tok, [g for g in guards if g not in reported]))
    # each fact's first paraphrase (the user's), then the shipped wordings of its question (never a reported prompt)
    shipped = [(w, t) for p, t in facts for w in sel.wordings.get(p, ())] if wordings else []
    opened = [(c, t) for p, t in facts for c in selection.in_contexts(p) if c not in reported] if contexts else []
    given = set(variants)
    sel.train_variants = list(variants) + [v for v in dict.fromkeys(shipped + opened) if v not in given]
    sel.contexts = [v for v in opened if v not in given]
    if sel.contexts:
        judging = {q.prompt for q in sel.judge}
        asked = selection.known_questions(m, tok, [p for p, _ in facts], sel.templates,
                                          exclude=reported | judging | {v for v, _ in sel.train_variants})
        sel.contexts_judge = [q for _, q in asked]
        sel.contexts_asked = {q.prompt: p for p, q in asked}
    say(f"selection: {len(sel.judge_neighbours)} neighbours + {len(sel.judge_generic)} generic prompts "
        + (f"+ {len(sel.judge_questions)} other questions about the subjects " if sel.train_questions is not None else "")
        + "judge, "
        f"{len(sel.train_neighbours)} neighbours preserved, {len(sel.train_variants)} paraphrases trained")
    return sel


def _minimized(m: Any, tok: Any, amap: Any, component: str, targets: list[SliceTarget],
               edited: dict[str, torch.Tensor], trained: Sequence[tuple[str, str]], texts: Sequence[str],
               config: SurgeryConfig, facts: Sequence[tuple[str, str]], sel: Any) -> tuple:
    from patchkit import evals
    from patchkit.minimize import minimize as prune

    panel = [evals.facts_panel([evals.Fact(p, t) for p, t in facts], name="facts")]
    before = [evals.run_panel(m, tok, panel[0])]
    new_targets, new_edited, kept = prune(m, tok, amap, component, targets, edited, trained, texts, config,
                                          panel, before, DEFAULT_TOLERANCES, evals)
    from patchkit import judge

    if kept and not judge.selection_reasons(m, tok, new_edited, facts, sel.judge):
        check_untouched({k: v.detach() for k, v in m.named_parameters()}, new_edited, new_targets)
        return new_targets, new_edited, kept, component
    return targets, edited, component, None


def _paraphrases_fixed(panel_list: Sequence[Any], before: Sequence[Any], after: Sequence[Any]) -> tuple[int, int]:
    """Of the facts the edit repaired, how many of their reported paraphrases are right after."""
    facts_panel, fb, fa = panel_list[0], before[0], after[0]
    repaired = {f.prompt for f, b, a in zip(facts_panel.items, fb.predictions, fa.predictions)
                if b != f.target and a == f.target}
    for p, b, a in zip(panel_list, before, after):
        if p.kind == "paraphrases":
            from patchkit.evals import reported_paraphrases

            owner = [f.prompt for f in facts_panel.items for _ in reported_paraphrases(f, p.skip_trained)]
            hits = [pred == item.target for item, pred in zip(p.items, a.predictions)]
            mine = [h for o, h in zip(owner, hits) if o in repaired]
            return sum(mine), len(mine)
    return 0, 0


class SurgeryRegression(errors.RegressionError):
    """A RegressionError that carries the measured :class:`SurgeryResult` (for the table)."""

    def __init__(self, result: SurgeryResult):
        self.result = result
        if len(result.tried) > 1 and all(t["regressions"] for t in result.tried):
            what = "every component tried is refused: " + "; ".join(
                f"{arch.short_name(t['component'])}: " + ", ".join(t["regressions"]) for t in result.tried
            )
        else:
            what = "edit regresses " + "; ".join(result.regressions)
        super().__init__(what + " (nothing written; --allow-regressions to write anyway)")


def _method(component: str, targets: Sequence[SliceTarget], config: SurgeryConfig, train: TrainResult,
            facts: Sequence[tuple[str, str]], texts: Sequence[str], preserve: Sequence[str | Path],
            n_params: int, minimized_from: str | None) -> dict[str, Any]:
    import hashlib
    import json

    import transformers

    from patchkit import __version__

    pres_sha = hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode()).hexdigest()
    return {
        "kind": "slice-masked fine-tuning",
        "component": component,
        "minimized_from": minimized_from,
        "tensors": [{"tensor": t.tensor, "slices": arch.slices_json(t.slices), "label": t.label}
                    for t in targets],
        "params": n_params,
        "losses": {
            "ce": "cross-entropy on the target tokens (teacher-forced)",
            "kl": "KL(base || edited) on next-token distributions of preservation texts",
            "final": train.losses[-1] if train.losses else None,
        },
        "hyperparameters": {k: v for k, v in config.to_dict().items() if k != "seed"} | {"optimizer": "Adam"},
        "seed": config.seed,
        "facts_trained": len(facts),
        "preserve": {"texts": len(texts), "sha256": pres_sha, "files": ["patchkit/data/preserve.jsonl"] + [str(p) for p in preserve]},
        "train_seconds": round(train.seconds, 2),
        "versions": {"patchkit": __version__, "torch": torch.__version__, "transformers": transformers.__version__},
    }


def _describe(component: str, facts: Sequence[tuple[str, str]], n_params: int, closed_form: bool = False,
              grown: Mapping[str, Any] | None = None) -> str:
    if grown:  # added memory neurons: say the model grows
        added = grown["to"] - grown["from"]
        return (f"Repairs {len(facts)} facts by adding {added} memory neurons, {arch.short_name(component)} "
                f"({n_params:,} parameters); every layer's MLP is widened by {added} zero neurons.")
    how = "a closed-form edit of" if closed_form else "training"
    return f"Repairs {len(facts)} facts by {how} only {arch.short_name(component)} ({n_params:,} parameters)."


def _step_bar(steps: int) -> Callable[[int, dict[str, float]], None]:
    from patchkit.progress import bar as make_bar

    bar = make_bar(total=steps, desc="surgery", unit="step")

    def update(step: int, rec: dict[str, float]) -> None:
        bar.update(1)
        bar.set_postfix(ce=f"{rec['ce']:.3f}", kl=f"{rec['kl']:.4f}")
        if step >= steps or rec.get("last"):
            bar.close()

    return update


def format_table(result: SurgeryResult) -> str:
    """The before/after table, in the style of the original write-up."""
    from patchkit import evals

    lines = [f"component {arch.short_name(result.component)}: {result.params:,} parameters "
             f"({result.params / max(result.model_params, 1):.3%} of {result.model_params:,})"]
    if result.minimized_from:
        lines[0] += f" (minimized from {result.minimized_from})"
    for t in result.tried:
        if t["regressions"] and t["component"] != result.component:
            lines.append(f"refused {arch.short_name(t['component'])}: " + "; ".join(t["regressions"]))
    wide = evals.name_width(r["name"] for r in result.panels)  # "smollm2_near8.paraphrases" runs into no column
    lines.append(f"{'panel':<{wide}}{'kind':<14}{'before':>12}{'after':>12}{'changed':>9}")
    for r in result.panels:
        if r["metric"] == "accuracy":
            b, a = f"{int(r['before'])}/{r['n']}", f"{int(r['after'])}/{r['n']}"
        else:
            b, a = f"{r['before']:.2f}", f"{r['after']:.2f}"
        lines.append(f"{r['name']:<{wide}}{r['kind']:<14}{b:>12}{a:>12}{r['changed']:>9}")
        if r.get("changed_repaired"):
            lines.append(f"  ({r['changed_repaired']} of them ask a repaired fact: judged by the facts panel)")
    if result.routing_fixed[1]:
        lines.append(f"fixable facts fixed (routing + near misses): {result.routing_fixed[0]}/{result.routing_fixed[1]}")
    if result.paraphrases_fixed[1]:
        lines.append(f"paraphrases of repaired facts right after: {result.paraphrases_fixed[0]}/{result.paraphrases_fixed[1]}")
    if result.skipped_absent:
        lines.append(f"skipped (absent, needs training not surgery): {len(result.skipped_absent)}")
    lines.append("regressions: " + ("; ".join(result.regressions) if result.regressions else "none"))
    return "\n".join(lines)


