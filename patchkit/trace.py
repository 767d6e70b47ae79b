"""Direct logit attribution: what each layer and head adds to target-vs-rival.

At the last prompt position the residual stream is a sum of pieces written by
the embeddings, every attention head (head h's slice of the output-projection
input times its block of the output weight), each attention output bias and
each MLP.  The final norm is linearised with its scale frozen from the full
residual (LayerNorm: each piece is centred; RMSNorm: no centring), so each
piece's effect on ``logit(target) - logit(rival)`` is exact and they add up
to the model's own logit difference.  Gemma 3 normalises attention's and the
MLP's outputs before adding them to the residual; those RMSNorms are
linearised the same way (scale frozen at the run's value for that layer's
whole attention output, resp. MLP output), so every head still writes an
exact, additive piece.  Models whose logits are not linear in the residual
stream (final-logit soft-capping) are refused.  ``trace`` checks that on every run and
raises :class:`~patchkit.errors.AttributionError` rather than report numbers
that do not add up.

Everything is read with forward hooks on the unmodified transformers model:
one forward pass plus a few small matrix products per prompt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from patchkit import arch, errors
from patchkit.models import single_thread

KINDS = ("embed", "attn_head", "attn_bias", "mlp", "other")


@dataclass
class Contribution:
    """One component's direct effect on the target and rival logits."""

    name: str
    kind: str
    layer: int | None
    head: int | None
    target: float
    rival: float
    diff: float


@dataclass
class TraceResult:
    """A traced prompt; ``to_dict()`` is the ``patchkit trace --json`` object."""

    prompt: str
    target: str
    rival: str
    target_id: int
    rival_id: int
    logit_target: float
    logit_rival: float
    logit_diff: float
    components: list[Contribution]
    top_tokens: list[tuple[str, float]] = field(default_factory=list)
    num_layers: int = 0
    num_heads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "target": self.target,
            "rival": self.rival,
            "target_id": self.target_id,
            "rival_id": self.rival_id,
            "logit_target": self.logit_target,
            "logit_rival": self.logit_rival,
            "logit_diff": self.logit_diff,
            "components": [asdict(c) for c in self.components],
        }

    def per_layer(self) -> list[dict[str, float]]:
        """Per layer: attention (heads + bias), MLP, their sum, and the running total.

        The running total starts from the embeddings, so ``cumulative`` at
        layer n is how far ahead the target is of the rival in the residual
        stream after layer n (as read by the final norm and unembedding).
        """
        rows = []
        running = sum(c.diff for c in self.components if c.kind == "embed")
        for n in range(self.num_layers):
            attn = sum(c.diff for c in self.components if c.layer == n and c.kind in ("attn_head", "attn_bias"))
            mlp = sum(c.diff for c in self.components if c.layer == n and c.kind == "mlp")
            running += attn + mlp
            rows.append({"layer": n, "attn": attn, "mlp": mlp, "total": attn + mlp, "cumulative": running})
        return rows

    def head_matrix(self) -> list[list[float]]:
        """``[layer][head]`` of each head's contribution to the difference."""
        m = [[0.0] * self.num_heads for _ in range(self.num_layers)]
        for c in self.components:
            if c.kind == "attn_head":
                m[c.layer][c.head] = c.diff
        return m


def trace(
    model: Any,
    tokenizer: Any,
    prompt: str,
    target: str | int | None = None,
    rival: str | int | None = None,
    atol: float = 1e-3,
    prompt_ids: list[int] | None = None,
) -> TraceResult:
    """Attribute ``logit(target) - logit(rival)`` at the prompt's last position.

    Args:
        model: a transformers causal LM of a family :mod:`patchkit.arch` knows.
        tokenizer: its tokenizer.
        prompt: the text to complete.
        target: the answer text (its first token is traced); default the
            model's top token.  A space is put between prompt and target when
            neither has one (``Warsaw`` after ``… is`` means `` Warsaw``).
            An ``int`` is taken as a token id.
        rival: the competing text (or token id); default the model's top
            token, or its second choice when the target is the top token.
        atol: how far the components' sum may be from the model's logits.
        prompt_ids: trace these token ids instead of tokenising ``prompt``
            (used to trace inside a multi-token answer; ``prompt`` is then a label).
    Returns:
        A :class:`TraceResult`.
    Raises:
        AttributionError: the contributions do not add up within ``atol``.
    Example:
        >>> r = trace(model, tok, "The capital of Poland is", " Warsaw")  # doctest: +SKIP
        >>> r.logit_diff                                                   # doctest: +SKIP
        -0.93
    """
    amap = arch.for_model(model.config)
    if amap.unattributable:
        raise errors.AttributionError(
            f"trace: {amap.model_type} with {amap.unattributable}; patchkit refuses to report an approximate sum"
        )
    ids = torch.tensor([prompt_ids]) if prompt_ids is not None else tokenizer(prompt, return_tensors="pt").input_ids
    if ids.shape[1] == 0:
        raise errors.UsageError("trace: the prompt is empty")
    with single_thread():
        acts, logits = _run_with_hooks(model, amap, ids)
    final = logits[0, -1].to(torch.float64)
    target_id, rival_id = _pick_tokens(tokenizer, prompt, final, target, rival)

    W_U = model.get_output_embeddings().weight
    u = W_U[[target_id, rival_id]].detach().to(torch.float64)  # [2, d]
    norm = model.get_submodule(amap.final_norm_module)
    x = acts["final"]
    gain = norm.weight.detach().to(torch.float64) + amap.norm_gain_offset
    eps = _norm_eps(norm)
    if amap.norm_kind == "layernorm":
        scale = 1.0 / torch.sqrt(x.var(unbiased=False) + eps)
        centre = True
    else:
        scale = 1.0 / torch.sqrt((x * x).mean() + eps)
        centre = False
    readout = (u * gain) * scale  # [2, d]: effect of a residual piece on the two logits

    pieces: list[tuple[str, str, int | None, int | None, torch.Tensor]] = []
    for i, mod in enumerate(amap.embed_modules):
        name = "embed" if len(amap.embed_modules) == 1 else ("embed.tok", "embed.pos")[i]
        pieces.append((name, "embed", None, None, acts[mod]))
    dh = amap.head_dim
    for n in range(amap.num_layers):
        out = model.get_submodule(amap.attn_out_module(n))
        W = out.weight.detach().to(torch.float64)
        z = acts[f"heads{n}"]
        post_attn = _frozen_rms(model, amap, amap.post_attn_norm_module(n), acts)
        post_mlp = _frozen_rms(model, amap, amap.post_mlp_norm_module(n), acts)
        for h in range(amap.num_heads):
            block = slice(h * dh, (h + 1) * dh)
            vec = z[block] @ (W[block, :] if amap.attn_out_is_conv1d else W[:, block].T)
            pieces.append((f"L{n}.attn.h{h}", "attn_head", n, h, vec * post_attn))
        if getattr(out, "bias", None) is not None:
            bias = out.bias.detach().to(torch.float64)
            pieces.append((f"L{n}.attn.bias", "attn_bias", n, None, bias * post_attn))
        pieces.append((f"L{n}.mlp", "mlp", n, None, acts[f"mlp{n}"] * post_mlp))

    total = torch.stack([p[4] for p in pieces]).sum(0)
    rebuild_error = ((total - x).abs().max() / x.abs().max().clamp_min(1e-12)).item()
    if rebuild_error > 1e-3:
        raise errors.AttributionError(
            f"trace: the components do not rebuild the residual stream (relative error {rebuild_error:.3g}); "
            "this model adds something to it that patchkit does not know about"
        )
    components = []
    for name, kind, layer, head, vec in pieces:
        v = vec - vec.mean() if centre else vec
        t, r = (readout @ v).tolist()
        components.append(Contribution(name, kind, layer, head, t, r, t - r))
    if centre and getattr(norm, "bias", None) is not None:
        t, r = (u @ norm.bias.detach().to(torch.float64)).tolist()
        components.append(Contribution("final_norm.bias", "other", None, None, t, r, t - r))
    head_bias = getattr(model.get_output_embeddings(), "bias", None)
    if head_bias is not None:
        t, r = head_bias.detach().to(torch.float64)[[target_id, rival_id]].tolist()
        components.append(Contribution("lm_head.bias", "other", None, None, t, r, t - r))

    logit_t, logit_r = final[target_id].item(), final[rival_id].item()
    sums = (sum(c.target for c in components), sum(c.rival for c in components))
    for label, got, want in (("target", sums[0], logit_t), ("rival", sums[1], logit_r),
                             ("difference", sums[0] - sums[1], logit_t - logit_r)):
        if abs(got - want) > atol:
            raise errors.AttributionError(
                f"trace: contributions to the {label} logit sum to {got:.6f} but the model gives {want:.6f} "
                f"(|error| {abs(got - want):.2e} > {atol:g})"
            )
    top = torch.topk(final, k=min(5, final.numel()))
    return TraceResult(
        prompt=prompt,
        target=tokenizer.decode([target_id]),
        rival=tokenizer.decode([rival_id]),
        target_id=target_id,
        rival_id=rival_id,
        logit_target=logit_t,
        logit_rival=logit_r,
        logit_diff=logit_t - logit_r,
        components=components,
        top_tokens=[(tokenizer.decode([i]), v) for i, v in zip(top.indices.tolist(), top.values.tolist())],
        num_layers=amap.num_layers,
        num_heads=amap.num_heads,
    )


def continuation_ids(tokenizer: Any, prompt: str, text: str) -> list[int]:
    """Token ids of ``text`` as the model would see it right after ``prompt``.

    A space is inserted when neither the prompt ends with nor the text starts
    with whitespace.  Tokenises prompt+text and strips the prompt's tokens, so
    tokenizers that merge across the boundary or mark word starts still agree
    with generation; falls back to tokenising ``text`` alone when the prompt's
    tokens are not a prefix.
    """
    if text and prompt and not text[0].isspace() and not prompt[-1].isspace():
        text = " " + text
    p = tokenizer(prompt).input_ids
    full = tokenizer(prompt + text).input_ids
    if full[: len(p)] == p and len(full) > len(p):
        return full[len(p):]
    ids = tokenizer(text, add_special_tokens=False).input_ids
    if not ids:
        raise errors.UsageError(f"{text!r}: tokenises to nothing")
    return ids


def _pick_tokens(
    tokenizer: Any, prompt: str, final: torch.Tensor, target: str | int | None, rival: str | int | None
) -> tuple[int, int]:
    order = torch.argsort(final, descending=True).tolist()

    def token(x: str | int) -> int:
        if isinstance(x, int):
            if not 0 <= x < final.numel():
                raise errors.UsageError(f"trace: token id {x} is outside the vocabulary")
            return x
        return continuation_ids(tokenizer, prompt, x)[0]

    t = token(target) if target is not None else order[0]
    if rival is not None:
        r = token(rival)
    else:
        r = order[0] if order[0] != t else order[1]
    if r == t:
        raise errors.UsageError(f"trace: target and rival are the same token ({tokenizer.decode([t])!r})")
    return t, r


def _frozen_rms(model: Any, amap: arch.ArchMap, module: str | None, acts: dict[str, torch.Tensor]) -> torch.Tensor | float:
    """The per-dimension factor a post-sublayer RMSNorm applied at this run (1.0 where there is none).

    ``norm(a) = a * gain / rms(a)``; with ``rms(a)`` frozen at the value of the
    whole sublayer output ``a`` it is linear, so each head's share of ``a``
    maps to its exact share of ``norm(a)``.
    """
    if module is None:
        return 1.0
    norm = model.get_submodule(module)
    a = acts[module]
    gain = norm.weight.detach().to(torch.float64) + amap.norm_gain_offset
    return gain / torch.sqrt((a * a).mean() + _norm_eps(norm))


def _norm_eps(norm: torch.nn.Module) -> float:
    for attr in ("variance_epsilon", "eps", "epsilon"):
        if hasattr(norm, attr):
            return float(getattr(norm, attr))
    raise errors.AttributionError(f"trace: cannot find the epsilon of {type(norm).__name__}")


def _run_with_hooks(model: Any, amap: arch.ArchMap, ids: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One forward pass, keeping the last position of every residual piece (as float64)."""
    acts: dict[str, torch.Tensor] = {}

    def keep_out(key: str):
        def hook(_m, _a, out):
            o = out[0] if isinstance(out, tuple) else out
            acts[key] = o[0, -1].detach().to(torch.float64)
        return hook

    def keep_in(key: str):
        def hook(_m, args):
            acts[key] = args[0][0, -1].detach().to(torch.float64)
        return hook

    handles = []
    try:
        for mod in amap.embed_modules:
            handles.append(model.get_submodule(mod).register_forward_hook(keep_out(mod)))
        for n in range(amap.num_layers):
            handles.append(model.get_submodule(amap.attn_out_module(n)).register_forward_pre_hook(keep_in(f"heads{n}")))
            handles.append(model.get_submodule(amap.mlp_module(n)).register_forward_hook(keep_out(f"mlp{n}")))
            for norm in (amap.post_attn_norm_module(n), amap.post_mlp_norm_module(n)):
                if norm is not None:
                    handles.append(model.get_submodule(norm).register_forward_pre_hook(keep_in(norm)))
        handles.append(model.get_submodule(amap.final_norm_module).register_forward_pre_hook(keep_in("final")))
        with torch.no_grad():
            logits = model(ids, use_cache=False).logits
    finally:
        for h in handles:
            h.remove()
    return acts, logits


def format_trace(result: TraceResult, top: int = 10) -> str:
    """The table for people: strongest components, per-layer summary, final logits."""
    lines = [
        f"prompt   {result.prompt!r}",
        f"target   {result.target!r} (id {result.target_id})   logit {result.logit_target:8.3f}",
        f"rival    {result.rival!r} (id {result.rival_id})   logit {result.logit_rival:8.3f}",
        f"difference (target - rival)  {result.logit_diff:+.3f}",
        "",
        f"strongest {top} components (by |difference|):",
        f"  {'component':<16}{'layer':>6}{'head':>6}{'→target':>10}{'→rival':>10}{'diff':>10}",
    ]
    for c in sorted(result.components, key=lambda c: -abs(c.diff))[:top]:
        layer = "" if c.layer is None else str(c.layer)
        head = "" if c.head is None else str(c.head)
        lines.append(f"  {c.name:<16}{layer:>6}{head:>6}{c.target:>10.3f}{c.rival:>10.3f}{c.diff:>+10.3f}")
    lines += ["", "per layer (difference):", f"  {'layer':>5}{'attn':>10}{'mlp':>10}{'total':>10}{'running':>10}"]
    embed = sum(c.diff for c in result.components if c.kind == "embed")
    lines.append(f"  {'embed':>5}{'':>10}{'':>10}{embed:>+10.3f}{embed:>+10.3f}")
    for row in result.per_layer():
        lines.append(
            f"  {row['layer']:>5}{row['attn']:>+10.3f}{row['mlp']:>+10.3f}{row['total']:>+10.3f}{row['cumulative']:>+10.3f}"
        )
    other = sum(c.diff for c in result.components if c.kind == "other")
    if any(c.kind == "other" for c in result.components):
        lines.append(f"  {'other':>5}{'':>10}{'':>10}{other:>+10.3f}")
    lines += ["", "final logits (top 5): " + ", ".join(f"{t!r} {v:.3f}" for t, v in result.top_tokens)]
    return "\n".join(lines)


def plot_trace(result: TraceResult, path: str | Path) -> Path:
    """Write a layer x head heatmap of contributions to the difference (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise errors.UsageError("--plot needs matplotlib: pip install 'patchkit[plot]'") from exc
    m = torch.tensor(result.head_matrix())
    lim = float(m.abs().max()) or 1.0
    fig, ax = plt.subplots(figsize=(2 + 0.5 * result.num_heads, 1 + 0.25 * result.num_layers))
    im = ax.imshow(m.numpy(), cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto", origin="lower")
    ax.set_xlabel("head")
    ax.set_ylabel("layer (0-based)")
    ax.set_title(f"{result.prompt!r}: {result.target!r} vs {result.rival!r}", fontsize=9)
    fig.colorbar(im, ax=ax, label="logit difference")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
