"""Closed-form key-value edits of an MLP down projection (ROME / MEMIT, solved on one slice).

Why: a factual association is read out at the subject's last token by the
early-middle MLPs (Meng et al., ROME, 2022). The down projection's input
there — the *key* — is specific to the subject, so an update that changes the
projection's output for those keys and for (almost) no other key repairs the
fact without moving the answers for other subjects. That is a least-squares
problem with a closed form, which also makes it fast: no training loop, a
few dozen small gradient steps in total.

For a down-projection slice ``W_S`` (its input neurons ``S``):

1. **Targets.** For each fact ``i`` find a vector ``δ_i`` that, added to the
   projection's output at the subject's last token, makes the model predict
   the target with a margin (Adam on ``δ`` alone; the weights do not move).
2. **Keys.** ``k_i`` is the projection's input at that position, restricted
   to ``S``. ``C`` is the second moment of its inputs on preserved text (the
   shipped preservation texts, the model's own samples, and the facts' own
   neighbours — same prompt, other subjects).
3. **Solve** ``ΔW_S = Δ Kᵀ (K Kᵀ + λC)⁻¹``: the update that best delivers every
   ``δ_i`` while keeping the output on preserved inputs, in the ``C`` metric,
   as still as ``λ`` asks. ``λ`` is chosen automatically: the largest value of
   a fixed grid at which every trained fact comes out right.

The same solve edits an attention head's output slice of ``o_proj`` at the
prompt's last token (``at="last"``): triage's override head, repaired where
it routes the answer.

The cost of delivering ``δ`` through ``S`` on preserved inputs is
``‖δ‖² / (kᵀC⁻¹k)``, so ``kᵀC⁻¹k`` — how unlike preserved inputs the facts'
keys are — is the screen :func:`screen` ranks slices by.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from patchkit import errors
from patchkit.train import (SliceTarget, TrainResult, _Batch, _cache_layer, _encode_texts, _fact_batch, _logits_at,
                            _leads, _pad, _pad_id, _PrefixCache, _Stop, frozen, prefix_cache,
                            suffix_cache, unpadded)


@dataclass(frozen=True)
class SolveConfig:
    """Hyper-parameters of the closed-form edit (chosen on bench/tune; docs/repair.md)."""

    margin: float = 3.0  # each target's lead the residual targets δ aim for (head-room for the solve)
    steps: int = 40  # Adam steps on δ, at most
    lr: float = 0.05  # in units of the RMS of what δ moves at the edit position (see _step_unit_module)
    # λ = ρ · tr(KᵀK) / tr(C) (so one grid fits every slice size); ρ tried largest first
    lambdas: tuple[float, ...] = (30000.0, 10000.0, 3000.0, 1000.0, 300.0, 100.0, 30.0, 10.0)
    neighbour_weight: float = 1.0  # the neighbours' second moment counts this much relative to preserved text's
    ridge: float = 1e-3  # x mean eigenvalue, added to C so that it is invertible
    max_preserve_tokens: int = 64
    # the neighbours' keys at the edit position itself (their subject's last token, or the last token for an
    # attention edit) count this much: the keys an edit of these facts is most likely to move by accident
    neighbour_key_weight: float = 0.0
    # when no ρ of the grid fixes every fact: drop the facts still wrong at the smallest ρ and re-solve for the
    # rest (an edit that holds most facts locally, rather than one that holds all by moving everything else)
    drop_unfixed: bool = False
    # AlphaEdit's form instead of the λC ridge: the update acts only on the ``null_share`` of input directions the
    # preserved inputs use least (the eigenvectors of C with the smallest eigenvalues; 1.0: every direction).
    # ``null_metric`` "identity": the least-norm update there, ``ΔW = Δᵀ (K_P K_Pᵀ + αI)⁻¹ K_P`` (``K_P = K P``,
    # ``α = ρ`` x the projected keys' mean square); "moment": the λC ridge solved inside those directions.
    # None: the ridge over every direction.
    null_share: float | None = None
    null_metric: str = "identity"
    # a fact whose target leads by ``margin`` leaves the residual targets' batch, its δ frozen (the others go on):
    # for memory neurons, which deliver δ exactly (68 facts: 73 -> 34 s). Not for the closed forms: their solve
    # shrinks δ, and facts solved to just the margin were lost (61 held-out facts, whole projections: 55 -> 47)
    stop_each: bool = False

    def __post_init__(self) -> None:
        if self.null_metric not in ("identity", "moment"):
            raise errors.UsageError(f"null_metric must be 'identity' or 'moment', not {self.null_metric!r}")
        if self.null_share is not None and not 0.0 < self.null_share <= 1.0:
            raise errors.UsageError(f"null_share must be in (0, 1], not {self.null_share}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# An override head's routing edit (the head's output at the last token, :func:`solve_slice` with ``at="last"``):
# a smaller target margin and the neighbours' own keys weighted in, chosen on Gemma 3 270M's selection set for
# 8 capitals and a tuning set of other relations (docs/gemma.md), never on a reported panel.
HEAD_CONFIG = SolveConfig(margin=1.5, neighbour_key_weight=10.0)

# A whole projection edited for many facts at once (more than a neuron range holds, ``RANGE_FACTS``): AlphaEdit's
# null-space form (the update only along the 90 % of input directions the preserved inputs use least, least norm
# there), α no lower than 2, and the facts still wrong there are dropped. On both tuning sets (SmolLM2, mixed
# relations and countries; docs/repair.md, "Session 9") it sat at or below the λC ridge's curve of facts fixed
# against right answers changed, and the default command went from 68/68 fixed with 7 of 150 right answers changed
# to 68/68 with 2 (mixed) and from 62/83 with 1 of 102 guards to 74/83 with 3 (countries).
WIDE_CONFIG = SolveConfig(lambdas=(10.0, 3.0, 2.0), drop_unfixed=True, null_share=0.9)
RANGE_FACTS = 24  # facts a neuron range is asked to hold; above it the search edits whole projections


# --- where the subject is ----------------------------------------------------------------------


def subject_positions(tokenizer: Any, prompts: Sequence[str], templates: Mapping[str, str]) -> list[int]:
    """The token index of each prompt's subject's last token (its last token if no subject is known).

    ``templates`` maps a prompt to its template with ``{}`` at the subject
    (:func:`patchkit.selection.infer_templates`).
    """
    return [_token_ending(tokenizer, p, _subject_end(p, templates.get(p))) for p in prompts]


def subject_of(prompt: str, template: str | None) -> str | None:
    """The subject ``template`` reads in ``prompt`` ("Australia" in "Australia's capital"), or None."""
    span = _subject_span(prompt, template)
    return prompt[span[0]:span[1]] if span else None


def _subject_end(prompt: str, template: str | None) -> int | None:
    """Where the subject ends in ``prompt`` (a character offset), or None."""
    span = _subject_span(prompt, template)
    return span[1] if span else None


def _subject_span(prompt: str, template: str | None) -> tuple[int, int] | None:
    """The subject's character span in ``prompt`` as ``template`` reads it, a possessive 's left out."""
    from patchkit import selection

    m = selection.subject_match(template, prompt) if template else None
    if not m:
        return None
    return m.start(1), m.end(1) - (2 if m.group(1).endswith(("'s", "\u2019s")) else 0)


def _token_ending(tokenizer: Any, prompt: str, end: int | None) -> int:
    """The index of the last token that starts before character ``end`` (the last token if ``end`` is None)."""
    enc = tokenizer(prompt, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc.get("offset_mapping")
    if end is None or offsets is None:
        return len(ids) - 1
    inside = [i for i, (a, b) in enumerate(offsets) if b > a and a < end]
    return max(inside) if inside else len(ids) - 1


def variant_rows(facts: Sequence[tuple[str, str]], variants: Sequence[tuple[str, str]],
                 templates: Mapping[str, str]) -> list[tuple[int, str, str, int]]:
    """``(fact index, variant prompt, target, subject end)`` for each variant that is another wording of a fact.

    A variant belongs to the fact with its target whose subject it names (the last occurrence is the
    one read out); a variant of no fact, or of more than one, is left out.
    """
    subjects = [subject_of(fp, templates.get(fp)) for fp, _ in facts]
    out = []
    for prompt, target in variants:
        owners = []
        for i, ((fp, ft), subject) in enumerate(zip(facts, subjects)):
            if ft == target and subject and subject in prompt and prompt != fp:
                owners.append((i, prompt.rindex(subject) + len(subject)))
        if len(owners) == 1:
            out.append((owners[0][0], prompt, target, owners[0][1]))
    return out


# --- statistics --------------------------------------------------------------------------------


def _module_of(model: torch.nn.Module, target: SliceTarget) -> tuple[torch.nn.Module, int]:
    name = target.tensor
    if not name.endswith(".weight") or len(target.slices) != 2:
        raise errors.ComponentError(f"{target.tensor}: the closed-form edit needs a weight matrix")
    module = model.get_submodule(name[: -len(".weight")])
    return module, (1 if isinstance(module, torch.nn.Linear) else 0)


def second_moment(model: torch.nn.Module, tokenizer: Any, target: SliceTarget, texts: Sequence[str],
                  max_tokens: int = 64) -> torch.Tensor:
    """``E[k kᵀ]`` of the slice's inputs over every real position of ``texts`` (float64)."""
    module, in_dim = _module_of(model, target)
    feats = _features(target.slices[in_dim])
    return input_moments(model, tokenizer, [target.tensor], texts, max_tokens)[target.tensor][feats][:, feats]


def input_moments(model: torch.nn.Module, tokenizer: Any, tensors: Sequence[str], texts: Sequence[str],
                  max_tokens: int = 64) -> dict[str, torch.Tensor]:
    """``E[w k kᵀ]`` of each weight's whole input over every real position of ``texts``, in one pass of the model.

    Why one pass: a search screens the down projections of several layers, and the layers below
    the deepest one are what costs; they run once for all of them.

    ``w`` is 1, or, where a norm follows the projection before its output joins the residual stream
    (Gemma's post-attention and post-feed-forward norms), ``1 / rms(output)²`` at that token: the
    norm divides a change of the output by the output's own size, so a change of ``ΔW k`` moves the
    residual by ``‖ΔW k‖ / rms`` there, and the tokens whose output is small are the ones that move most.
    """
    from patchkit import arch

    modules = {t: model.get_submodule(t[: -len(".weight")]) for t in tensors}
    amap = arch.for_model(model.config)
    deepest = max(tensors, key=lambda t: amap.layer_of(t) or 0)
    seqs = _encode_texts(tokenizer, texts, max_tokens)
    pad_id = _pad_id(tokenizer)
    grabbed: dict[str, torch.Tensor] = {}
    normed = {t for t in tensors if post_norm_follows(amap, t)}

    def hook(name: str) -> Any:
        def grab(_m: Any, args: tuple, out: torch.Tensor) -> None:
            grabbed[name] = _weighted(args[0], out if name in normed else None)
            if name == deepest:
                raise _Stop  # nothing above the deepest projection is needed
        return grab

    totals: dict[str, torch.Tensor] = {}
    count = 0
    handles = [m.register_forward_hook(hook(t)) for t, m in modules.items()]
    try:
        with torch.no_grad():
            for k in range(0, len(seqs), 16):
                ids, mask = _pad(seqs[k : k + 16], pad_id)
                grabbed.clear()
                try:
                    model(input_ids=ids, attention_mask=mask, use_cache=False)
                except _Stop:
                    pass
                for t in tensors:
                    x = grabbed[t][mask.bool()]
                    totals[t] = x.T @ x if t not in totals else totals[t] + x.T @ x
                count += int(mask.sum())
    finally:
        for h in handles:
            h.remove()
    if not totals:
        raise errors.UsageError("no preservation text to measure the edited layer's inputs on")
    return {t: v / count for t, v in totals.items()}


def _weighted(inputs: torch.Tensor, outputs: torch.Tensor | None) -> torch.Tensor:
    """Inputs (float64) scaled by ``1 / rms(output)`` per token where a post-norm follows (``outputs`` given)."""
    x = inputs.detach().double()
    if outputs is None:
        return x
    rms = outputs.detach().double().pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-6)
    return x / rms


def post_norm_follows(amap: Any, tensor: str) -> bool:
    """True where a norm sits between this projection and the residual stream (Gemma's post-norms)."""
    layer = amap.layer_of(tensor)
    if layer is None:
        return False
    attention = ".mlp." not in tensor
    return (amap.post_attn_norm_module(layer) if attention else amap.post_mlp_norm_module(layer)) is not None


def _raw_moment(model: torch.nn.Module, tokenizer: Any, tensors: Sequence[str], preserve: Sequence[str],
                neighbours: Sequence[str], config: SolveConfig, memo: dict | None) -> dict[str, torch.Tensor]:
    """Preserved text's input moment plus the neighbours' (weighted), no ridge; memoised per tensor."""
    def key(t: str) -> tuple:
        return ("moment", t, hash(tuple(preserve)), hash(tuple(neighbours)), config.neighbour_weight,
                config.max_preserve_tokens)

    todo = [t for t in tensors if memo is None or key(t) not in memo]
    if todo:
        c = input_moments(model, tokenizer, todo, preserve, config.max_preserve_tokens)
        if neighbours and config.neighbour_weight > 0:
            near = input_moments(model, tokenizer, todo, neighbours, config.max_preserve_tokens)
            c = {t: c[t] + config.neighbour_weight * near[t] for t in todo}
        if memo is None:
            return c
        memo.update({key(t): c[t] for t in todo})
    return {t: memo[key(t)] for t in tensors}


def null_basis(c: torch.Tensor, share: float) -> torch.Tensor:
    """An orthonormal basis ``[d_in, m]`` of the ``share`` of input directions along which ``C`` is smallest
    (AlphaEdit's null space; its projector is ``B Bᵀ``).

    Why: an update that acts only there leaves the outputs on the preserved inputs almost where they
    were, since those inputs hardly reach these directions; ``share`` 1.0 keeps every direction.
    """
    if share >= 1.0:
        return torch.eye(c.shape[0], dtype=c.dtype)
    _, vecs = torch.linalg.eigh(c)  # ascending eigenvalues
    return vecs[:, : max(1, int(share * c.shape[0]))]


def formula(config: Mapping[str, Any]) -> str:
    """The closed form a :class:`SolveConfig` (as a dict, the way a manifest records it) solves, in words.

    One convention throughout: ``K`` holds the keys as columns (``d_in x n``), ``D`` the targets (``d_out x n``).
    """
    ridge = "C = second moment of preserved inputs"
    if config.get("null_share") is None:
        return f"dW = D K^T (K K^T + lambda C)^-1; {ridge}"
    where = (f"null space: the {config['null_share']:.0%} of input directions with the smallest eigenvalues of C "
             f"({ridge}), orthonormal basis B; K_P = B^T K")
    if config.get("null_metric") == "moment":
        return f"dW = D K_P^T (K_P K_P^T + lambda B^T C B)^-1 B^T; {where}"
    return f"dW = D (K_P^T K_P + alpha I)^-1 K_P^T B^T; {where}"


def _features(dim: slice | tuple[int, ...]) -> slice | list[int]:
    """A slice's input features as an index of one dimension (chosen neurons come as a tuple, which alone
    would index several dimensions)."""
    return list(dim) if isinstance(dim, tuple) else dim


def _with_ridge(c: torch.Tensor, ridge: float) -> torch.Tensor:
    """``C`` plus ``ridge`` x its mean eigenvalue on the diagonal, so that it is invertible."""
    return c + ridge * float(c.trace()) / c.shape[0] * torch.eye(c.shape[0], dtype=c.dtype)


def fact_keys(model: torch.nn.Module, tokenizer: Any, target: SliceTarget, prompts: Sequence[str],
              positions: Sequence[int], weighted: bool = False) -> torch.Tensor:
    """``K``: the slice's input at each prompt's edit position, ``[n, |S|]`` (float64).

    ``weighted``: scaled as :func:`input_moments` scales preserved inputs (for keys that join ``C``).
    """
    from patchkit import arch

    module, in_dim = _module_of(model, target)
    feats = _features(target.slices[in_dim])
    normed = weighted and post_norm_follows(arch.for_model(model.config), target.tensor)
    seqs = [tokenizer(p)["input_ids"] for p in prompts]
    grabbed: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _m, args, out: grabbed.append(_weighted(args[0], out if normed else None)))
    try:
        with torch.no_grad():
            ids, mask = _pad(seqs, _pad_id(tokenizer))
            model(input_ids=ids, attention_mask=mask, use_cache=False)
    finally:
        handle.remove()
    rows = torch.arange(len(seqs))
    return grabbed[0][rows, torch.tensor(list(positions))][:, feats]


def _keys(model: torch.nn.Module, tokenizer: Any, whole: SliceTarget, prompts: Sequence[str],
          positions: Sequence[int], memo: dict | None) -> torch.Tensor:
    """:func:`fact_keys` of a whole projection, memoised (the screen and the solve both need them)."""
    key = ("keys", whole.tensor, tuple(prompts), tuple(positions))
    if memo is not None and key in memo:
        return memo[key]
    k = fact_keys(model, tokenizer, whole, prompts, positions)
    if memo is not None:
        memo[key] = k
    return k


def screen(model: torch.nn.Module, tokenizer: Any, amap: Any, facts: Sequence[tuple[str, str]],
           positions: Sequence[int], components: Sequence[str], preserve: Sequence[str],
           neighbours: Sequence[str], config: SolveConfig = SolveConfig(),
           memo: dict | None = None) -> list[tuple[str, float]]:
    """Rank down-projection slices by the facts' mean ``kᵀC⁻¹k`` per neuron (higher first).

    One pass of the model measures every layer's preserved moment (kept in ``memo`` for
    :func:`solve_slice`); each layer's statistics serve every slice of it.
    """
    from patchkit.train import as_targets

    by_layer: dict[str, list[tuple[str, SliceTarget]]] = {}
    for comp in components:
        (t,) = as_targets(amap.resolve(comp))
        by_layer.setdefault(t.tensor, []).append((comp, t))
    prompts = [p for p, _ in facts]
    out = []
    moments = _raw_moment(model, tokenizer, list(by_layer), preserve, neighbours, config, memo)
    for tensor, items in by_layer.items():
        module, in_dim = _module_of(model, items[0][1])
        whole = SliceTarget(tensor, tuple(slice(0, n) for n in module.weight.shape))
        c = _with_ridge(moments[tensor], config.ridge)
        k = _keys(model, tokenizer, whole, prompts, positions, memo)
        for comp, t in items:
            feats = _features(t.slices[in_dim])
            cs = c[feats][:, feats]
            ks = k[:, feats]
            score = float(torch.einsum("ni,ni->n", ks, torch.linalg.solve(cs, ks.T).T).mean()) / ks.shape[1]
            out.append((comp, score))
    out.sort(key=lambda x: -x[1])
    return out


# --- the edit ----------------------------------------------------------------------------------


def residual_targets(model: torch.nn.Module, batch: _Batch, cache: _PrefixCache | None, positions: Sequence[int],
                     target: SliceTarget, config: SolveConfig = SolveConfig(),
                     seed: int = 0, groups: Sequence[int] | None = None,
                     keep: tuple[_Batch, Sequence[int], Sequence[int]] | None = None
                     ) -> tuple[torch.Tensor, list[dict[str, float]]]:
    """``δ``: per fact, the change of the projection's output at the edit position that fixes it.

    ``batch`` holds the facts (:func:`patchkit.train._fact_batch`), ``cache`` the layers below the
    edited one (or None). Only ``δ`` is optimised (Adam, full batch, seeded); the model is frozen.
    ``groups``: per batch row, the fact it words (default: one fact per row); one ``δ`` serves every
    wording of a fact, so it is the change that makes the target win however the question is put.
    ``keep``: ``(batch, positions, groups)`` — prompts (their last position scored, the layers below in ``cache``)
    where a fact's δ is added too, at ``positions``: other questions about the fact's subject. δ is kept in the null
    space of what moves their answers there (AlphaEdit's projection, to first order): per prompt, the gradient at
    δ = 0 of its base answer's log-probability and of the fact's target's lead over that answer. A KL term does
    not do it: its gradient is zero at δ = 0, and δ reaches its margin in a few steps.
    """
    with frozen(model):
        return _residual_targets(model, batch, cache, positions, target, config, seed, groups, keep)


def _residual_targets(model: torch.nn.Module, batch: _Batch, cache: _PrefixCache | None, positions: Sequence[int],
                      target: SliceTarget, config: SolveConfig, seed: int, groups: Sequence[int] | None,
                      keep: tuple[_Batch, Sequence[int], Sequence[int]] | None
                      ) -> tuple[torch.Tensor, list[dict[str, float]]]:
    module, _ = _module_of(model, target)
    n = int(batch.input_ids.shape[0])
    rows, cols = torch.arange(n), torch.tensor(list(positions))
    group = torch.tensor(list(groups)) if groups is not None else rows
    n_facts = int(group.max()) + 1
    torch.manual_seed(seed)
    # the step size is set by the size of what δ moves: the residual stream there, or, where the architecture
    # normalises the projection's output before adding it (Gemma's post-norms), that output itself
    grabbed: list[torch.Tensor] = []
    handle = _step_unit_module(model, target).register_forward_hook(
        lambda _m, _a, out: grabbed.append((out[0] if isinstance(out, tuple) else out).detach()))
    try:
        with torch.no_grad():
            _logits_at(model, {}, batch, cache)
    finally:
        handle.remove()
    scale = float(grabbed[0][rows, cols].pow(2).mean().sqrt())
    unit = torch.zeros(n_facts, grabbed[0].shape[-1], requires_grad=True)  # δ = scale · unit

    at = {"rows": rows, "cols": cols, "group": group}  # this step's sequences: where δ is added, and whose δ

    def add(_m: Any, _a: Any, out: torch.Tensor) -> torch.Tensor:
        extra = torch.zeros_like(out)
        extra[at["rows"], at["cols"]] = unit[at["group"]] * scale
        return out + extra

    moving = _moving_directions(model, module, batch, cache, group, n_facts, keep) if keep is not None else None
    # each step runs only the positions from the edit position on: nothing before it moves with δ
    suffix = suffix_cache(model, batch, positions)
    if suffix is not None:
        batch, cache, cols = suffix.batch, suffix, torch.zeros_like(cols)
        at["cols"] = cols
    opt = torch.optim.Adam([unit], lr=config.lr)
    losses: list[dict[str, float]] = []
    active = torch.ones(n_facts, dtype=torch.bool)  # facts whose target does not lead by config.margin yet
    step_batch, step_rows = batch, rows
    handle = module.register_forward_hook(add)
    try:
        for step in range(config.steps):
            logits = _logits_at(model, {}, step_batch, cache)
            lead = _leads(logits, step_batch.labels)
            margin = float(lead.min())
            loss = torch.nn.functional.cross_entropy(logits, step_batch.labels)
            losses.append({"step": step + 1, "loss": float(loss.detach()), "margin": margin,
                           "facts": int(active.sum())})
            # facts not in this step's batch count as leading: the lagging ones are always among the active
            lagging = torch.full((n_facts,), float("inf")).scatter_reduce(
                0, group[step_rows[step_batch.rows]], lead, "amin") < config.margin
            if not lagging.any():
                break
            # with config.stop_each, a fact whose target leads by the margin is done: its δ stays as it is and its
            # rows leave the batch (68 facts: 41 % of the rows a full batch would run, the same δ for those that lag)
            frozen = unit.detach().clone() if config.stop_each else None
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if moving is not None:
                with torch.no_grad():
                    unit -= torch.einsum("fij,fj->fi", moving, unit)  # back into the null space of the kept answers
            if frozen is None:
                continue
            with torch.no_grad():
                unit[~lagging] = frozen[~lagging]  # Adam's momentum would move them with a zero gradient
            if not torch.equal(lagging, active):
                active = lagging
                step_batch, step_rows = _sub_batch(batch, active[group])
                if suffix is not None:
                    cache = suffix.select(step_rows)
                at.update(rows=torch.arange(len(step_rows)), cols=cols[step_rows], group=group[step_rows])
    finally:
        handle.remove()
    return (unit.detach() * scale).double(), losses


def _moving_directions(model: torch.nn.Module, module: torch.nn.Module, batch: _Batch, cache: _PrefixCache | None,
                       group: torch.Tensor, n_facts: int, keep: tuple[_Batch, Sequence[int], Sequence[int]]
                       ) -> torch.Tensor:
    """Per fact, the projector ``P`` (``[n_facts, d, d]``) onto the directions of δ that move its kept prompts'
    answers (``residual_targets``' ``keep``) to first order; ``δ - Pδ`` leaves them still."""
    kbatch, kpos, kgroup = keep
    target = torch.full((n_facts,), -1)
    for r, label in zip(batch.rows.tolist(), batch.labels.tolist()):  # each fact's first target token
        if target[group[r]] < 0:
            target[group[r]] = label
    probe = torch.zeros(len(kpos), module.weight.shape[0], requires_grad=True)
    where = (torch.arange(len(kpos)), torch.tensor(list(kpos)))

    def add(_m: Any, _a: Any, out: torch.Tensor) -> torch.Tensor:
        extra = torch.zeros_like(out)
        extra[where] = probe.to(out.dtype)
        return out + extra

    handle = module.register_forward_hook(add)
    try:
        logits = _logits_at(model, {}, kbatch, cache).float()
    finally:
        handle.remove()
    logp = torch.log_softmax(logits, -1)
    answer = logits.detach().argmax(-1)
    rows = torch.arange(len(kpos))
    owner = torch.tensor(list(kgroup))
    mine = target[owner]
    (g_answer,) = torch.autograd.grad(logp[rows, answer].sum(), probe, retain_graph=True)
    (g_lead,) = torch.autograd.grad((logits[rows, mine] - logits[rows, answer]).sum(), probe)
    span = torch.zeros(n_facts, probe.shape[1], probe.shape[1])
    for f in range(n_facts):
        at = owner == f
        if at.any():
            q, _ = torch.linalg.qr(torch.cat([g_answer[at], g_lead[at]]).T.double())
            span[f] = (q @ q.T).float()
    return span


def _sub_batch(batch: _Batch, keep: torch.Tensor) -> tuple[_Batch, torch.Tensor]:
    """The sequences ``keep`` marks (and their scored positions), trimmed to their width; and their old indices."""
    index = keep.nonzero()[:, 0]
    renumber = torch.full((len(keep),), -1, dtype=torch.long)
    renumber[index] = torch.arange(len(index))
    scored = keep[batch.rows]
    width = int(batch.attention_mask[index].sum(1).max())
    sub = type(batch)(batch.input_ids[index, :width], batch.attention_mask[index, :width], renumber[batch.rows[scored]],
                      batch.cols[scored], batch.labels[scored])
    return sub, index


def _step_unit_module(model: torch.nn.Module, target: SliceTarget) -> torch.nn.Module:
    """The module whose output sets δ's units: the decoder layer (residual stream) or, behind a post-norm, the projection."""
    from patchkit import arch

    amap = arch.for_model(model.config)
    if post_norm_follows(amap, target.tensor):
        return _module_of(model, target)[0]
    return model.get_submodule(amap.layer_prefix(amap.layer_of(target.tensor)))


def edit_positions(tokenizer: Any, prompts: Sequence[str], templates: Mapping[str, str], at: str) -> list[int]:
    """Where the edit acts in each prompt: its subject's last token (``at="subject"``) or its last token."""
    if at == "subject":
        return subject_positions(tokenizer, prompts, templates)
    return [len(tokenizer(p)["input_ids"]) - 1 for p in prompts]


def solve_slice(model: torch.nn.Module, tokenizer: Any, facts: Sequence[tuple[str, str]], target: SliceTarget, *,
                templates: Mapping[str, str], preserve: Sequence[str], neighbours: Sequence[str] = (),
                config: SolveConfig = SolveConfig(), seed: int = 0, at: str = "subject",
                memo: dict | None = None, variants: Sequence[tuple[str, str]] = ()) -> TrainResult:
    """Edit ``target`` (a down-projection slice, or an attention head's output slice) in closed form so that
    every fact is predicted.

    Args:
        model, tokenizer: the base model; not modified (the edit lives in the result).
        facts: ``(prompt, target)`` pairs to repair.
        target: the slice; its input features are the neurons ``S``.
        templates: prompt -> template with ``{}`` at the subject (the edit acts at the subject's last token).
        preserve: texts whose projection inputs must keep their outputs.
        neighbours: the facts' prompts filled with other subjects (weighted ``config.neighbour_weight``;
            their keys at the edit position also ``config.neighbour_key_weight``).
        at: ``"subject"`` (an MLP's key-value edit) or ``"last"`` (the prompt's last token: an attention
            head's output where the answer is routed).
        memo: a dict kept across calls: the targets, keys and moments of a projection are computed once
            for all its slices (a search over neuron ranges pays for each layer once).
        variants: other wordings of the facts ``(prompt, target)`` (``at="subject"`` only): each fact's
            ``δ`` is found for all its wordings at once and its key is their mean (ROME's averaged key),
            so the edit answers the question however it is put. ``ρ`` is still chosen on the facts.
    Returns:
        :class:`patchkit.train.TrainResult`; ``details`` records λ, the per-λ fixed counts and the
        size of the targets.
    """
    from patchkit.models import single_thread

    start = time.perf_counter()
    with single_thread():
        module, in_dim = _module_of(model, target)
        key = (target.tensor, at, tuple(facts), tuple(variants), hash(tuple(preserve)), hash(tuple(neighbours)),
               config, seed)
        stats = memo.get(key) if memo is not None else None
        if stats is None:
            stats = _layer_stats(model, tokenizer, facts, target, templates, preserve, neighbours, config, seed, at,
                                 memo, variants)
            if memo is not None:
                memo[key] = stats
        feats, out_rows = _features(target.slices[in_dim]), target.slices[1 - in_dim]
        keys = stats.keys[:, feats]
        c = _with_ridge(stats.moment[feats][:, feats], config.ridge)
        delta, batch, cache = stats.delta, stats.batch, stats.cache
        base = module.weight.detach()
        tried: list[dict[str, Any]] = []
        basis = None
        if config.null_share is not None:  # work in the basis of the directions kept: keys and C there
            basis = null_basis(c, config.null_share)
            keys, c = keys @ basis, basis.T @ c @ basis
        least_norm = basis is not None and config.null_metric == "identity"  # AlphaEdit's αI instead of λC
        unit = float((keys * keys).sum()) / (len(facts) if least_norm else float(c.trace()))  # least norm: α per key

        def fit(rows: list[int]) -> tuple[float, torch.Tensor, list[bool]]:
            """The largest ρ of the grid at which every fact of ``rows`` comes out right (else the smallest)."""
            for rho in config.lambdas:
                k, d = keys[rows], delta[rows][:, out_rows]
                if least_norm:
                    lam = rho * unit
                    update = d.T @ torch.linalg.solve(k @ k.T + lam * torch.eye(len(rows), dtype=k.dtype), k)
                else:
                    lam = rho * unit * (len(rows) / len(facts))  # λ per key: dropping facts does not loosen the fit
                    update = d.T @ k @ torch.linalg.inv(k.T @ k + lam * c)  # [d_out, |S|]
                if basis is not None:
                    update = update @ basis.T  # back to the slice's input features
                edited = base.clone()
                edited[target.slices] += (update if in_dim == 1 else update.T).to(base.dtype)
                with torch.no_grad():
                    logits = _logits_at(model, {target.tensor: edited}, batch, cache)
                right = _right_flags(logits, batch, len(facts))
                tried.append({"rho": rho, "lambda": round(lam, 4), "fixed": sum(right[r] for r in rows),
                              "update_norm": round(float(update.norm()), 4)}
                             | ({"of": len(rows)} if len(rows) < len(facts) else {}))
                if all(right[r] for r in rows):
                    break
            return rho, edited, right

        rows = list(range(len(facts)))
        rho, edited, right = fit(rows)
        dropped: list[str] = []
        if config.drop_unfixed and not all(right) and any(right):
            rows = [r for r in rows if right[r]]
            dropped = [facts[r][0] for r in range(len(facts)) if not right[r]]
            rho, edited, right = fit(rows)
    details = {"method": "closed-form", "at": at, "rho": rho, "lambdas_tried": tried,
               "subject_positions": stats.positions[: len(facts)], "variants": len(stats.positions) - len(facts),
               "target_norm": round(float(delta.norm(dim=1).mean()), 4),
               "config": config.to_dict()}
    if dropped:
        details["dropped"] = dropped
    return TrainResult(edited={target.tensor: edited}, losses=stats.losses, seconds=time.perf_counter() - start,
                       cached_from_layer=stats.where[1] if stats.where else None, details=details)


@dataclass
class _LayerStats:
    """What every slice of one projection shares: targets ``δ``, the whole input's keys and moment, the cache."""

    positions: list[int]
    batch: _Batch
    cache: _PrefixCache | None
    where: tuple[str, int] | None
    delta: torch.Tensor  # [n, d_out]
    losses: list[dict[str, float]]
    keys: torch.Tensor  # [n, d_in]
    moment: torch.Tensor  # [d_in, d_in], no ridge yet (it depends on the slice)


def _layer_stats(model: torch.nn.Module, tokenizer: Any, facts: Sequence[tuple[str, str]], target: SliceTarget,
                 templates: Mapping[str, str], preserve: Sequence[str], neighbours: Sequence[str],
                 config: SolveConfig, seed: int, at: str, memo: dict | None = None,
                 variants: Sequence[tuple[str, str]] = ()) -> _LayerStats:
    module, _ = _module_of(model, target)
    whole = SliceTarget(target.tensor, tuple(slice(0, n) for n in module.weight.shape))
    extra = variant_rows(facts, variants, templates) if at == "subject" else []
    rows = list(facts) + [(p, t) for _, p, t, _ in extra]  # the facts first, then their other wordings
    groups = list(range(len(facts))) + [i for i, _, _, _ in extra]
    prompts = [p for p, _ in rows]
    positions = (edit_positions(tokenizer, [p for p, _ in facts], templates, at)
                 + [_token_ending(tokenizer, p, end) for _, p, _, end in extra])
    batch = _fact_batch(tokenizer, rows)
    where = _cache_layer(model, [whole])
    cache = prefix_cache(model, where, unpadded(batch), _pad_id(tokenizer))
    delta, losses = residual_targets(model, batch, cache, positions, whole, config, seed, groups)
    keys = _keys(model, tokenizer, whole, prompts, positions, memo)
    if extra:  # each fact's key: the mean over its wordings
        index = torch.tensor(groups)
        counts = torch.bincount(index, minlength=len(facts)).to(keys.dtype)
        keys = torch.zeros(len(facts), keys.shape[1], dtype=keys.dtype).index_add_(0, index, keys) / counts[:, None]
    c = _raw_moment(model, tokenizer, [whole.tensor], preserve, neighbours, config, memo)[whole.tensor]
    if neighbours and config.neighbour_key_weight > 0:
        from patchkit.selection import infer_templates

        near = list(neighbours)
        near_keys = fact_keys(model, tokenizer, whole, near, edit_positions(tokenizer, near, infer_templates(near), at),
                              weighted=True)
        c = c + config.neighbour_key_weight * (near_keys.T @ near_keys) / near_keys.shape[0]
    return _LayerStats(positions, batch, cache, where, delta, losses, keys, c)


def _right_flags(logits: torch.Tensor, batch: Any, n: int) -> list[bool]:
    """Per fact (the batch's first ``n`` rows): every target token is the top prediction (teacher-forced)."""
    ok = [True] * int(batch.input_ids.shape[0])
    for r, good in zip(batch.rows.tolist(), (logits.argmax(-1) == batch.labels).tolist()):
        ok[r] = ok[r] and good
    return ok[:n]


# --- what to try and what to preserve ----------------------------------------------------------


def down_candidates(amap: Any, max_params: int, layers: Sequence[int] | None = None) -> list[str]:
    """Down-projection slices within ``max_params``: whole where it fits, else equal neuron ranges.

    Layers default to the tenth to the third of the model's depth (ROME's and MEMIT's finding:
    facts are recalled by the early-middle MLPs at the subject's last token; GPT-J's edits sit
    in layers 3-8 of 28). A range is the widest
    of ``d_mlp / 2**j`` neurons that fits the budget.
    """
    if layers is None:
        layers = range(max(1, amap.num_layers // 10), max(2, amap.num_layers // 3 + 1))
    width, d = amap.d_mlp, amap.d_model
    while width * d > max_params and width % 2 == 0 and width > 1:
        width //= 2
    if width * d > max_params:
        return []
    out = []
    for n in layers:
        if width == amap.d_mlp:
            out.append(f"L{n}.mlp.down")
        else:
            out.extend(f"L{n}.mlp.down.n{a}:{a + width}" for a in range(0, amap.d_mlp - width + 1, width))
    return out


def key_neurons(model: torch.nn.Module, tokenizer: Any, amap: Any, facts: Sequence[tuple[str, str]],
                positions: Sequence[int], max_params: int, preserve: Sequence[str], neighbours: Sequence[str],
                config: SolveConfig = SolveConfig(), memo: dict | None = None,
                layers: Sequence[int] | None = None) -> list[str]:
    """Per layer, the down projection's neurons that carry the facts' keys, as a component (``Lk.mlp.down.n…``).

    Why not a contiguous range: neuron order means nothing, so a range of 192 neurons is an arbitrary
    192. An edit acts through its neurons' inputs, and its cost on preserved text grows with how much
    those inputs are used there; the neurons to edit are those whose input at the facts' subjects is
    large against their second moment on preserved text, ``mean_i k_ij² / C_jj`` (the diagonal of the
    ``kᵀC⁻¹k`` the screen ranks by). On the tuning sets (SmolLM2, 8 country / 8 mixed near misses) the
    chosen 192 neurons scored 2-7x a range's ``kᵀC⁻¹k`` and moved the selection set's answers up to half as
    much; on 12 capitals every layer's set moved the same neighbours, where a contiguous range passed — so
    this is the search's option (``neurons="keys"``), not its default (docs/repair.md, "Session 10"). As many
    neurons as a range would have (:func:`down_candidates`); where a whole projection fits the budget, the
    whole projections.
    """
    from patchkit import arch
    from patchkit.train import as_targets

    ranges = down_candidates(amap, max_params, layers=[0])  # one layer's ranges: how wide a range is
    if not ranges or ".n" not in ranges[0]:
        return down_candidates(amap, max_params, layers)
    width = amap.d_mlp // len(ranges)
    if layers is None:
        layers = range(max(1, amap.num_layers // 10), max(2, amap.num_layers // 3 + 1))
    tensors = {n: as_targets(amap.resolve(f"L{n}.mlp.down"))[0] for n in layers}
    moments = _raw_moment(model, tokenizer, [t.tensor for t in tensors.values()], preserve, neighbours, config, memo)
    prompts = [p for p, _ in facts]
    out = []
    for n, t in tensors.items():
        module, in_dim = _module_of(model, t)
        whole = SliceTarget(t.tensor, tuple(slice(0, d) for d in module.weight.shape))
        k = _keys(model, tokenizer, whole, prompts, positions, memo)
        score = (k * k).mean(0) / _with_ridge(moments[t.tensor], config.ridge).diagonal()
        out.append(arch.neuron_component(n, score.argsort(descending=True)[:width].tolist()))
    return out


def is_down(component: str) -> bool:
    """True for ``Lk.mlp.down`` and its neuron ranges: the slices the closed form applies to."""
    return bool(re.fullmatch(r"L\d+\.mlp\.down(\.n\d+(:\d+)?(,\d+(:\d+)?)*)?", component.strip()))
