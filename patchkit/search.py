"""Automatic component choice: rank every candidate slice by a cheap screen, try the best few.

Why: the edit only works where the model can be steered without disturbing
what it already does, and which component that is differs by model and by
fact set (on SmolLM2's capitals, triage's attention peak L23 fails and L15
passes). Trying all 90 components of a 30-layer model costs minutes each, so a
screen orders them and full training runs only on the first few.

The screen is first-order in the facts and second-order in the harm. For a
weight slice with fact-loss gradient ``G``, a step ``-ηG`` lowers the fact
loss by ``η‖G‖²`` and raises the KL to the base model on preserved text by
``½η²·GᵀFG``, where ``F`` is the Fisher information of the model's own
next-token distributions on that text. The score

    ‖G‖² / sqrt(GᵀFG)

is the fact-loss decrease per unit of KL the step costs, measured at the
output, so it counts everything downstream of the slice (an early layer that
moves every later one pays for it). ``GᵀFG`` is estimated without forming
``F``: with labels sampled from the model itself, the gradient ``g`` of their
log-likelihood has ``E[(G·g)²] = GᵀFG``; ``fisher_samples`` backward passes
give the estimate for every candidate at once.

Each tried candidate is then trained and judged on the selection set
(:mod:`patchkit.selection`): every trained fact must come out right and no
selection probe may change its answer. The first that passes ships; the
others are recorded with the reason they were refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from patchkit import arch, errors
from patchkit.train import _encode_texts, _fact_batch, _logits_at, _pad, _pad_id, as_targets, frozen

KINDS = ("attn.v", "attn.o", "mlp.down")
WIDE_TRIES = 3  # whole down projections solved when the facts are more than a range holds (each ~40 s at 60 facts)
# memory neurons (patchkit.memory) are tried first, at this many layers, before any closed-form slice: on
# every tuning set they changed fewer other answers (docs/repair.md, session 11)
MEMORY_TRIES = 2
# a wide layer refused for a few moved selection neighbours is solved again with them kept still ("pinned"): at
# most PIN_MOVED of them at a time, PIN_TRIES times per layer, each counting PIN_WEIGHT times in C
PIN_MOVED, PIN_TRIES, PIN_WEIGHT = 3, 2, 10
# rounds in which a memory layer trained with the contexts gives up those of the facts whose other questions it moved
# (one was not enough on SmolLM2's tuning set: the edit made again moved a question the first had not)
CONTEXT_ROUNDS = 2


@dataclass
class Candidate:
    """A component, its screen score, and what happened when it was tried."""

    component: str
    score: float | None  # None: named by the user, not screened
    tried: bool = False
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    plain: bool = False  # a memory layer tried again without the selection set's trained contexts
    # facts whose contexts this memory layer gave up: with them, its memories moved other questions about their
    # subjects that the memories without them leave alone (:meth:`Search.edit`)
    given_up: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "score": None if self.score is None else round(self.score, 4), "tried": self.tried,
                "passed": self.passed, "reasons": list(self.reasons), "seconds": round(self.seconds, 2)} | self.marks

    @property
    def marks(self) -> dict[str, Any]:
        """What a record of this try adds to its component: ``{"contexts": False}`` for a plain memory layer, the facts
        whose contexts it gave up otherwise."""
        return {"contexts": False} if self.plain else {"contexts_given_up": list(self.given_up)} if self.given_up else {}


def candidate_components(amap: Any, kinds: Sequence[str] = KINDS, heads: bool = True,
                         max_params: int | None = None) -> list[str]:
    """Every layer's components of ``kinds`` and their per-head slices, within ``max_params`` each.

    A whole projection over the budget is replaced by its heads (an MLP
    projection has none, so it drops out): with the default budget of 0.1% of
    the model, SmolLM2's ``attn.v`` (0.082%) stays whole, ``attn.o`` (0.25%)
    is searched head by head and ``mlp.down`` (0.66%) is out.
    """
    out = []
    valid = set(amap.components(heads=True))
    for n in range(amap.num_layers):
        for k in kinds:
            name = f"L{n}.{k}"
            if name not in valid:
                continue
            size = sum(t.numel() for t in amap.resolve(name))
            if max_params is None or size <= max_params:
                out.append(name)
            if heads:
                hs = sorted((c for c in valid if c.startswith(name + ".h")), key=lambda c: int(c.rsplit(".h", 1)[1]))
                out.extend(h for h in hs if max_params is None or sum(t.numel() for t in amap.resolve(h)) <= max_params)
    return out


def override_head(items: Sequence[Any], pool: Sequence[str]) -> str | None:
    """The attention head triage most often names as the override of the fixable facts, as its ``attn.o`` slice.

    Why: the premise of a routing repair is that one late head overrides an answer the model
    carries; triage finds that head per fact (``override_component``). When one head is the
    override for most of them, it is the diagnosis' own candidate (Gemma 3 270M's capitals:
    ``L17.attn.h2`` for 17 of 21). None when no head is, or its slice is not in ``pool``.
    """
    import re
    from collections import Counter

    heads = Counter(i.override_component for i in items if getattr(i, "fixable", False)
                    and re.fullmatch(r"L\d+\.attn\.h\d+", i.override_component or ""))
    if not heads:
        return None
    (head, count), = heads.most_common(1)
    fixable = sum(1 for i in items if getattr(i, "fixable", False))
    name = head.replace(".attn.h", ".attn.o.h")
    return name if count * 2 > fixable and name in set(pool) else None


def one_per_layer(ranked: Sequence[Candidate], count: int, first: str | None = None) -> list[Candidate]:
    """The best ``count`` candidates, at most one per layer; ``first`` (if ranked) leads.

    Why: a first-order screen can rank several slices of one layer on top (on Gemma 3 270M,
    four heads of layers 0-1), and when that layer is the wrong place every one of them is
    refused for the same reason; trying the next layer instead makes the tries independent.
    ``first`` is the diagnosis' own candidate (:func:`override_head`); its layer counts as tried.
    """
    order = sorted(ranked, key=lambda c: c.component != first) if first else list(ranked)
    out: list[Candidate] = []
    seen: set[str] = set()
    for cand in order:
        if len(out) == count:
            break
        layer = cand.component.split(".", 1)[0]
        if layer not in seen:
            seen.add(layer)
            out.append(cand)
    return out


def screen(model: Any, tokenizer: Any, amap: Any, facts: Sequence[tuple[str, str]], preserve: Sequence[str],
           components: Sequence[str], fisher_samples: int = 4, max_texts: int = 16, max_tokens: int = 24,
           seed: int = 0) -> list[Candidate]:
    """Score each component (higher first); see the module docstring for the formula."""
    from patchkit.models import single_thread

    resolved = {c: as_targets(amap.resolve(c)) for c in components}
    params = dict(model.named_parameters())
    names = sorted({t.tensor for ts in resolved.values() for t in ts})
    with single_thread():
        grads = _fact_gradients(model, tokenizer, facts, names, params)
        samples = _fisher_samples(model, tokenizer, preserve, names, params, fisher_samples, max_texts, max_tokens, seed)
    out = []
    for comp, targets in resolved.items():
        gain = 0.0
        dots = [0.0] * len(samples)
        for t in targets:
            if t.tensor not in grads:
                continue
            g = grads[t.tensor][t.slices].double()
            gain += float((g * g).sum())
            for k, sample in enumerate(samples):
                if t.tensor in sample:
                    dots[k] += float((g * sample[t.tensor][t.slices].double()).sum())
        harm = sum(d * d for d in dots) / max(len(dots), 1)
        score = gain / harm ** 0.5 if harm > 0 else 0.0
        out.append(Candidate(comp, score))
    out.sort(key=lambda c: -c.score)
    return out


def _fact_gradients(model: Any, tokenizer: Any, facts: Sequence[tuple[str, str]], names: Sequence[str],
                    params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    def loss() -> torch.Tensor:
        batch = _fact_batch(tokenizer, facts)
        return torch.nn.functional.cross_entropy(_logits_at(model, {}, batch), batch.labels)

    return _grads(model, params, names, [loss])[0]


def _fisher_samples(model: Any, tokenizer: Any, texts: Sequence[str], names: Sequence[str],
                    params: dict[str, torch.Tensor], samples: int, max_texts: int, max_tokens: int,
                    seed: int) -> list[dict[str, torch.Tensor]]:
    """Gradients of the log-likelihood of labels sampled from the model on ``texts`` (one per sample)."""
    seqs = _encode_texts(tokenizer, list(texts)[:max_texts], max_tokens)
    if not seqs:
        raise errors.UsageError("component search needs preservation text to screen candidates")
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}

    def make(k: int) -> Any:
        def loss() -> torch.Tensor:
            if "logp" not in state:
                ids, mask = _pad(seqs, _pad_id(tokenizer))
                logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
                state["logp"] = torch.log_softmax(logits[mask.bool()].float(), dim=-1)
            logp = state["logp"]
            y = torch.multinomial(logp.detach().exp(), 1, generator=gen)
            return logp.gather(1, y).sum()
        return loss

    return _grads(model, params, names, [make(k) for k in range(samples)])


def _grads(model: Any, params: dict[str, torch.Tensor], names: Sequence[str], losses: Sequence[Any]
           ) -> list[dict[str, torch.Tensor]]:
    """Gradients of each loss with respect to ``names`` only (everything else stays frozen)."""
    out = []
    with frozen(model):
        for n in names:
            params[n].requires_grad_(True)
        for i, fn in enumerate(losses):
            value = fn()
            g = torch.autograd.grad(value, [params[n] for n in names], allow_unused=True,
                                    retain_graph=i < len(losses) - 1)
            out.append({n: x.detach() for n, x in zip(names, g) if x is not None})
    return out


# --- the default search: what is tried, in which order, and how each candidate is edited ---------


class Search:
    """The candidates surgery tries, in order, and the edit of each (closed form or training).

    Order (method ``auto``, no component named): (0) memory neurons (:mod:`patchkit.memory`; gated MLPs
    only) at the first ``MEMORY_TRIES`` layers of ``memory.DEPTHS`` — one added neuron per fact,
    silent away from its key; (1) the ``solve_tries`` best down-projection
    neuron ranges (``neurons="keys"``: per layer, the neurons that carry the facts' keys,
    :func:`patchkit.solve.key_neurons`) by the ``kᵀC⁻¹k`` screen, edited in closed form at the subject — specific to the
    facts given (more facts than ``solve.RANGE_FACTS``, with the default budget: the ``WIDE_TRIES`` best
    whole down projections instead, each the first of a layer-after-layer edit, :meth:`_edit_wide`);
    (2) triage's override head, in closed form at the last token — a route repair moves
    every prompt routed the same way, hence second; (3) only when none of those passed, the gradient
    screen's best ``candidates`` slices, trained. Iterating yields them lazily: the ranges' screen runs only
    if no memory layer passed, the gradient screen only if the loop gets that far. A named component is tried as given.
    """

    def __init__(self, model: Any, tokenizer: Any, amap: Any, *, facts: Sequence[tuple[str, str]],
                 trained: Sequence[tuple[str, str]], selection_set: Any, texts: Sequence[str], triaged: Sequence[Any],
                 named: Sequence[str], method: str, budget: int, share: float, solve_tries: int, candidates: int,
                 solve_config: Any, train_config: Any, fingerprint: Any, say: Any, widen: bool = False,
                 solve_variants: bool = False, neurons: str = "ranges", keep_shape: bool = False) -> None:
        from patchkit import selection

        self.model, self.tokenizer, self.amap = model, tokenizer, amap
        self.facts, self.trained, self.sel, self.texts = list(facts), list(trained), selection_set, list(texts)
        self.triaged, self.named, self.method = triaged, list(named), method
        self.budget, self.share, self.solve_tries, self.candidates = budget, share, solve_tries, candidates
        self.solve_config, self.train_config = solve_config, train_config
        self.fingerprint, self.say = fingerprint, say  # fingerprint(): the base weights' hash (samples cache)
        self.widen = widen  # the budget is the default one: more facts than a range holds get whole projections
        # neuron ranges: each fact's δ and key also from its trained paraphrase (off by default: on the tuning sets
        # paraphrases came out right more often but locality was worse; docs/repair.md, session 8)
        self.solve_variants = solve_variants
        # the closed-form candidates below a whole projection: contiguous neuron ranges (default) or, per layer, the
        # neurons that carry the facts' keys (solve.key_neurons; not the default: on the 32-capital speed set every
        # one was refused by the same neighbour where a range passed; docs/repair.md, session 10)
        self.neurons = neurons
        self.keep_shape = keep_shape  # memory neurons rewrite existing neurons instead of adding new ones
        self.wide: list[str] = []  # whole projections edited for many facts (solve.WIDE_CONFIG), screen order
        # judge(edited, facts) -> judge.Verdict: the selection set's, set by surgery; a wide edit grows a
        # layer at a time while its reasons stay empty
        self.judge: Any = None
        self.templates = selection.infer_templates([p for p, _ in facts])  # where closed-form edits act
        self.head: str | None = None  # triage's override head, when tried (in closed form at the last token)
        self.memory: set[str] = set()  # layers (L5.mlp) edited as memory neurons (patchkit.memory)
        self.closed_form: set[str] = set()  # components edited in closed form (the override head, the ranges)
        self.preserved: list[str] | None = None  # closed-form preservation texts (with the model's own samples)
        self.memo: dict = {}  # a projection's closed-form statistics (screen and solves), shared by its slices
        self.pinned: list[str] = []  # selection neighbours moved by a wide layer, now kept still (no longer judging)
        # a wide edit's selection verdict, by the component it names: judged as it grew, so not judged again
        self.verdicts: dict[str, Any] = {}
        self.plain_edits: dict[str, Any] = {}  # memory layer -> its edit without the contexts (_contexts_moved)
        self.plain_moved: dict[str, set[str]] = {}  # memory layer -> the other questions that edit moves
        self.ranked: list[Candidate] = []  # every screened candidate, in screen order (recorded)
        self.to_try: list[Candidate] = []  # tried in order until one passes the selection set
        self._screened_attention = False
        self._stages: list[Any] = []  # planning steps not yet run, in order; each returns the candidates it adds
        self._plan()

    # -- order ------------------------------------------------------------------------------------

    def _plan(self) -> None:
        from patchkit import memory, solve

        if self.named:
            self.ranked = [Candidate(c, None) for c in self.named]
            self.to_try = list(self.ranked)
            if self.method == "memory":
                self.memory.update(self.named)
            return
        if self.method == "memory":
            memory.require_gated(self.amap)
        if self.method in ("auto", "memory") and "gate" in self.amap.mlp_parts:
            tries = len(memory.DEPTHS) if self.method == "memory" else min(self.solve_tries, MEMORY_TRIES)
            layers = memory.layers_to_try(self.amap.num_layers, tries) if tries > 0 else []
            found = [Candidate(f"L{layer}.mlp", None) for layer in layers]
            # then each layer again without the trained contexts: a key trained to hold after other openings can
            # also fire on another subject ending the same way (tune: Gemma's layer 3 moved "Kinkaku-ji ... city of")
            found += [Candidate(c.component, None, plain=True) for c in found] if self.sel.contexts else []
            self.ranked.extend(found)
            self.to_try.extend(found)
            self.memory.update(c.component for c in found)
            if layers:
                self.say("search: memory neurons, one per fact, at layer " + ", ".join(str(n) for n in layers)
                         + " in turn" + ("" if self.method == "memory" else "; then the closed-form slices"))
        if self.method == "memory":
            return
        tries, wide, budget, share = self.solve_tries, False, self.budget, self.share
        if self.widen and len(self.facts) > solve.RANGE_FACTS and self.solve_tries > 0:
            # more facts than a neuron range holds (a 192-neuron range of SmolLM2 held 12, none of 55): the
            # down projections' budget grows to one whole projection (the head's and trained slices' does not)
            budget = self.amap.d_mlp * self.amap.d_model
            share = budget / sum(p.numel() for p in self.model.parameters())  # (a zero budget cannot scale)
            tries, wide = min(self.solve_tries, WIDE_TRIES), True
            self.say(f"search: {len(self.facts)} facts are more than a neuron range holds ({solve.RANGE_FACTS}); "
                     f"whole down projections are searched ({share:.2%} of the parameters each)")
        if self.method != "solve":
            self.head = override_head(self.triaged, candidate_components(self.amap, max_params=self.budget))

        def ranges() -> list[Candidate]:
            """The closed-form ranges' screen (a quarter to a half of an 8-fact run): after the memories, so
            that it runs only if none of them passed."""
            positions = solve.subject_positions(self.tokenizer, [p for p, _ in self.facts], self.templates)
            if not (self.method in ("auto", "solve") and tries > 0 and (pool := self._down_pool(positions, budget))):
                return []
            self.say(f"search: screening {len(pool)} down-projection slices of at most {budget:,} parameters "
                     f"({share:.2%})" + (": per layer, the neurons that carry the facts' keys"
                                         if self.neurons == "keys" else ""))
            found = [Candidate(c, score) for c, score in
                     solve.screen(self.model, self.tokenizer, self.amap, self.facts, positions, pool,
                                  self.closed_form_texts(), self.sel.train_neighbours, self.solve_config,
                                  memo=self.memo)]
            self.ranked.extend(found)
            self.closed_form.update(c.component for c in found[:tries])
            if wide:
                self.wide = [c.component for c in found[:tries]]
            self.say("search: solving " + ", ".join(f"{arch.short_name(c.component)} ({c.score:.3g})"
                                                    for c in found[:tries]))
            return found[:tries]

        def head() -> list[Candidate]:
            if not self.head:
                return []
            self.say(f"search: triage names {self.head} the override of most fixable facts; it is tried next")
            if self.method == "auto":
                self.closed_form.add(self.head)
            return [Candidate(self.head, None)]

        self._stages = [ranges, head] + ([self._screen_attention] if self.method == "train" else [])
        if not self.to_try:  # no memory layer to try first: plan as far as the first candidate, as before
            while self._stages and not self.to_try:
                self.to_try.extend(self._stages.pop(0)())
        if self.method == "solve" and not self.to_try:
            raise errors.ComponentError(f"no down-projection slice fits {self.share:.2%} of the parameters; "
                                        "raise --max-share")

    def _down_pool(self, positions: list[int], budget: int) -> list[str]:
        """The down-projection slices screened: neuron ranges, or per layer the facts' key neurons (``neurons``)."""
        from patchkit import solve

        if self.neurons == "keys":
            return solve.key_neurons(self.model, self.tokenizer, self.amap, self.facts, positions, budget,
                                     self.closed_form_texts(), self.sel.train_neighbours, self.solve_config,
                                     memo=self.memo)
        return solve.down_candidates(self.amap, budget)

    def _screen_attention(self) -> list[Candidate]:
        """The trained candidates: the gradient screen's best ``candidates``, one per layer."""
        self._screened_attention = True
        pool = candidate_components(self.amap, max_params=self.budget)
        if not pool:
            raise errors.ComponentError(f"no candidate component fits {self.share:.2%} of the parameters; "
                                        "raise --max-share")
        self.say(f"search: screening {len(pool)} components of at most {self.budget:,} parameters")
        found = screen(self.model, self.tokenizer, self.amap, self.facts, self.texts + self.sel.train_neighbours,
                       pool, seed=self.train_config.seed)
        self.ranked.extend(found)
        done = {c.component for c in self.to_try}
        # the override head keeps its slot and its layer (as when it was trained first); ranges solved are skipped
        fresh = [c for c in found if c.component == self.head or c.component not in done]
        picked = [c for c in one_per_layer(fresh, self.candidates, first=self.head) if c.component not in done]
        self.say("search: then training " + ", ".join(f"{c.component} ({c.score:.3g})" for c in picked))
        return picked

    def __iter__(self):
        """The candidates in order, each stage planned only once everything before it was tried: the ranges' screen
        after the memory layers, the gradient screen after everything else."""
        queue = list(self.to_try)
        while queue or self._stages or (self.method == "auto" and not self.named and not self._screened_attention):
            if not queue:
                queue = self._stages.pop(0)() if self._stages else self._screen_attention()
                self.to_try.extend(queue)
                continue
            yield queue.pop(0)

    # -- edits ------------------------------------------------------------------------------------

    def solved(self, component: str) -> bool:
        """Whether ``component`` is edited in closed form (else trained)."""
        from patchkit import solve

        return (self.method in ("solve", "memory") or component in self.closed_form or component in self.memory
                or (self.method == "auto" and bool(self.named) and solve.is_down(component)))

    def closed_form_texts(self) -> list[str]:
        """Preservation texts of closed-form edits: the shipped ones plus the model's own samples (once)."""
        from patchkit import samples

        if self.preserved is None:
            self.say("solve: sampling the model's own text for the preserved statistics")
            self.preserved = self.texts + samples.self_samples(self.model, self.tokenizer, seed=self.train_config.seed,
                                                               fingerprint=self.fingerprint())
        return self.preserved

    def edit(self, candidate: Candidate, targets: Sequence[Any], step_bar: Any = None) -> Any:
        """Edit ``candidate`` (its resolved ``targets``): closed form or training; a TrainResult."""
        from patchkit import solve
        from patchkit.train import train_slices

        m, tok, comp = self.model, self.tokenizer, candidate.component
        if comp in self.memory:
            from patchkit import memory

            if candidate.plain and comp in self.plain_edits:  # made already, to judge the contexts' leak
                return self.plain_edits[comp]
            layer = self.amap.layer_of(targets[0].tensor)
            self.say(f"surgery: memory neurons at layer {layer} (one "
                     f"{'little-used' if self.keep_shape else 'added'} neuron per fact"
                     + (", without the trained contexts)" if candidate.plain else ")"))
            result = self._memory(candidate, layer)
            added = self._contexts_moved(candidate, result)
            for _ in range(CONTEXT_ROUNDS):  # the contexts of the facts asked those questions are given up, the rest kept
                if not added:
                    break
                candidate.given_up = sorted(set(candidate.given_up) | {self.sel.contexts_asked[q] for q in added})
                self.say(f"surgery: with the trained contexts {len(added)} other question(s) about the subjects moved "
                         f"that the memories without them leave alone (e.g. {added[0]!r}); giving up the contexts of "
                         f"{len(candidate.given_up)} fact(s)")
                result = self._memory(candidate, layer)
                result.details["contexts_given_up"] = list(candidate.given_up)
                added = self._contexts_moved(candidate, result)
            if added:
                result.details["contexts_moved"] = added
            return result
        if self.solved(comp) and comp == self.head:
            self.say(f"surgery: solving {comp} in closed form at the last token (the override head's output)")
            # the routing edit: what the override head writes where the answer is read out; every neighbour
            # (confident or not) keeps its key there, since same-template prompts are what it would move
            return solve.solve_slice(m, tok, self.facts, targets[0], templates=self.templates,
                                     preserve=self.closed_form_texts(),
                                     neighbours=self.sel.train_neighbours + self.sel.spare_neighbours,
                                     config=solve.HEAD_CONFIG, seed=self.train_config.seed, at="last", memo=self.memo)
        if comp in self.wide:
            return self._edit_wide(comp)
        if self.solved(comp):
            self.say(f"surgery: solving {arch.short_name(comp)} in closed form")
            return solve.solve_slice(m, tok, self.facts, targets[0], templates=self.templates,
                                     preserve=self.closed_form_texts(), neighbours=self.sel.train_neighbours,
                                     config=self.solve_config, seed=self.train_config.seed, memo=self.memo,
                                     variants=self.sel.train_variants if self.solve_variants else ())
        self.say(f"surgery: training {arch.short_name(comp)}")
        return train_slices(m, tok, self.trained, list(targets), preserve=self.texts, config=self.train_config,
                            progress=step_bar, neighbours=self.sel.train_neighbours, stop_on=len(self.facts))

    def _memory(self, candidate: Candidate, layer: int) -> Any:
        """Memory neurons at ``layer``, trained on ``candidate``'s wordings."""
        from patchkit import memory

        return memory.memory_edit(self.model, self.tokenizer, self.amap, self.facts, layer, templates=self.templates,
                                  preserve=self.closed_form_texts(), neighbours=self.sel.train_neighbours,
                                  variants=self.variants(candidate),
                                  answers=self.sel.train_neighbours + self.sel.spare_neighbours,
                                  config=memory.MemoryConfig(grow=not self.keep_shape),
                                  seed=self.train_config.seed, moved=self._moved, questions=self.sel.train_questions,
                                  fingerprint=self.fingerprint())

    def _contexts_moved(self, candidate: Candidate, result: Any) -> list[str]:
        """Other questions about the subjects (their kind known) whose answer ``result``, a memory trained with the
        contexts, moves and the same layer's memory without them leaves alone.

        Why: the contexts teach a memory its subject after other words, which carries the repair to more wordings,
        but also makes it fire more under other questions about its subject (session 19: the 128 capitals moved "The
        largest city in Turkey is" to " Ankara"). A plain memory fires there too; the contexts must not add to it. The
        plain edit made here is kept, and shipped as is if the search comes to it.
        """
        from patchkit import selection
        from patchkit.train import as_targets, edit_applied

        comp = candidate.component
        if candidate.plain or not self.sel.contexts or not self.sel.contexts_judge:
            return []
        with edit_applied(self.model, result.edited):
            moved = selection.changed(self.model, self.tokenizer, self.sel.contexts_judge)
        if not moved:
            return []
        if comp not in self.plain_moved:
            if comp not in self.plain_edits:
                self.plain_edits[comp] = self.edit(Candidate(comp, None, plain=True), as_targets(self.amap.resolve(comp)))
            with edit_applied(self.model, self.plain_edits[comp].edited):
                self.plain_moved[comp] = {q.prompt for q in selection.changed(self.model, self.tokenizer,
                                                                              self.sel.contexts_judge)}
        return [q.prompt for q in moved if q.prompt not in self.plain_moved[comp]]

    @staticmethod
    def contexts_leak(train: Any) -> list[str]:
        """A refusal reason when a memory layer still moves other questions its plain twin leaves alone after
        :data:`CONTEXT_ROUNDS` rounds of giving up the contexts of the facts they ask about."""
        still = train.details.get("contexts_moved") if train.details else None
        if not still:
            return []
        return [f"with the trained contexts it moves {len(still)} other question(s) about the subjects that the memory "
                f"without them leaves alone (e.g. {still[0]!r})"]

    def variants(self, candidate: Candidate) -> list[tuple[str, str]]:
        """The other wordings ``candidate`` is trained on: the selection set's, less its contexts for a plain one."""
        if not candidate.plain and not candidate.given_up:
            return list(self.sel.train_variants)
        from patchkit import selection

        if candidate.plain:
            contexts = set(self.sel.contexts)
        else:
            dropped = {c for p in candidate.given_up for c in selection.in_contexts(p)}
            contexts = {v for v in self.sel.contexts if v[0] in dropped}
        return [v for v in self.sel.train_variants if v not in contexts]

    def _moved(self, edited: Mapping[str, torch.Tensor]) -> list[Any]:
        """The selection probes whose answer ``edited`` changes (memory neurons swap the culprits' neurons)."""
        from patchkit import selection
        from patchkit.train import edit_applied

        with edit_applied(self.model, edited):
            return selection.changed(self.model, self.tokenizer, self.sel.judge)

    def _edit_wide(self, first: str) -> Any:
        """Whole down projections, one after another, each solved for the facts still wrong after the ones before.

        Why: one projection at the locality floor (``solve.WIDE_CONFIG``) holds most of many facts and
        drops the rest; the next layer holds most of those, and so on. On the tuning set (83 country
        near misses, SmolLM2, layers 3, 4, 6 in turn at ρ ≥ 300) that went 68 -> 76 -> 78 fixed while the
        tuning guards changed stayed at 3 of 102 — against 67–70 for any one layer. A layer is kept only
        while the selection set (``judge``) finds no changed answer; the facts still wrong at the end are
        dropped (``details["dropped"]``) and ``details["component"]`` names the layers used
        (``L3.mlp.down+L4.mlp.down``).

        A layer refused because it moved a few selection neighbours (at most ``PIN_MOVED``) is solved
        again with them kept still — their prompts weighted ``PIN_WEIGHT`` in ``C`` — up to ``PIN_TRIES``
        times; a pinned neighbour judges no more (``details["pinned"]``). On the mixed tuning set that let
        ``L4`` join ``L3``: 68 of 68 fixed instead of 58, right answers changed 7 of 150 instead of 5.
        """
        import time

        from patchkit import evals, solve
        from patchkit.train import TrainResult, as_targets, edit_applied

        start = time.perf_counter()
        order = [first] + [c for c in self.wide if c != first]
        edits: dict[str, torch.Tensor] = {}
        used: list[str] = []
        layers: list[dict[str, Any]] = []
        losses: list[dict[str, float]] = []

        def still_wrong(edited: dict[str, torch.Tensor]) -> list[tuple[str, str]]:
            with edit_applied(self.model, edited):
                scores = evals.score_facts(self.model, self.tokenizer, [evals.Fact(p, t) for p, t in self.facts])
            return [f for f, (ok, _, _) in zip(self.facts, scores) if not ok]

        def solve_layer(comp: str, todo: list[tuple[str, str]]) -> Any:
            (target,) = as_targets(self.amap.resolve(comp))
            with edit_applied(self.model, edits):  # the layers before are part of the model: targets, keys with them
                return solve.solve_slice(self.model, self.tokenizer, todo, target, templates=self.templates,
                                         preserve=self.closed_form_texts(),
                                         neighbours=self.sel.train_neighbours + self.pinned * PIN_WEIGHT,
                                         config=solve.WIDE_CONFIG, seed=self.train_config.seed,
                                         memo=self.memo if not edits and not self.pinned else None)

        todo = list(self.facts)
        self.verdicts.clear()
        for comp in order:
            self.say(f"surgery: solving {comp} in closed form for {len(todo)} facts (those it cannot hold at the "
                     "locality floor are left to the next layer)")
            pinned_before, judging_before = list(self.pinned), list(self.sel.judge_neighbours)
            for attempt in range(PIN_TRIES + 1):
                r = solve_layer(comp, todo)
                trial = {**edits, **r.edited}
                left = still_wrong(trial)
                if used and len(left) >= len(todo):
                    reasons = [f"it fixes none of the {len(todo)} facts left"]
                    break
                verdict = self.judge(trial, [f for f in self.facts if f not in left]) if self.judge else None
                reasons = verdict.reasons if verdict else []
                moved = self._pinnable(verdict.moved) if reasons else []
                if not reasons or attempt == PIN_TRIES or not moved or len(moved) > PIN_MOVED:
                    break
                self._pin(moved)
                self.say(f"surgery: {comp} moved {len(moved)} selection neighbour(s) ({moved[0]!r}); "
                         "solving it again with them kept still (they judge no longer)")
            if used and reasons:
                self.say(f"surgery: {comp} not added ({'; '.join(reasons)})")
                # what it pinned goes back to judging: the layer that needed them kept still is not in the edit
                self.pinned, self.sel.judge_neighbours = pinned_before, judging_before
                break
            # a first layer refused even so is kept: surgery's judge refuses the candidate with these reasons
            edits, todo = trial, left
            used.append(comp)
            if verdict is not None:
                self.verdicts["+".join(used)] = verdict
            layers.append({"component": comp} | {k: v for k, v in r.details.items() if k != "config"})
            losses.extend(r.losses)
            if not todo:
                break
        details = {"method": "closed-form", "at": "subject", "component": "+".join(used), "layers": layers,
                   "config": solve.WIDE_CONFIG.to_dict()}
        if todo:
            details["dropped"] = [p for p, _ in todo]
        if self.pinned:
            details["pinned"] = list(self.pinned)
        return TrainResult(edited=edits, losses=losses, seconds=time.perf_counter() - start, details=details)

    def _pinnable(self, moved: Sequence[str]) -> list[str]:
        """Of the moved selection prompts, the judging neighbours (generic prompts are never pinned)."""
        judging = {p.prompt for p in self.sel.judge_neighbours}
        return [p for p in moved if p in judging]

    def _pin(self, prompts: Sequence[str]) -> None:
        """Keep ``prompts`` still in every later solve; they leave the judging neighbours (trained, not judged)."""
        self.pinned.extend(prompts)
        gone = set(prompts)
        self.sel.judge_neighbours = [p for p in self.sel.judge_neighbours if p.prompt not in gone]
