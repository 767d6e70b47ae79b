"""Slice-masked training: the loop that changes one small slice and nothing else.

Why this shape: a routing failure means the model already carries the right
answer and one component overrides it, so the fix should touch that component
only. Every parameter is frozen; the trainable tensors are *copies of the
slices* that the architecture map resolves for the component, written into a
clone of the frozen weight on every forward pass. Nothing outside the slices
can receive a gradient or change, by construction, and :func:`check_untouched`
proves it bit for bit afterwards.

Losses: cross-entropy on the target tokens of each fact (multi-token targets
teacher-forced) plus ``kl_weight`` x KL(base || edited) on the next-token
distributions of preservation text, so the rest of the model's behaviour stays
put. Optimiser: Adam, full batch, fixed seed, so a run is deterministic on CPU.

Two things make it cheaper and more local than a plain loop:

* **Activation cache.** The layers below the edited one are frozen and see the
  same inputs every step, so their output (the residual stream entering the
  edited layer) is computed once per sequence and fed in; each step runs only
  the edited layer and those above it.
* **Null-space projection** (AlphaEdit, Fang et al., ICLR 2025). The update
  ``D`` of a linear weight is used as ``D @ P``, where ``P`` projects onto the
  directions its inputs on preserved text (almost) never take. Outputs on those
  inputs then cannot move, whatever the facts' loss asks for.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.func import functional_call

from patchkit import errors

# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurgeryConfig:
    """Hyper-parameters of one surgery run; recorded in the patch's ``method``.

    Defaults were chosen on the tuning sets (bench/tune, never on the held-out
    sets; docs/repair.md): at most 60 Adam steps at lr 5e-3, stopping as soon
    as every fact's target leads by ``stop_margin`` logits; KL weight 50 on 8
    preservation texts per step plus weight 10 on 16 neighbour prompts per
    step. (The first release's 30 steps at lr 2e-3 fixed the capitals on
    L15.attn.v but only 1 of 8 tuning near misses once neighbours were kept.)
    """

    steps: int = 60
    lr: float = 5e-3
    ce_weight: float = 1.0
    kl_weight: float = 50.0
    seed: int = 0
    stop_margin: float | None = 1.0  # stop once every target token leads by this many logits (None: run all steps)
    preserve_batch: int = 8  # preservation texts per step (a seeded rotation through the set)
    max_preserve_tokens: int = 64  # per preservation text, after tokenisation
    cache_activations: bool = True  # feed the edited layer from a one-off cache of the layers below
    null_space: float | None = None  # project updates away from preserved inputs (eigenvalue ratio kept; None: off)
    neighbour_weight: float = 10.0  # weight of the KL on the neighbour prompts' answers
    neighbour_batch: int = 16  # neighbour prompts per step (a seeded rotation through them)

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


def slice_params(model: torch.nn.Module, targets: Sequence[SliceTarget],
                 shapes: Mapping[str, Sequence[int]] | None = None) -> int:
    """Number of distinct parameters covered by ``targets`` (overlaps counted once); ``shapes`` overrides the
    model's (a widened tensor's)."""
    sd = dict(model.named_parameters())
    masks: dict[str, torch.Tensor] = {}
    for t in targets:
        if t.tensor not in sd:
            raise errors.ComponentError(f"{t.tensor}: no such tensor in the model")
        shape = (shapes or {}).get(t.tensor, sd[t.tensor].shape)
        m = masks.setdefault(t.tensor, torch.zeros(tuple(shape), dtype=torch.bool))
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


def _last_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> _Batch:
    """Only each sequence's last position is scored (a prompt's next-token answer)."""
    ids, mask = _pad(seqs, pad_id)
    rows = list(range(len(seqs)))
    cols = [len(s) - 1 for s in seqs]
    return _Batch(ids, mask, torch.tensor(rows), torch.tensor(cols), torch.zeros(0, dtype=torch.long))


def _text_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> _Batch:
    """Every real position's next-token distribution is scored (for the KL)."""
    rows = [b for b, s in enumerate(seqs) for _ in s]
    cols = [j for s in seqs for j in range(len(s))]
    ids, mask = _pad(seqs, pad_id)
    return _Batch(ids, mask, torch.tensor(rows), torch.tensor(cols), torch.zeros(0, dtype=torch.long))


# --- training --------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train_slices` returns: edited full tensors, the loss curve, and how it ran."""

    edited: dict[str, torch.Tensor]
    losses: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    cached_from_layer: int | None = None  # the layer whose input was cached (None: full forward every step)
    null_space: dict[str, int] = field(default_factory=dict)  # tensor -> kept input directions (projection on)
    details: dict[str, Any] = field(default_factory=dict)  # method-specific record (e.g. the closed-form solve's λ)


def _edited_weights(
    base: Mapping[str, torch.Tensor], targets: Sequence[SliceTarget], deltas: Sequence[torch.Tensor],
    projectors: Sequence[tuple[torch.Tensor, int] | None] = (),
) -> dict[str, torch.Tensor]:
    """Clone each touched weight and add its slices' (projected) deltas in, differentiably."""
    out: dict[str, torch.Tensor] = {}
    projectors = list(projectors) or [None] * len(targets)
    for t, d, proj in zip(targets, deltas, projectors):
        w = out.get(t.tensor)
        if w is None:
            w = base[t.tensor].clone()
        if proj is not None:
            p, in_dim = proj
            d = d @ p if in_dim == 1 else p @ d
        w[t.slices] = (base[t.tensor][t.slices].float() + d).to(w.dtype)
        out[t.tensor] = w
    return out


class _Feed(torch.nn.Module):
    """Stands in for the layer just below the edited one: returns the cached residual stream."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.hidden


class _Skip(torch.nn.Module):
    """Stands in for a frozen layer whose output the cache already holds."""

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return hidden_states


class _Stop(Exception):
    """Raised by the capture hook: the layers above the captured input are not needed."""


class _PrefixCache:
    """The residual stream entering layer ``layer``, per sequence, computed once.

    ``feed(batch)`` is a context manager under which a forward pass of the
    model skips layers ``0..layer-1`` and starts from the cached stream (the
    embeddings still run; they are a table look-up).
    """

    def __init__(self, model: torch.nn.Module, layers_path: str, layer: int) -> None:
        self.model, self.layers_path, self.layer = model, layers_path, layer
        self.store: dict[tuple[int, ...], torch.Tensor] = {}

    def fill(self, seqs: Sequence[Sequence[int]], pad_id: int) -> None:
        todo = [s for s in {tuple(s) for s in seqs} if s not in self.store]
        layers = self.model.get_submodule(self.layers_path)
        captured: list[torch.Tensor] = []

        def grab(_module: Any, args: tuple, kwargs: dict) -> None:
            captured.append((args[0] if args else kwargs["hidden_states"]).detach())
            raise _Stop

        todo.sort(key=len)
        handle = layers[self.layer].register_forward_pre_hook(grab, with_kwargs=True)
        try:
            with torch.no_grad():
                for k in range(0, len(todo), 16):
                    chunk = todo[k : k + 16]
                    ids, mask = _pad(chunk, pad_id)
                    captured.clear()
                    try:
                        self.model(input_ids=ids, attention_mask=mask, use_cache=False)
                    except _Stop:
                        pass
                    for i, s in enumerate(chunk):
                        self.store[s] = captured[0][i, : len(s)].clone()
        finally:
            handle.remove()

    @contextlib.contextmanager
    def feed(self, batch: _Batch) -> Iterator[None]:
        width = batch.input_ids.shape[1]
        rows = []
        for ids, mask in zip(batch.input_ids.tolist(), batch.attention_mask.tolist()):
            h = self.store[tuple(ids[: sum(mask)])]
            rows.append(torch.nn.functional.pad(h, (0, 0, 0, width - h.shape[0])))
        feed = _Feed()
        feed.hidden = torch.stack(rows)
        layers = self.model.get_submodule(self.layers_path)
        saved = [layers[i] for i in range(self.layer)]
        try:
            for i, original in enumerate(saved):
                stand_in = feed if i == self.layer - 1 else _Skip()
                if hasattr(original, "attention_type"):  # read per layer by some models (sliding windows)
                    stand_in.attention_type = original.attention_type
                layers[i] = stand_in
            yield
        finally:
            for i, original in enumerate(saved):
                layers[i] = original


def _cache_layer(model: torch.nn.Module, targets: Sequence[SliceTarget]) -> tuple[str, int] | None:
    """``(layers_path, n)``: the decoder-layer list and the lowest edited layer, if every target is in one."""
    from patchkit import arch

    try:
        amap = arch.for_model(model.config)
    except errors.PatchkitError:
        return None
    layers = [amap.layer_of(t.tensor) for t in targets]
    if any(n is None for n in layers):
        return None
    n = min(layers)
    return (amap.layer_prefix(0).rsplit(".", 1)[0], n) if n > 0 else None


def unpadded(batch: _Batch) -> list[list[int]]:
    """Each sequence of a right-padded batch without its padding."""
    return [ids[: int(n)] for ids, n in zip(batch.input_ids.tolist(), batch.attention_mask.sum(1).tolist())]


class _SuffixCache:
    """Every layer's keys and values of the positions before each row's edit position, computed once.

    Why: a change added to the residual stream at position ``k`` of a row (the residual targets' δ, at the subject's
    last token or the prompt's last one) changes nothing before ``k`` under causal attention, so each step of
    :func:`patchkit.solve.residual_targets` needs to run only the positions from ``k`` on, reading the earlier ones'
    keys and values from here (3-4 of a short prompt's 5-11 positions: about half a step's time). Prefixes are
    left-padded to one length, and each row's position ids given, so one forward serves rows of any ``k``.

    ``batch`` is the rows' suffixes (from their edit position on): the δ goes at column 0 of every row.
    ``select(index)`` is the same for a subset of the rows.
    """

    def __init__(self, model: torch.nn.Module, full: _Batch, starts: Sequence[int]) -> None:
        self.model = model
        self.starts = torch.tensor(list(starts), dtype=torch.long)
        self.index = torch.arange(len(self.starts))
        lengths = full.attention_mask.sum(1)
        width = int(self.starts.max())
        ids = torch.zeros((len(self.starts), width), dtype=torch.long)
        self.prefix_mask = torch.zeros_like(ids)
        positions = torch.zeros_like(ids)
        for i, k in enumerate(self.starts.tolist()):
            if k:
                ids[i, width - k :] = full.input_ids[i, :k]
                self.prefix_mask[i, width - k :] = 1
                positions[i, width - k :] = torch.arange(k)
        # transformers 5 calls it ``cache`` (``past_key_values`` is deprecated there), 4 ``past_key_values``
        backbone = model.base_model
        self.name = "cache" if "cache" in inspect.signature(backbone.forward).parameters else "past_key_values"
        self.past = None
        if width:
            with torch.no_grad():
                out = backbone(input_ids=ids, attention_mask=self.prefix_mask, position_ids=positions, use_cache=True)
            self.past = out.get(self.name)
        tails = [full.input_ids[i, k : int(n)].tolist() for i, (k, n) in enumerate(zip(self.starts.tolist(), lengths))]
        tail_ids, tail_mask = _pad(tails, 0)
        self.batch = _Batch(tail_ids, tail_mask, full.rows, full.cols - self.starts[full.rows], full.labels)

    def select(self, index: torch.Tensor) -> "_SuffixCache":
        """The same cache for the rows ``index`` (a sub-batch's rows, in its order; the keys and values shared)."""
        sub = copy.copy(self)
        sub.index = self.index[index]
        return sub

    @contextlib.contextmanager
    def feed(self, batch: _Batch) -> Iterator[dict[str, Any]]:
        """The forward pass's extra arguments for ``batch`` (this cache's rows' suffixes, trimmed or not)."""
        width = batch.input_ids.shape[1]
        past = None
        if self.past is not None:
            past = copy.deepcopy(self.past)  # a forward appends to it
            if len(self.index) < len(self.starts):  # a sub-batch: its rows, in order
                past.batch_select_indices(self.index)
        yield {self.name: past, "use_cache": past is not None,
               "attention_mask": torch.cat([self.prefix_mask[self.index], batch.attention_mask], 1),
               "position_ids": self.starts[self.index, None] + torch.arange(width)[None]}


def suffix_cache(model: torch.nn.Module, batch: _Batch, starts: Sequence[int]) -> _SuffixCache | None:
    """A :class:`_SuffixCache` for ``batch`` with δ at ``starts``, or None where the model keeps no key-value cache."""
    from transformers import DynamicCache

    cache = _SuffixCache(model, batch, starts)
    return cache if cache.past is None or isinstance(cache.past, DynamicCache) else None


@contextlib.contextmanager
def frozen(model: torch.nn.Module) -> Iterator[None]:
    """Every parameter of ``model`` out of autograd for the block, then as it was.

    Why: a model loads with every parameter requiring a gradient, and a backward pass for a change to the
    activations (the residual targets' δ) would otherwise also compute, and keep, one for every weight above it.
    """
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    model.requires_grad_(False)
    try:
        yield
    finally:
        for name, p in model.named_parameters():
            p.requires_grad_(flags[name])


def prefix_cache(model: torch.nn.Module, where: tuple[str, int] | None, seqs: Sequence[Sequence[int]],
                 pad_id: int) -> _PrefixCache | None:
    """A filled :class:`_PrefixCache` at ``where`` (from :func:`_cache_layer`), or None when there is none."""
    if where is None:
        return None
    cache = _PrefixCache(model, *where)
    cache.fill(seqs, pad_id)
    return cache


def _logits_at(model: torch.nn.Module, weights: Mapping[str, torch.Tensor], batch: _Batch,
               cache: _PrefixCache | _SuffixCache | None = None) -> torch.Tensor:
    """Logits at the scored positions only (optionally starting from the cached stream).

    Runs the backbone, then the output head on just the positions a loss
    reads: the head is a vocabulary-sized matmul, and padding and prompt
    positions would otherwise dominate the cost of a step.
    """
    with cache.feed(batch) if cache is not None else contextlib.nullcontext({}) as extra:
        backbone = model.base_model
        prefix = model.base_model_prefix + "."
        inner = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
        outer = {k: v for k, v in weights.items() if not k.startswith(prefix)}
        kwargs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask, "use_cache": False}
        kwargs |= extra or {}
        if outer:  # an edit to the output head itself: fall back to the full model
            out = functional_call(model, dict(weights), args=(), kwargs=kwargs)
            return out.logits[batch.rows, batch.cols].float()
        hidden = functional_call(backbone, inner, args=(), kwargs=kwargs).last_hidden_state
        return model.get_output_embeddings()(hidden[batch.rows, batch.cols]).float()


def null_space_projector(model: torch.nn.Module, target: SliceTarget, seqs: Sequence[Sequence[int]], pad_id: int,
                         threshold: float) -> tuple[torch.Tensor, int] | None:
    """The projector onto the input directions the preserved text (almost) never uses.

    Collects the inputs of the linear layer that owns ``target`` on ``seqs``
    (every real position), restricted to the slice's input features, and
    keeps the eigenvectors of their second-moment matrix whose eigenvalue is
    at most ``threshold`` x the largest. Returns ``(P, input_dim)`` or None
    when the tensor is not a weight matrix (e.g. a bias).
    """
    name = target.tensor
    if not name.endswith(".weight") or len(target.slices) != 2:
        return None
    module = model.get_submodule(name[: -len(".weight")])
    in_dim = 1 if isinstance(module, torch.nn.Linear) else 0  # GPT-2's Conv1D stores [in, out]
    feats = target.slices[in_dim]
    keys: list[torch.Tensor] = []

    def grab(_m: Any, args: tuple, _out: Any) -> None:
        keys.append(args[0].detach()[..., feats])

    handle = module.register_forward_hook(grab)
    cov: torch.Tensor | None = None
    try:
        with torch.no_grad():
            for k in range(0, len(seqs), 16):
                ids, mask = _pad(seqs[k : k + 16], pad_id)
                keys.clear()
                model(input_ids=ids, attention_mask=mask, use_cache=False)
                x = keys[0].reshape(-1, keys[0].shape[-1])[mask.reshape(-1).bool()]
                acc = x.double().T @ x.double()
                cov = acc if cov is None else cov + acc
    finally:
        handle.remove()
    vals, vecs = torch.linalg.eigh(cov)
    keep = vecs[:, vals <= threshold * vals.max()]
    return (keep @ keep.T).float(), in_dim


def train_slices(
    model: torch.nn.Module,
    tokenizer: Any,
    facts: Sequence[tuple[str, str]],
    targets: Sequence[SliceTarget],
    *,
    preserve: Sequence[str] = (),
    config: SurgeryConfig = SurgeryConfig(),
    progress: Callable[[int, dict[str, float]], None] | None = None,
    protect: Sequence[str] = (),
    neighbours: Sequence[str] = (),
    stop_on: int | None = None,
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
        protect: texts whose inputs to the edited weights define the null space
            (with ``config.null_space`` set; default: ``preserve``).
        neighbours: prompts whose next-token distribution (last position) is kept still,
            ``config.neighbour_batch`` of them every step (KL weight ``config.neighbour_weight``):
            the prompts an edit disturbs first get their own term, not a share of the rotation.
        stop_on: only the first ``stop_on`` facts decide the early stop (``config.stop_margin``);
            the rest (e.g. trained paraphrases) are trained but do not keep the loop running.
    Returns:
        :class:`TrainResult` with the full edited tensors, keyed by name.

    Example:
        >>> res = train_slices(model, tok, [("The capital of Poland is", " Warsaw")],
        ...                    [SliceTarget("model.layers.15.self_attn.v_proj.weight", (slice(None),) * 2)])
    """
    from patchkit.models import single_thread

    # One intra-op thread: the same thread count every run makes the result
    # bit-reproducible, and on shared cores two threads' barriers are 10x slower.
    with single_thread(), frozen(model):  # only the slice deltas get gradients
        return _train_slices(model, tokenizer, facts, targets, preserve, config, progress, protect, neighbours,
                             stop_on)


def _train_slices(model: torch.nn.Module, tokenizer: Any, facts: Sequence[tuple[str, str]],
                  targets: Sequence[SliceTarget], preserve: Sequence[str], config: SurgeryConfig,
                  progress: Callable[[int, dict[str, float]], None] | None,
                  protect: Sequence[str] = (), neighbours: Sequence[str] = (),
                  stop_on: int | None = None) -> TrainResult:
    if not facts:
        raise errors.UsageError("no facts to train on")
    if not targets:
        raise errors.ComponentError("no slices to train")
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    was_training = model.training
    params = dict(model.named_parameters())
    model.eval()
    for t in targets:
        if t.tensor not in params:
            raise errors.ComponentError(f"{t.tensor}: no such tensor in the model")
    base = {name: params[name].detach() for name in {t.tensor for t in targets}}
    deltas = [torch.zeros(base[t.tensor][t.slices].shape, requires_grad=True) for t in targets]

    fact_batch = _fact_batch(tokenizer, facts)
    pad_id = _pad_id(tokenizer)
    texts = _encode_texts(tokenizer, preserve, config.max_preserve_tokens) if config.kl_weight > 0 else []
    base_logp = _base_logprobs(model, texts, pad_id)
    near = _encode_texts(tokenizer, neighbours, config.max_preserve_tokens) if config.kl_weight > 0 else []
    if near:
        with torch.no_grad():
            near_ref = torch.log_softmax(_logits_at(model, {}, _last_batch(near, pad_id)), dim=-1)
    near_order = _preserve_schedule(len(near), config, config.neighbour_batch)
    projectors: list[tuple[torch.Tensor, int] | None] = []
    kept: dict[str, int] = {}
    if config.null_space is not None:
        keys = _encode_texts(tokenizer, protect or preserve, config.max_preserve_tokens)
        for t in targets:
            proj = null_space_projector(model, t, keys, pad_id, config.null_space) if keys else None
            projectors.append(proj)
            if proj is not None:
                kept[t.tensor] = int(round(float(proj[0].trace())))
    where = _cache_layer(model, targets) if config.cache_activations else None
    cache = prefix_cache(model, where, unpadded(fact_batch) + list(texts) + list(near), pad_id)
    order = _preserve_schedule(len(texts), config)
    deciding = fact_batch.rows < (len(facts) if stop_on is None else stop_on)  # positions that decide the stop
    opt = torch.optim.Adam(deltas, lr=config.lr)
    losses: list[dict[str, float]] = []
    try:
        for step in range(config.steps):
            opt.zero_grad(set_to_none=True)
            weights = _edited_weights(base, targets, deltas, projectors)
            fact_logits = _logits_at(model, weights, fact_batch, cache)
            if config.stop_margin is not None and _margin(fact_logits[deciding], fact_batch.labels[deciding]) >= config.stop_margin:
                break  # every target already wins by the margin: more steps only add side effects
            ce = torch.nn.functional.cross_entropy(fact_logits, fact_batch.labels)
            loss = config.ce_weight * ce
            kl = torch.zeros(())
            if texts:
                pick = order[step]
                batch = _text_batch([texts[i] for i in pick], pad_id)
                logp = torch.log_softmax(_logits_at(model, weights, batch, cache), dim=-1)
                ref = torch.cat([base_logp[i] for i in pick])
                kl = torch.nn.functional.kl_div(logp, ref, log_target=True, reduction="batchmean")
                loss = loss + config.kl_weight * kl
            if near:
                pick = near_order[step]
                logp = torch.log_softmax(_logits_at(model, weights, _last_batch([near[i] for i in pick], pad_id),
                                                    cache), dim=-1)
                kl_near = torch.nn.functional.kl_div(logp, near_ref[pick], log_target=True, reduction="batchmean")
                kl = kl + kl_near
                loss = loss + config.neighbour_weight * kl_near
            loss.backward()
            opt.step()
            rec = {"step": step + 1, "loss": loss.item(), "ce": ce.item(), "kl": kl.item()}
            losses.append(rec)
            if progress is not None:
                progress(step + 1, rec)
    finally:
        model.train(was_training)
    with torch.no_grad():
        edited = {k: v.detach().clone() for k, v in _edited_weights(base, targets, deltas, projectors).items()}
    return TrainResult(edited=edited, losses=losses, seconds=time.perf_counter() - start,
                       cached_from_layer=where[1] if where else None, null_space=kept)


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


def _preserve_schedule(n: int, config: SurgeryConfig, batch: int | None = None) -> list[list[int]]:
    """Which preservation texts each step reads: seeded shuffles, cycled.

    A fixed seed gives the same schedule on every machine (torch's CPU
    generator is platform-independent).
    """
    if n == 0:
        return [[] for _ in range(config.steps)]
    gen = torch.Generator().manual_seed(config.seed)
    k = min(config.preserve_batch if batch is None else batch, n)
    flat: list[int] = []
    while len(flat) < k * config.steps:
        flat.extend(torch.randperm(n, generator=gen).tolist())
    return [flat[i * k : (i + 1) * k] for i in range(config.steps)]


def _leads(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per scored position, the target token's lead over the best other token."""
    with torch.no_grad():
        target = logits.gather(1, labels[:, None])[:, 0]
        other = logits.scatter(1, labels[:, None], float("-inf")).max(dim=1).values
        return target - other


def _margin(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Smallest lead of the target token over the best other token, across all target positions."""
    return float(_leads(logits, labels).min())


def check_untouched(
    base: Mapping[str, torch.Tensor], edited: Mapping[str, torch.Tensor], targets: Sequence[SliceTarget]
) -> None:
    """Prove that nothing outside the target slices changed, bit for bit.

    ``edited`` holds the full edited tensors (any tensor not in it is the base
    tensor itself, untouched by construction). Raises IntegrityError otherwise.
    """
    for name, w in edited.items():
        b = base[name]
        if w.shape != b.shape and w.dtype == b.dtype and w.dim() == b.dim() and all(x >= y for x, y in zip(w.shape, b.shape)):
            # a widened tensor (added neurons): its added part must be zero wherever no target reaches
            b = torch.nn.functional.pad(b, [p for x, y in zip(reversed(w.shape), reversed(b.shape)) for p in (0, x - y)])
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
            if params[name].shape == w.shape:
                params[name].copy_(w)
            else:  # a widened tensor (added neurons), or one narrowed back by restore
                params[name].data = w.detach().clone().to(params[name].dtype)
    return saved


def restore(model: torch.nn.Module, saved: Mapping[str, torch.Tensor]) -> None:
    """Undo :func:`apply_edit`."""
    apply_edit(model, saved)


@contextlib.contextmanager
def edit_applied(model: torch.nn.Module, edited: Mapping[str, torch.Tensor]) -> Iterator[torch.nn.Module]:
    """``model`` with ``edited`` written in for the block, restored after it (also on error)."""
    saved = apply_edit(model, edited)
    try:
        yield model
    finally:
        restore(model, saved)


