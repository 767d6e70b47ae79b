"""Slice-masked training: repair a routing failure by changing one small slice.

Why this shape: a routing failure means the model already carries the right
answer and one component overrides it, so the fix should touch that component
only. Every parameter is frozen; the trainable tensors are *copies of the
slices* that the architecture map resolves for the component, written into a
clone of the frozen weight on every forward pass. Nothing outside the slices
can receive a gradient or change, by construction, and :func:`check_untouched`
proves it bit for bit afterwards.

Losses: cross-entropy on the target tokens of each fact (multi-token targets
teacher-forced) plus ``kl_weight`` × KL(base ‖ edited) on the next-token
distributions of preservation text, so the rest of the model's behaviour stays
put. Optimiser: Adam, full batch, fixed seed, so a run is deterministic on CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.func import functional_call

from patchkit import errors

# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurgeryConfig:
    """Hyper-parameters of one surgery run; recorded in the patch's ``method``.

    Defaults are the ones measured on SmolLM2-135M (docs/repair.md): 30 Adam
    steps at lr 2e-3 on all facts, KL weight 50 on 8 preservation texts per
    step, fix the capitals panel on L15.attn.v without changing any answer on
    the general or side-effect panels (KL weight 5 changed one low-margin
    general answer, "The opposite of big is").
    """

    steps: int = 30
    lr: float = 2e-3
    ce_weight: float = 1.0
    kl_weight: float = 50.0
    seed: int = 0
    stop_margin: float | None = None  # stop once every target token leads by this many logits (None: run all steps)
    preserve_batch: int = 8  # preservation texts per step (a seeded rotation through the set)
    max_preserve_tokens: int = 64  # per preservation text, after tokenisation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SliceTarget:
    """One trainable region: ``tensor[slices]``. Mirrors arch.TensorSlice."""

    tensor: str
    slices: tuple[slice, ...]
    label: str = ""


def as_targets(items: Iterable[Any]) -> list[SliceTarget]:
    """Accept arch.TensorSlice objects (or anything with tensor/slices/label)."""
    return [SliceTarget(i.tensor, tuple(i.slices), getattr(i, "label", "") or "") for i in items]


def slice_params(model: torch.nn.Module, targets: Sequence[SliceTarget]) -> int:
    """Number of distinct parameters covered by ``targets`` (overlaps counted once)."""
    sd = dict(model.named_parameters())
    masks: dict[str, torch.Tensor] = {}
    for t in targets:
        if t.tensor not in sd:
            raise errors.ComponentError(f"{t.tensor}: no such tensor in the model")
        m = masks.setdefault(t.tensor, torch.zeros(sd[t.tensor].shape, dtype=torch.bool))
        m[t.slices] = True
    return int(sum(int(m.sum()) for m in masks.values()))


# --- data ------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """Right-padded token ids and a mask of the positions a loss reads."""

    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    # positions whose *next-token* prediction is scored: (batch, pos) index lists
    rows: torch.Tensor
    cols: torch.Tensor
    labels: torch.Tensor  # next-token ids at (rows, cols); unused for KL


def _pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def _pad_id(tokenizer: Any) -> int:
    for tok_id in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if tok_id is not None:
            return int(tok_id)
    return 0


def encode_fact(tokenizer: Any, prompt: str, target: str) -> tuple[list[int], list[int]]:
    """Prompt ids and target ids, tokenised apart so the boundary is exact."""
    p = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    t = tokenizer(target, add_special_tokens=False)["input_ids"]
    if not t:
        raise errors.UsageError(f"fact {prompt!r}: target {target!r} tokenises to nothing")
    return list(p), list(t)


def _fact_batch(tokenizer: Any, facts: Sequence[tuple[str, str]]) -> _Batch:
    seqs, rows, cols, labels = [], [], [], []
    for b, (prompt, target) in enumerate(facts):
        p, t = encode_fact(tokenizer, prompt, target)
        seqs.append(p + t)
        for j, tok in enumerate(t):  # position len(p)-1+j predicts t[j]
            rows.append(b)
            cols.append(len(p) - 1 + j)
            labels.append(tok)
    ids, mask = _pad(seqs, _pad_id(tokenizer))
    return _Batch(ids, mask, torch.tensor(rows), torch.tensor(cols), torch.tensor(labels))


def _encode_texts(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    out = []
    for text in texts:
        ids = list(tokenizer(text, add_special_tokens=True)["input_ids"][:max_tokens])
        if ids:
            out.append(ids)
    return out


def _text_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> _Batch:
    """Every real position's next-token distribution is scored (for the KL)."""
    rows = [b for b, s in enumerate(seqs) for _ in s]
    cols = [j for s in seqs for j in range(len(s))]
    ids, mask = _pad(seqs, pad_id)
    return _Batch(ids, mask, torch.tensor(rows), torch.tensor(cols), torch.zeros(0, dtype=torch.long))


# --- training --------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train_slices` returns: edited full tensors and the loss curve."""

    edited: dict[str, torch.Tensor]
    losses: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def _edited_weights(
    base: Mapping[str, torch.Tensor], targets: Sequence[SliceTarget], trainables: Sequence[torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Clone each touched weight and write its trainable slices in (differentiably)."""
    out: dict[str, torch.Tensor] = {}
    for t, p in zip(targets, trainables):
        w = out.get(t.tensor)
        if w is None:
            w = base[t.tensor].clone()
        w[t.slices] = p
        out[t.tensor] = w
    return out


def _logits_at(model: torch.nn.Module, weights: Mapping[str, torch.Tensor], batch: _Batch) -> torch.Tensor:
    """Logits at the scored positions only.

    Runs the backbone, then the output head on just the positions a loss
    reads: the head is a vocabulary-sized matmul, and padding and prompt
    positions would otherwise dominate the cost of a step.
    """
    backbone = model.base_model
    prefix = model.base_model_prefix + "."
    inner = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
    outer = {k: v for k, v in weights.items() if not k.startswith(prefix)}
    if outer:  # an edit to the output head itself: fall back to the full model
        out = functional_call(
            model, dict(weights), args=(), kwargs={"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
        )
        return out.logits[batch.rows, batch.cols].float()
    hidden = functional_call(
        backbone, inner, args=(), kwargs={"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
    ).last_hidden_state
    return model.get_output_embeddings()(hidden[batch.rows, batch.cols]).float()


def train_slices(
    model: torch.nn.Module,
    tokenizer: Any,
    facts: Sequence[tuple[str, str]],
    targets: Sequence[SliceTarget],
    *,
    preserve: Sequence[str] = (),
    config: SurgeryConfig = SurgeryConfig(),
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train only ``targets``' slices so that each fact's target is predicted.

    Args:
        model: a causal LM; it is not modified (the edit lives in the result).
        tokenizer: its tokenizer.
        facts: ``(prompt, target)`` pairs; targets usually start with a space.
        targets: the (tensor, slice) regions that may change.
        preserve: texts whose next-token distributions must not move (KL).
        config: hyper-parameters.
        progress: called after each step with ``(step, losses)``.
    Returns:
        :class:`TrainResult` with the full edited tensors, keyed by name.

    Example:
        >>> res = train_slices(model, tok, [("The capital of Poland is", " Warsaw")],
        ...                    [SliceTarget("model.layers.15.self_attn.v_proj.weight", (slice(None),) * 2)])
    """
    from patchkit.models import single_thread

    # One intra-op thread: the same thread count every run makes the result
    # bit-reproducible, and on shared cores two threads' barriers are 10x slower.
    with single_thread():
        return _train_slices(model, tokenizer, facts, targets, preserve, config, progress)


def _train_slices(model: torch.nn.Module, tokenizer: Any, facts: Sequence[tuple[str, str]],
                  targets: Sequence[SliceTarget], preserve: Sequence[str], config: SurgeryConfig,
                  progress: Callable[[int, dict[str, float]], None] | None) -> TrainResult:
    if not facts:
        raise errors.UsageError("no facts to train on")
    if not targets:
        raise errors.ComponentError("no slices to train")
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    was_training = model.training
    params = dict(model.named_parameters())
    grad_flags = {name: p.requires_grad for name, p in params.items()}
    model.eval()
    model.requires_grad_(False)  # frozen: only the slice copies below get gradients
    for t in targets:
        if t.tensor not in params:
            raise errors.ComponentError(f"{t.tensor}: no such tensor in the model")
    base = {name: params[name].detach() for name in {t.tensor for t in targets}}
    trainables = [base[t.tensor][t.slices].clone().float().requires_grad_(True) for t in targets]
    dtypes = {name: w.dtype for name, w in base.items()}

    fact_batch = _fact_batch(tokenizer, facts)
    pad_id = _pad_id(tokenizer)
    texts = _encode_texts(tokenizer, preserve, config.max_preserve_tokens) if config.kl_weight > 0 else []
    base_logp = _base_logprobs(model, texts, pad_id)
    order = _preserve_schedule(len(texts), config)
    opt = torch.optim.Adam(trainables, lr=config.lr)
    losses: list[dict[str, float]] = []
    try:
        for step in range(config.steps):
            opt.zero_grad(set_to_none=True)
            cast = [p.to(dtypes[t.tensor]) for t, p in zip(targets, trainables)]
            weights = _edited_weights(base, targets, cast)
            fact_logits = _logits_at(model, weights, fact_batch)
            if config.stop_margin is not None and _margin(fact_logits, fact_batch.labels) >= config.stop_margin:
                break  # every target already wins by the margin: more steps only add side effects
            ce = torch.nn.functional.cross_entropy(fact_logits, fact_batch.labels)
            loss = config.ce_weight * ce
            kl = torch.zeros(())
            if texts:
                pick = order[step]
                batch = _text_batch([texts[i] for i in pick], pad_id)
                logp = torch.log_softmax(_logits_at(model, weights, batch), dim=-1)
                ref = torch.cat([base_logp[i] for i in pick])
                kl = torch.nn.functional.kl_div(logp, ref, log_target=True, reduction="batchmean")
                loss = loss + config.kl_weight * kl
            loss.backward()
            opt.step()
            rec = {"step": step + 1, "loss": loss.item(), "ce": ce.item(), "kl": kl.item()}
            losses.append(rec)
            if progress is not None:
                progress(step + 1, rec)
    finally:
        model.train(was_training)
        for name, p in params.items():
            p.requires_grad_(grad_flags[name])
    with torch.no_grad():
        final = [p.detach().to(dtypes[t.tensor]) for t, p in zip(targets, trainables)]
        edited = {k: v.detach().clone() for k, v in _edited_weights(base, targets, final).items()}
    return TrainResult(edited=edited, losses=losses, seconds=time.perf_counter() - start)


def _base_logprobs(model: torch.nn.Module, texts: Sequence[Sequence[int]], pad_id: int) -> list[torch.Tensor]:
    """The frozen model's next-token log-probabilities per text, computed once.

    Texts are batched in order of length so padding costs little.
    """
    out: list[torch.Tensor | None] = [None] * len(texts)
    by_len = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.no_grad():
        for k in range(0, len(by_len), 16):
            idx = by_len[k : k + 16]
            batch = _text_batch([texts[i] for i in idx], pad_id)
            logp = torch.log_softmax(_logits_at(model, {}, batch), dim=-1)
            for i, chunk in zip(idx, logp.split([len(texts[i]) for i in idx])):
                out[i] = chunk
    return [t for t in out if t is not None]


def _preserve_schedule(n: int, config: SurgeryConfig) -> list[list[int]]:
    """Which preservation texts each step reads: seeded shuffles, cycled.

    A fixed seed gives the same schedule on every machine (torch's CPU
    generator is platform-independent).
    """
    if n == 0:
        return [[] for _ in range(config.steps)]
    gen = torch.Generator().manual_seed(config.seed)
    k = min(config.preserve_batch, n)
    flat: list[int] = []
    while len(flat) < k * config.steps:
        flat.extend(torch.randperm(n, generator=gen).tolist())
    return [flat[i * k : (i + 1) * k] for i in range(config.steps)]


def _margin(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Smallest lead of the target token over the best other token, across all target positions."""
    with torch.no_grad():
        target = logits.gather(1, labels[:, None])[:, 0]
        other = logits.scatter(1, labels[:, None], float("-inf")).max(dim=1).values
        return float((target - other).min())


def check_untouched(
    base: Mapping[str, torch.Tensor], edited: Mapping[str, torch.Tensor], targets: Sequence[SliceTarget]
) -> None:
    """Prove that nothing outside the target slices changed, bit for bit.

    ``edited`` holds the full edited tensors (any tensor not in it is the base
    tensor itself, untouched by construction). Raises IntegrityError otherwise.
    """
    for name, w in edited.items():
        b = base[name]
        if w.shape != b.shape or w.dtype != b.dtype:
            raise errors.IntegrityError(f"{name}: edited tensor is {w.dtype}{list(w.shape)}, base {b.dtype}{list(b.shape)}")
        outside = torch.ones(b.shape, dtype=torch.bool)
        for t in targets:
            if t.tensor == name:
                outside[t.slices] = False
        same = w.view(_int_view(w)) == b.view(_int_view(b))
        if not bool(same[outside].all()):
            raise errors.IntegrityError(f"{name}: elements outside the trained slice changed")


def _int_view(t: torch.Tensor) -> torch.dtype:
    return {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]


def apply_edit(model: torch.nn.Module, edited: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Write ``edited`` tensors into ``model`` in place; returns the originals for :func:`restore`."""
    params = dict(model.named_parameters())
    saved = {}
    with torch.no_grad():
        for name, w in edited.items():
            saved[name] = params[name].detach().clone()
            params[name].copy_(w)
    return saved


def restore(model: torch.nn.Module, saved: Mapping[str, torch.Tensor]) -> None:
    """Undo :func:`apply_edit`."""
    apply_edit(model, saved)


# --- the command: diagnose, train, measure, refuse or ship ------------------------------------

# Regression tolerances, per panel kind. Counts are answers; perplexity is relative.
DEFAULT_TOLERANCES: dict[str, float] = {
    "facts": 0,  # no fact that was right may become wrong
    "general": 0,  # changed answers allowed
    "side_effects": 0,
    "paraphrases": 0,  # paraphrases right before must stay right
    "perplexity": 0.01,  # |after/before - 1|
}


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
    routing_fixed: tuple[int, int] = (0, 0)  # (fixed, routing failures) on the facts panel
    tried: list[dict[str, Any]] = field(default_factory=list)  # components judged, in order: name, regressions
    after_predictions: list[str] = field(default_factory=list, repr=False)  # the facts panel's, after the edit

    def to_dict(self) -> dict[str, Any]:
        return {
            "patch": str(self.patch) if self.patch else None,
            "component": self.component,
            "params": self.params,
            "model_params": self.model_params,
            "share": self.params / self.model_params if self.model_params else 0.0,
            "trained_facts": [list(f) for f in self.trained_facts],
            "skipped_absent": self.skipped_absent,
            "panels": self.panels,
            "regressions": self.regressions,
            "minimized_from": self.minimized_from,
            "triage": self.triage_counts,
            "routing_fixed": list(self.routing_fixed),
            "tried": self.tried,
            "seconds": round(self.seconds, 2),
            "train_seconds": round(self.train.seconds, 2),
            "final_loss": self.train.losses[-1] if self.train.losses else None,
        }


def load_preserve(paths: Sequence[str | Path] = (), default: bool = True) -> list[str]:
    """Preservation texts: the shipped ``data/preserve.jsonl`` plus user files.

    A user file is JSON Lines (``{"text": ...}`` or ``{"prompt": ...}`` per line)
    or plain text (one text per non-empty line).
    """
    import json
    from importlib import resources

    files: list[Path] = []
    if default:
        files.append(Path(str(resources.files("patchkit") / "data" / "preserve.jsonl")))
    files.extend(Path(p) for p in paths)
    texts: list[str] = []
    for f in files:
        if not f.is_file():
            raise errors.UsageError(f"{f}: no such preservation file")
        for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            if f.suffix == ".jsonl":
                try:
                    obj = json.loads(line)
                    texts.append(obj["text"] if "text" in obj else obj["prompt"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise errors.SchemaError(f"{f}:{lineno}: expected a JSON object with a 'text' (or 'prompt') string") from None
            else:
                texts.append(line)
    return texts


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
) -> SurgeryResult:
    """Repair the routing failures in ``facts`` by training one component's slice, and ship a patch.

    Args:
        model: checkpoint directory or prepared-model name (``smollm2``).
        facts: facts JSON Lines file (``schemas/facts.schema.json``).
        out: patch directory to write (None: measure only, write nothing).
        key: private key to sign with (``patchkit keygen``).
        component: e.g. ``L15.attn.v`` or ``L15.attn.v.h2``; default: triage's suggestion. A sequence
            of names is tried in order: each refused one is reported, the first whose edit passes
            every panel ships.
        config: training hyper-parameters.
        preserve: extra preservation files (added to the shipped set).
        panels: extra eval panels (facts files judged as side effects, or ``.txt`` perplexity).
        default_panels: also run the shipped general, side-effect and perplexity panels.
        include_absent: also train facts triaged ``absent`` (default: report and skip them).
        minimize: prune the slice to the fewest heads that still do the job.
        allow_regressions: write the patch even if a panel regresses beyond tolerance (with several
            components and none passing: the first one's).
    Returns:
        A :class:`SurgeryResult` (``.patch`` is the written directory).
    Raises:
        RegressionError: a panel regressed (for every component tried) and ``allow_regressions``
            is False (nothing written).

    Example:
        >>> surgery("smollm2", "capitals.jsonl", "fix/", key="key.pem")   # doctest: +SKIP
    """
    from patchkit import arch, evals, models, triage
    from patchkit.resolve import resolve_model

    say = log or (lambda _m: None)
    start = time.perf_counter()
    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    base_path = resolve_model(model)
    m, tok = models.load_model(base_path)
    fact_list = evals.load_facts(facts)
    amap = arch.for_model(m)

    say(f"triage: {len(fact_list)} facts")
    report = triage.triage(m, tok, fact_list, progress=progress)
    by_prompt = {(i.prompt, i.target): i for i in report.items}
    absent = [f.prompt for f in fact_list if by_prompt[(f.prompt, f.target)].verdict == "absent"]
    train_facts = [
        (f.prompt, f.target)
        for f in fact_list
        if include_absent or by_prompt[(f.prompt, f.target)].verdict != "absent"
    ]
    failing = [f for f in fact_list if by_prompt[(f.prompt, f.target)].verdict != "ok"]
    if isinstance(component, str):
        candidates = [component]
    elif component:
        candidates = list(component)
    else:
        candidates = [report.suggested_component] if report.suggested_component else []
    if not candidates:
        raise errors.UsageError("triage found no routing failure to repair; name one with --component")
    for c in candidates:
        amap.resolve(c)  # a bad name fails before any training
    say(f"triage: {report.counts}; component{'s' if len(candidates) > 1 else ''} {', '.join(candidates)}; "
        f"absent skipped: {len(absent) if not include_absent else 0}")
    if not [f for f in failing if include_absent or f.prompt not in absent]:
        raise errors.UsageError("no failing fact to repair (all ok or absent; --include-absent trains absent ones)")

    panel_list = _panels(evals, Path(facts), panels, default_panels)
    say("eval before: " + ", ".join(p.name for p in panel_list))
    before = [evals.run_panel(m, tok, p, progress=progress) for p in panel_list]
    texts = load_preserve(preserve)

    tried: list[SurgeryResult] = []
    for cand in candidates:
        if len(candidates) > 1:
            say(f"surgery: training {cand}")
        result = _attempt(m, tok, amap, evals, cand, train_facts, texts, preserve, config, panel_list, before, tol,
                          minimize, progress, say)
        result.skipped_absent = absent if not include_absent else []
        result.triage_counts = report.counts
        routing = {(i.prompt, i.target) for i in report.group("routing")}
        fixed = sum(1 for f, pred in zip(panel_list[0].items, result.after_predictions)
                    if (f.prompt, f.target) in routing and pred == f.target)
        result.routing_fixed = (fixed, len(routing))
        tried.append(result)
        if not result.regressions:
            break
        if len(candidates) > 1:
            say(f"refused {cand}: " + "; ".join(result.regressions))
    passed = [r for r in tried if not r.regressions]
    result = passed[0] if passed else tried[0]
    result.tried = [{"component": r.component, "regressions": list(r.regressions)} for r in tried]
    if not passed and not allow_regressions:
        result.seconds = time.perf_counter() - start
        raise SurgeryRegression(result)
    if out is not None:
        from patchkit import engine

        extra = {_panel_file(p): p.path for p in panel_list if p.kind != "paraphrases"}
        labels = {t.tensor: t.label for t in result.targets if t.label}
        result.patch = engine.create(
            base_path, result.edited, out, key=key, name=name or Path(out).name,
            description=description or _describe(result.component, train_facts, result.params),
            method=result.method, evals={"panels": [dict(r) for r in result.panels]}, extra_files=extra,
            labels=labels, force=force,
        )
    result.seconds = time.perf_counter() - start
    return result


def _attempt(m: Any, tok: Any, amap: Any, evals: Any, component: str, train_facts: Sequence[tuple[str, str]],
             texts: Sequence[str], preserve: Sequence[str | Path], config: SurgeryConfig,
             panel_list: Sequence[Any], before: Sequence[Any], tol: Mapping[str, float], minimize: bool,
             progress: bool, say: Callable[[str], None]) -> SurgeryResult:
    """Train one component, check the slice, optionally minimize, and judge the edit on every panel."""
    targets = as_targets(amap.resolve(component))
    train = train_slices(m, tok, train_facts, targets, preserve=texts, config=config,
                         progress=_step_bar(config.steps) if progress else None)
    base_sd = {k: v.detach() for k, v in m.named_parameters()}
    check_untouched(base_sd, train.edited, targets)
    edited = train.edited
    minimized_from = None
    if minimize:
        say("minimize: pruning heads")
        targets, edited, kept = _minimize(
            m, tok, amap, component, targets, edited, train_facts, texts, config, panel_list, before, tol, evals,
        )
        if kept:
            minimized_from, component = component, kept
            say(f"minimize: kept {kept}")
        check_untouched(base_sd, edited, targets)

    saved = apply_edit(m, edited)
    try:
        after = [evals.run_panel(m, tok, p, progress=progress) for p in panel_list]
    finally:
        restore(m, saved)
    rows = [_panel_row(evals, p, b, a, tol) for p, b, a in zip(panel_list, before, after)]
    regressions = _regressions(rows, tol)
    n_params = slice_params(m, targets)
    model_params = sum(p.numel() for p in m.parameters())
    method = _method(component, targets, config, train, train_facts, texts, preserve, n_params, minimized_from)
    result = SurgeryResult(None, component, targets, list(train_facts), [], rows, regressions, n_params,
                           model_params, train, method, 0.0, minimized_from, edited)
    result.after_predictions = list(after[0].predictions)
    return result


class SurgeryRegression(errors.RegressionError):
    """A RegressionError that carries the measured :class:`SurgeryResult` (for the table)."""

    def __init__(self, result: SurgeryResult):
        self.result = result
        if len(result.tried) > 1:
            what = "every component tried regresses: " + "; ".join(
                f"{t['component']}: " + ", ".join(t["regressions"]) for t in result.tried
            )
        else:
            what = "edit regresses " + "; ".join(result.regressions)
        super().__init__(what + " (nothing written; --allow-regressions to write anyway)")


def _panels(evals: Any, facts: Path, extra: Sequence[str | Path], default: bool = True) -> list[Any]:
    """Facts panel (+ its paraphrases), the shipped panels, then the user's."""
    fp = evals.load_panel(facts, kind="facts")
    out = [fp]
    para = evals.paraphrase_panel(fp)
    if para is not None:
        out.append(para)
    if default:
        out.extend(evals.shipped_panels())
    for spec in extra:
        path = Path(spec)
        out.append(evals.load_panel(path, kind="perplexity" if path.suffix == ".txt" else "side_effects"))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise errors.UsageError(f"two panels share a name: {names}; rename a panel file")
    return out


def _panel_file(panel: Any) -> str:
    return f"panels/{panel.name}{Path(panel.path).suffix}"


def _panel_row(evals: Any, panel: Any, before: Any, after: Any, tol: Mapping[str, float]) -> dict[str, Any]:
    row = evals.compare(before, after)
    row["sha256"] = panel.sha256
    row["file"] = _panel_file(panel) if panel.kind != "paraphrases" else _panel_file_of_facts(panel)
    row["tolerance"] = tol.get(panel.kind, 0)
    if panel.kind == "paraphrases":
        row["source"] = row["file"]  # derived: each fact's paraphrased prompts, same target
    if row["metric"] == "accuracy":
        # regressions: right before, wrong after (computed from per-item correctness)
        row["broken"] = _broken(panel, before, after)
    return row


def _panel_file_of_facts(panel: Any) -> str:
    stem = panel.name[: -len(".paraphrases")] if panel.name.endswith(".paraphrases") else panel.name
    return f"panels/{stem}{Path(panel.path).suffix}"


def _broken(panel: Any, before: Any, after: Any) -> int:
    """Items right before whose answer changed (so are wrong after).

    An item counts as right when its decoded teacher-forced top-1 tokens
    spell the target; where decoding does not round-trip, the net drop in
    correct answers is the floor.
    """
    broken = sum(
        1
        for fact, b, a in zip(panel.items, before.predictions, after.predictions)
        if b == fact.target and a != b
    )
    return max(broken, before.correct - after.correct)


def _regressions(rows: Sequence[Mapping[str, Any]], tol: Mapping[str, float]) -> list[str]:
    out = []
    for r in rows:
        t = tol.get(r["kind"], 0)
        if r["metric"] == "perplexity":
            rel = r["after"] / r["before"] - 1 if r["before"] else 0.0
            if abs(rel) > t:
                out.append(f"{r['name']}: perplexity {r['before']:.3f} -> {r['after']:.3f} ({rel:+.2%}, tolerance ±{t:.0%})")
        elif r["kind"] in ("general", "side_effects"):
            if r["changed"] > t:
                out.append(f"{r['name']}: {r['changed']} changed answers (tolerance {t:g})")
        elif r.get("broken", 0) > t:
            out.append(f"{r['name']}: {r['broken']} answers right before are wrong after (tolerance {t:g})")
    return out


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
        "tensors": [{"tensor": t.tensor, "slices": [[s.start, s.stop] for s in t.slices], "label": t.label}
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


def _describe(component: str, facts: Sequence[tuple[str, str]], n_params: int) -> str:
    return f"Repairs {len(facts)} facts by training only {component} ({n_params:,} parameters)."


def _step_bar(steps: int) -> Callable[[int, dict[str, float]], None]:
    from tqdm import tqdm

    bar = tqdm(total=steps, desc="surgery", unit="step", leave=False)

    def update(step: int, rec: dict[str, float]) -> None:
        bar.update(1)
        bar.set_postfix(ce=f"{rec['ce']:.3f}", kl=f"{rec['kl']:.4f}")
        if step >= steps:
            bar.close()

    return update


def format_table(result: SurgeryResult) -> str:
    """The before/after table, in the style of the original write-up."""
    lines = [f"component {result.component}: {result.params:,} parameters "
             f"({result.params / max(result.model_params, 1):.3%} of {result.model_params:,})"]
    if result.minimized_from:
        lines[0] += f" (minimized from {result.minimized_from})"
    for t in result.tried:
        if t["regressions"] and t["component"] != result.component:
            lines.append(f"refused {t['component']}: " + "; ".join(t["regressions"]))
    lines.append(f"{'panel':<24}{'kind':<14}{'before':>12}{'after':>12}{'changed':>9}")
    for r in result.panels:
        if r["metric"] == "accuracy":
            b, a = f"{int(r['before'])}/{r['n']}", f"{int(r['after'])}/{r['n']}"
        else:
            b, a = f"{r['before']:.2f}", f"{r['after']:.2f}"
        lines.append(f"{r['name']:<24}{r['kind']:<14}{b:>12}{a:>12}{r['changed']:>9}")
    if result.routing_fixed[1]:
        lines.append(f"routing failures fixed: {result.routing_fixed[0]}/{result.routing_fixed[1]}")
    if result.skipped_absent:
        lines.append(f"skipped (absent, needs training not surgery): {len(result.skipped_absent)}")
    lines.append("regressions: " + ("; ".join(result.regressions) if result.regressions else "none"))
    return "\n".join(lines)


def _heads(amap: Any, component: str) -> list[tuple[str, list[SliceTarget]]]:
    """The per-head sub-components of ``component`` (empty if it has no heads)."""
    out = []
    for h in range(4096):
        name = f"{component}.h{h}"
        try:
            out.append((name, as_targets(amap.resolve(name))))
        except errors.ComponentError:
            break
    return out


def _restrict(base: Mapping[str, torch.Tensor], edited: Mapping[str, torch.Tensor],
              targets: Sequence[SliceTarget]) -> dict[str, torch.Tensor]:
    """The edit with its delta kept only inside ``targets`` (base values elsewhere)."""
    out: dict[str, torch.Tensor] = {}
    for t in targets:
        w = out.get(t.tensor)
        if w is None:
            w = base[t.tensor].detach().clone()
        w[t.slices] = edited[t.tensor][t.slices]
        out[t.tensor] = w
    return out


def _minimize(m: Any, tok: Any, amap: Any, component: str, targets: list[SliceTarget],
              edited: dict[str, torch.Tensor], facts: Sequence[tuple[str, str]], texts: Sequence[str],
              config: SurgeryConfig, panel_list: Sequence[Any], before: Sequence[Any],
              tol: Mapping[str, float], evals: Any) -> tuple[list[SliceTarget], dict[str, torch.Tensor], str | None]:
    """Greedy pruning by head: drop heads whose delta is not needed.

    Heads are tried in order of their delta's norm, smallest first. A head is
    dropped when the edit without it still fixes every fact the full edit
    fixed and keeps every panel within tolerance; when zeroing its delta is not
    enough, the remaining heads are retrained once without it. The caller
    re-runs every panel on the result.
    """
    heads = _heads(amap, component)
    if len(heads) < 2:
        return targets, edited, None
    base = {k: v.detach() for k, v in m.named_parameters()}
    judge = [p for p in panel_list if p.kind != "paraphrases"]
    judge_before = [b for p, b in zip(panel_list, before) if p.kind != "paraphrases"]

    def evaluate(ed: Mapping[str, torch.Tensor]) -> tuple[int, list[str]]:
        saved = apply_edit(m, ed)
        try:
            after = [evals.run_panel(m, tok, p) for p in judge]
        finally:
            restore(m, saved)
        rows = [_panel_row(evals, p, b, a, tol) for p, b, a in zip(judge, judge_before, after)]
        return sum(int(r["after"]) for r in rows if r["kind"] == "facts"), _regressions(rows, tol)

    full_correct, _ = evaluate(edited)

    def passes(ed: Mapping[str, torch.Tensor]) -> bool:
        correct, regs = evaluate(ed)
        return correct >= full_correct and not regs

    def norm(ts: Sequence[SliceTarget]) -> float:
        return float(sum(((edited[t.tensor][t.slices].double() - base[t.tensor][t.slices].double()) ** 2).sum()
                         for t in ts))

    kept = dict(heads)
    current = edited
    for name, _ in sorted(heads, key=lambda h: norm(h[1])):
        if len(kept) == 1:
            break
        cand = {k: v for k, v in kept.items() if k != name}
        cand_targets = [t for ts in cand.values() for t in ts]
        trial = _restrict(base, current, cand_targets)
        if passes(trial):
            kept, current = cand, trial
            continue
        retrained = train_slices(m, tok, facts, cand_targets, preserve=texts, config=config).edited
        if passes(retrained):
            kept, current = cand, retrained
    if len(kept) == len(heads):
        return targets, edited, None
    return [t for ts in kept.values() for t in ts], current, "+".join(kept)


