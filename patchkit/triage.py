"""Triage: tell routing failures (fixable by surgery) from absent knowledge.

For each wrong fact the answer token is traced against the model's own
choice (:func:`patchkit.trace.trace`).  Routing means moving information
between positions, which only attention does, so the evidence looked for is
attention's: the layer whose heads add the most to
``logit(target) - logit(rival)`` (the *peak*), and the strongest single
component pulling the other way after it (the *override*).

Verdicts (thresholds are keyword arguments, defaults in ``DEFAULTS``):

* ``ok`` — the model already produces the whole target (teacher-forced top-1).
* ``routing`` — wrong, but the target is near the top (``rank <= max_rank``)
  and some attention layer carries at least ``min_evidence`` logits of
  target-over-rival evidence: the answer is retrieved and then lost, so a
  small edit where it is carried should work.
* ``near_miss`` — wrong, not routing by the rule above, but the target is
  among the model's top ``near_rank`` tokens and within ``near_gap`` logits of
  the winner, whatever the attention evidence: the model ranks the answer second or third, which is
  what "the model knows it" means in practice (calibrated in docs/repair.md:
  such facts are fixed by a one-slice edit about as often as routing ones).
* ``absent`` — wrong with neither signal: the model does not rank the answer
  near the top; that needs training, not surgery.

Every item carries ``reason``: one line with the rank, the gap and where the
attention evidence is, so a verdict can be checked by reading it.

For a multi-token target the first wrong token is the one traced (with the
right tokens before it teacher-forced into the prompt).

The suggested component for the routing group is the value projection of
the attention layer that carries the most positive evidence summed over the
routing facts (``L{n}.attn.v``); ``suggested_heads`` names that layer's
strongest heads as value-head components (with grouped-query attention a
query head h reads KV head ``h // (num_heads // num_kv_heads)``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import torch

from patchkit import arch
from patchkit.evals import Fact
from patchkit.models import single_thread
from patchkit.trace import TraceResult, continuation_ids, trace

DEFAULTS = {"min_evidence": 2.0, "max_rank": 10, "near_rank": 5, "near_gap": 5.0}
VERDICTS = ("ok", "routing", "near_miss", "absent")
FIXABLE = ("routing", "near_miss")


@dataclass
class TriageItem:
    """One fact's diagnosis.

    ``logit_gap`` is ``logit(target) - logit(best other token)`` at the traced
    position: negative when wrong (how far behind), positive margin when right.
    ``rank`` is 1-based.  ``peak_*`` describe the attention layer with the most
    target-over-rival evidence; ``override_*`` the most negative component
    (head or MLP) after it.
    """

    prompt: str
    target: str
    correct: bool
    rank: int
    logit_gap: float
    traced_token: str
    rival: str
    peak_evidence: float
    peak_layer: int
    peak_head: str
    override_layer: int | None
    override_component: str | None
    override_diff: float
    verdict: str
    reason: str = ""

    @property
    def fixable(self) -> bool:
        """Wrong, and the model has the answer near the top: surgery's job."""
        return self.verdict in FIXABLE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TriageReport:
    """Triage of a facts list: per-fact items, counts, and the component to edit."""

    items: list[TriageItem]
    suggested_component: str | None
    suggested_heads: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(i.verdict for i in self.items)
        return {v: c.get(v, 0) for v in VERDICTS}

    def group(self, verdict: str) -> list[TriageItem]:
        return [i for i in self.items if i.verdict == verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() for i in self.items],
            "counts": self.counts,
            "suggested_component": self.suggested_component,
            "suggested_heads": self.suggested_heads,
            "thresholds": self.thresholds,
        }


def triage(
    model: Any,
    tokenizer: Any,
    facts: Iterable[Fact],
    progress: bool = False,
    **thresholds: float,
) -> TriageReport:
    """Diagnose each fact as ``ok``, ``routing`` or ``absent``.

    Args:
        model, tokenizer: a causal LM (eval mode) and its tokenizer.
        facts: from :func:`patchkit.evals.load_facts`.
        progress: show a progress bar.
        **thresholds: ``min_evidence`` (logits, default 2.0) and ``max_rank`` (default 10).
    Returns:
        A :class:`TriageReport`.
    Example:
        >>> report = triage(model, tok, load_facts("capitals.jsonl"))   # doctest: +SKIP
        >>> report.counts, report.suggested_component                   # doctest: +SKIP
        ({'ok': 18, 'routing': 8, 'absent': 0}, 'L23.attn.v')
    """
    unknown = set(thresholds) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"triage: unknown threshold(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    th = {**DEFAULTS, **thresholds}
    amap = arch.for_model(model.config)
    facts = list(facts)
    if progress:
        from patchkit.progress import bar

        facts = bar(facts, desc="triage", unit="fact")
    items, evidence = [], defaultdict(float)
    head_evidence: dict[tuple[int, int], float] = defaultdict(float)
    diagnosed = []
    for fact in facts:
        with single_thread():
            item, result = _diagnose(model, tokenizer, amap, fact, th)
        items.append(item)
        diagnosed.append((item, result))
    # the suggestion reads the routing group's evidence (the near misses' when there is no routing group)
    group = "routing" if any(i.verdict == "routing" for i in items) else "near_miss"
    for item, result in diagnosed:
        if item.verdict == group:
            for n, value in enumerate(_attn_by_layer(result, amap.num_layers)):
                evidence[n] += max(value, 0.0)
            for c in result.components:
                if c.kind == "attn_head":
                    head_evidence[(c.layer, c.head)] += max(c.diff, 0.0)
    suggested, heads = None, []
    if evidence:
        layer = max(evidence, key=lambda n: evidence[n])
        suggested = f"L{layer}.attn.v"
        group = amap.num_heads // amap.num_kv_heads
        ranked = sorted((h for (n, h) in head_evidence if n == layer), key=lambda h: -head_evidence[(layer, h)])
        for h in ranked[:2]:
            name = f"L{layer}.attn.v.h{h // group}"
            if name not in heads and head_evidence[(layer, h)] > 0:
                heads.append(name)
    return TriageReport(items, suggested, heads, th)


def _attn_by_layer(result: TraceResult, num_layers: int) -> list[float]:
    out = [0.0] * num_layers
    for c in result.components:
        if c.kind in ("attn_head", "attn_bias"):
            out[c.layer] += c.diff
    return out


def _diagnose(model: Any, tokenizer: Any, amap: arch.ArchMap, fact: Fact, th: dict) -> tuple[TriageItem, TraceResult]:
    prompt_ids = tokenizer(fact.prompt).input_ids
    target_ids = continuation_ids(tokenizer, fact.prompt, fact.target)
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids + target_ids[:-1]]), use_cache=False).logits[0]
    steps = logits[len(prompt_ids) - 1:]
    top = steps.argmax(-1).tolist()
    wrong = [k for k, (a, b) in enumerate(zip(top, target_ids)) if a != b]
    k = wrong[0] if wrong else 0  # the position traced: first wrong token, else the first
    row = steps[k]
    tid = target_ids[k]
    others = row.clone()
    others[tid] = float("-inf")
    rank = int((row > row[tid]).sum().item()) + 1
    gap = (row[tid] - others.max()).item()
    result = trace(
        model, tokenizer, fact.prompt, target=tid, prompt_ids=prompt_ids + target_ids[:k],
    )
    attn = _attn_by_layer(result, amap.num_layers)
    peak_layer = max(range(amap.num_layers), key=lambda n: attn[n])
    heads = [c for c in result.components if c.kind == "attn_head" and c.layer == peak_layer]
    peak_head = max(heads, key=lambda c: c.diff).name if heads else f"L{peak_layer}.attn"
    later = [c for c in result.components if c.layer is not None and c.layer > peak_layer and c.kind != "attn_bias"]
    override = min(later, key=lambda c: c.diff) if later else None
    verdict, reason = _verdict(not wrong, rank, gap, attn[peak_layer], peak_layer, th)
    item = TriageItem(
        prompt=fact.prompt,
        target=fact.target,
        correct=not wrong,
        rank=rank,
        logit_gap=gap,
        traced_token=result.target,
        rival=result.rival,
        peak_evidence=attn[peak_layer],
        peak_layer=peak_layer,
        peak_head=peak_head,
        override_layer=override.layer if override else None,
        override_component=override.name if override else None,
        override_diff=override.diff if override else 0.0,
        verdict=verdict,
        reason=reason,
    )
    return item, result


def _verdict(correct: bool, rank: int, gap: float, evidence: float, layer: int, th: dict) -> tuple[str, str]:
    """The verdict and the one-line reason for it."""
    where = f"attention evidence {evidence:+.2f} logits at layer {layer}"
    if correct:
        return "ok", f"target is the model's top-1 (margin {gap:+.2f})"
    if rank <= th["max_rank"] and evidence >= th["min_evidence"]:
        return "routing", f"target ranked {rank}, gap {gap:+.2f}; {where} (>= {th['min_evidence']:g}), lost later"
    if rank <= th["near_rank"] and -gap <= th["near_gap"]:
        return "near_miss", (f"target ranked {rank}, {-gap:.2f} logits behind the winner "
                             f"(near miss: rank <= {th['near_rank']:g}, gap <= {th['near_gap']:g}); {where}")
    return "absent", (f"target ranked {rank}, {-gap:.2f} logits behind; {where}: "
                      f"neither a near miss nor a retrieved-then-lost answer")


def format_report(report: TriageReport) -> str:
    """The table for people, with counts and the suggestion at the end."""
    rows = [
        f"{'prompt':<34}{'target':<14}{'verdict':<10}{'rank':>5}{'gap':>8}{'peak':>8}  {'carried by':<13}{'overridden by':<16}{'by':>7}"
    ]
    for i in report.items:
        over = i.override_component or "-"
        rows.append(
            f"{_cut(i.prompt, 33):<34}{_cut(i.target, 13):<14}{i.verdict:<10}{i.rank:>5}{i.logit_gap:>+8.2f}"
            f"{i.peak_evidence:>+8.2f}  {i.peak_head:<13}{over:<16}{i.override_diff:>+7.2f}"
        )
    wrong = [i for i in report.items if not i.correct]
    if wrong:
        rows.append("")
        rows.append("why:")
        rows.extend(f"  {_cut(i.prompt, 33)}: {i.verdict}: {i.reason}" for i in wrong)
    c = report.counts
    rows.append("")
    rows.append(f"{len(report.items)} facts: {c['ok']} ok, {c['routing']} routing, {c['near_miss']} near misses, "
                f"{c['absent']} absent")
    if report.suggested_component:
        heads = f" (strongest value heads: {', '.join(report.suggested_heads)})" if report.suggested_heads else ""
        rows.append(f"suggested component for the routing group: {report.suggested_component}{heads}")
    th = report.thresholds
    rows.append(f"thresholds: near miss rank <= {th.get('near_rank')} and gap <= {th.get('near_gap')} logits; "
                f"routing rank <= {th.get('max_rank')} and evidence >= {th.get('min_evidence')} logits")
    return "\n".join(rows)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
