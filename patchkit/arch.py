"""Architecture map: component names -> (tensor, slice), per model family.

Everything else in patchkit speaks in components (``L15.attn.v``,
``L3.attn.o.h2``, ``L7.mlp``); this module is the one place that knows where
each component's weights live and how attention heads are laid out in them.

Component names (layers and heads are 0-based, matching the Hugging Face
module indices ``model.layers.{n}`` / ``transformer.h.{n}``):

* ``L{n}.attn.{q,k,v,o}`` — one projection of layer n's attention;
* ``L{n}.attn.{q,k,v,o}.h{h}`` — one head's slice of it.  For ``q`` and
  ``o`` h is a query head.  For ``k`` and ``v`` h is a *key/value* head: with
  grouped-query attention (Llama family, ``num_kv_heads < num_heads``) KV head
  h is shared by query heads ``h*g … (h+1)*g-1`` where ``g = num_heads //
  num_kv_heads``;
* ``L{n}.mlp.{up,gate,down}`` (``gate`` only where the family has one);
* ``L{n}.attn``, ``L{n}.mlp``, ``L{n}`` — the union of the above (``L{n}`` is
  attention plus MLP; layer norms are not part of any component).

Gemma 3 (``gemma3_text``) stores its projections exactly as Llama does, so its
components have the same names and slices; what differs is the block around
them (an RMSNorm after attention and after the MLP, gains stored as ``w`` and
applied as ``1 + w``), which :mod:`patchkit.trace` reads from
:meth:`ArchMap.post_attn_norm_module`, :meth:`ArchMap.post_mlp_norm_module`
and :attr:`ArchMap.norm_gain_offset`.

Biases: by default a component is its *weights only* (as in the original
GPT-2 demonstration, which trained ``c_attn.weight[:, 2d:3d]`` alone).  Pass
``include_bias=True`` to :meth:`ArchMap.resolve` to add the matching bias
slices where the model has biases.  Consumers (surgery, masks) train and
record exactly what ``resolve`` returns.

Example:
    >>> amap = for_model(model)                     # doctest: +SKIP
    >>> amap.resolve("L15.attn.v")                  # doctest: +SKIP
    [TensorSlice(tensor='model.layers.15.self_attn.v_proj.weight',
                 slices=(slice(0, 192), slice(0, 576)), label='L15.attn.v')]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from patchkit import errors

# config.model_type -> family
_FAMILIES: dict[str, str] = {
    "gpt2": "gpt2",
    "llama": "llama",
    "mistral": "llama",
    "qwen2": "llama",
    "gpt_neox": "gpt_neox",
    "gemma3_text": "gemma3",
}

# Families whose tensors are laid out like another's (same names, same slices).
_LAYOUT: dict[str, str] = {"gemma3": "llama"}

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(_FAMILIES)

# The config key transformers builds every layer's MLP width from (Llama, Gemma 3): what a widening patch raises.
MLP_SIZE_KEY = "intermediate_size"

_COMPONENT_RE = re.compile(
    r"^L(\d+)(?:\.(attn|mlp)(?:\.(q|k|v|o|up|gate|down)(?:\.h(\d+)|\.n(\d+(?::\d+)?(?:,\d+(?::\d+)?)*))?)?"
    r"|\.mlp\.n(\d+(?::\d+)?(?:,\d+(?::\d+)?)*))?$"
)


@dataclass(frozen=True)
class TensorSlice:
    """One rectangular piece of one tensor.

    ``slices`` has one explicit ``slice(start, stop)`` per tensor dimension
    (full dimensions are ``slice(0, dim)``, never ``slice(None)``), so a
    consumer can build a mask or count parameters without the tensor; a
    down projection's chosen neurons (``L5.mlp.down.n3,17:20``) are a tuple of
    indices in their dimension (torch and numpy index with it as they do with a list).
    """

    tensor: str
    slices: tuple[slice, ...]
    label: str

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(s) if isinstance(s, tuple) else s.stop - s.start for s in self.slices)

    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def mask(self, shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
        """A boolean tensor of ``shape`` that is True exactly inside this slice."""
        m = torch.zeros(tuple(shape), dtype=torch.bool)
        m[self.slices] = True
        return m

    def to_dict(self) -> dict[str, Any]:
        return {"tensor": self.tensor, "slices": slices_json(self.slices), "label": self.label}


@dataclass(frozen=True)
class ArchMap:
    """Where one model's components live, and the module paths trace needs.

    Attributes:
        family: ``gpt2``, ``llama``, ``gpt_neox`` or ``gemma3``.
        model_type: the config's ``model_type`` (``mistral``, ``qwen2``, ``gemma3_text`` …).
        num_layers, num_heads, num_kv_heads, head_dim, d_model, d_mlp: sizes.
        norm_kind: ``layernorm`` or ``rmsnorm`` (how the final norm is linearised).
        unattributable: why this variant's logits are not an exact sum of parts
            (e.g. final-logit soft-capping), or None; trace refuses such models.
    """

    family: str
    model_type: str
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    d_model: int
    d_mlp: int
    norm_kind: str
    unattributable: str | None = None
    _biases: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def layout(self) -> str:
        """The family whose tensor names and module paths this one shares (itself if none)."""
        return _LAYOUT.get(self.family, self.family)

    @property
    def norm_gain_offset(self) -> float:
        """Gemma's RMSNorms scale by ``1 + weight``; everyone else's by ``weight``."""
        return 1.0 if self.family == "gemma3" else 0.0

    def post_attn_norm_module(self, layer: int) -> str | None:
        """The norm applied to attention's output before it joins the residual stream (Gemma), or None."""
        return f"{self.layer_prefix(layer)}.post_attention_layernorm" if self.family == "gemma3" else None

    def post_mlp_norm_module(self, layer: int) -> str | None:
        """The norm applied to the MLP's output before it joins the residual stream (Gemma), or None."""
        return f"{self.layer_prefix(layer)}.post_feedforward_layernorm" if self.family == "gemma3" else None

    # ---- module paths (used by trace; dotted names for model.get_submodule) ----

    @property
    def embed_modules(self) -> tuple[str, ...]:
        """Modules whose outputs, summed, are the residual stream before layer 0."""
        return {
            "gpt2": ("transformer.wte", "transformer.wpe"),
            "llama": ("model.embed_tokens",),
            "gpt_neox": ("gpt_neox.embed_in",),
        }[self.layout]

    def layer_prefix(self, layer: int) -> str:
        return {"gpt2": "transformer.h", "llama": "model.layers", "gpt_neox": "gpt_neox.layers"}[
            self.layout
        ] + f".{layer}"

    def layer_of(self, tensor: str) -> int | None:
        """The decoder layer a tensor name belongs to (``model.layers.6.mlp.down_proj.weight`` -> 6), or None."""
        prefix = self.layer_prefix(0).rsplit(".", 1)[0] + "."
        head = tensor[len(prefix):].split(".", 1)[0] if tensor.startswith(prefix) else ""
        return int(head) if head.isdigit() else None

    def attn_out_module(self, layer: int) -> str:
        """The attention output projection, whose input is the concatenated heads."""
        sub = {"gpt2": "attn.c_proj", "llama": "self_attn.o_proj", "gpt_neox": "attention.dense"}[self.layout]
        return f"{self.layer_prefix(layer)}.{sub}"

    def mlp_module(self, layer: int) -> str:
        return f"{self.layer_prefix(layer)}.mlp"

    @property
    def final_norm_module(self) -> str:
        return {"gpt2": "transformer.ln_f", "llama": "model.norm", "gpt_neox": "gpt_neox.final_layer_norm"}[
            self.layout
        ]

    @property
    def attn_out_is_conv1d(self) -> bool:
        """GPT-2's Conv1D stores weights ``[in, out]``; everyone else ``[out, in]``."""
        return self.family == "gpt2"

    # ---- components ----

    @property
    def mlp_parts(self) -> tuple[str, ...]:
        return ("gate", "up", "down") if self.layout == "llama" else ("up", "down")

    def components(self, heads: bool = False) -> list[str]:
        """Every valid component name (with per-head names if ``heads``)."""
        out: list[str] = []
        for n in range(self.num_layers):
            out.append(f"L{n}")
            out.append(f"L{n}.attn")
            for p in "qkvo":
                out.append(f"L{n}.attn.{p}")
                if heads:
                    count = self.num_kv_heads if p in "kv" else self.num_heads
                    out.extend(f"L{n}.attn.{p}.h{h}" for h in range(count))
            out.append(f"L{n}.mlp")
            out.extend(f"L{n}.mlp.{p}" for p in self.mlp_parts)
        return out

    def resolve(self, component: str, include_bias: bool = False) -> list[TensorSlice]:
        """Return the tensor slices that make up ``component``.

        Args:
            component: a name such as ``L15.attn.v``, ``L3.attn.o.h2``, ``L7.mlp``, ``L0``, or several
                joined by ``+`` (``L3.mlp.down+L4.mlp.down``: one edit spread over two layers).
            include_bias: also return the matching bias slices (where the model has biases).
        Returns:
            A non-empty list of :class:`TensorSlice`, weights first then biases (per part, in order).
        Raises:
            ComponentError: the name does not parse, or names a layer/head/part
                this model does not have, or a part of a joined name twice.
        """
        if "+" in component:
            parts = [p.strip() for p in component.split("+")]
            if len(set(parts)) != len(parts):
                raise errors.ComponentError(f"{component}: a part is named twice")
            return [s for p in parts for s in self.resolve(p, include_bias)]
        m = _COMPONENT_RE.match(component.strip())
        if not m:
            raise errors.ComponentError(
                f"{component!r}: not a component name "
                "(expected e.g. L15.attn.v, L15.attn.v.h2, L15.mlp, L15.mlp.down.n0:192, L15)"
            )
        layer = int(m.group(1))
        block, part, head = m.group(2), m.group(3), m.group(4)
        spec = m.group(5) or m.group(6)
        if m.group(6) is not None:  # L5.mlp.n3,17: whole neurons (every projection's rows or columns of them)
            block = "mlp"
        neurons = None if spec is None else _neurons(spec, component)
        if layer >= self.num_layers:
            raise errors.ComponentError(f"{component}: layer {layer} out of range (model has {self.num_layers}, 0-based)")
        if block is None:
            parts = [("attn", p) for p in "qkvo"] + [("mlp", p) for p in self.mlp_parts]
        elif part is None:
            parts = [(block, p) for p in ("qkvo" if block == "attn" else self.mlp_parts)]
            if neurons is not None and not 0 <= neurons[0] <= neurons[-1] < self.d_mlp:
                raise errors.ComponentError(
                    f"{component}: neurons {neurons[0]}..{neurons[-1]} are not within 0:{self.d_mlp} (half-open)"
                )
        else:
            if (block == "attn") != (part in "qkvo"):
                raise errors.ComponentError(f"{component}: {part} is not part of {block}")
            if block == "mlp" and part not in self.mlp_parts:
                raise errors.ComponentError(
                    f"{component}: the {self.family} MLP has no {part} projection (it has {', '.join(self.mlp_parts)})"
                )
            if head is not None and block == "mlp":
                raise errors.ComponentError(f"{component}: MLP projections have no heads")
            if neurons is not None and (block, part) != ("mlp", "down"):
                raise errors.ComponentError(f"{component}: a neuron range (.nA:B) applies to mlp.down only")
            if neurons is not None and not 0 <= neurons[0] <= neurons[-1] < self.d_mlp:
                raise errors.ComponentError(
                    f"{component}: neurons {neurons[0]}..{neurons[-1]} are not within 0:{self.d_mlp} (half-open)"
                )
            parts = [(block, part)]
        h = None if head is None else int(head)
        if h is not None:
            count = self.num_kv_heads if part in "kv" else self.num_heads
            if h >= count:
                kind = "key/value" if part in "kv" else "query"
                raise errors.ComponentError(f"{component}: head {h} out of range (model has {count} {kind} heads, 0-based)")
        weights: list[TensorSlice] = []
        biases: list[TensorSlice] = []
        for blk, p in parts:
            w, b = getattr(self, f"_{self.layout}")(layer, blk, p, h, component)
            if neurons is not None:  # the neurons' dimension: down's input features, up's and gate's outputs
                contiguous = neurons[-1] - neurons[0] + 1 == len(neurons)
                keep = slice(neurons[0], neurons[-1] + 1) if contiguous else neurons
                dim = self.neuron_dim(p)
                w = [TensorSlice(t.tensor, (keep, t.slices[1]) if dim == 0 else (t.slices[0], keep), t.label)
                     for t in w]
                b = []  # a bias belongs to every neuron's output, not to a range of them
            weights.extend(w)
            if include_bias:
                biases.extend(b)
        return weights + biases

    def widened(self, d_mlp: int) -> "ArchMap":
        """This map with ``d_mlp`` neurons per MLP: the names of neurons a widening patch adds resolve."""
        return dataclasses.replace(self, d_mlp=d_mlp)

    def grow_spec(self, d_mlp: int) -> Any:
        """The :class:`patchkit.grow.GrowSpec` that widens every layer's MLP to ``d_mlp`` neurons."""
        from patchkit import grow

        tensors = {t.tensor: self.neuron_dim(part) for layer in range(self.num_layers)
                   for part in self.mlp_parts for t in self.resolve(f"L{layer}.mlp.{part}", include_bias=False)}
        return grow.GrowSpec(MLP_SIZE_KEY, self.d_mlp, d_mlp, tensors)

    def neuron_dim(self, part: str) -> int:
        """The weight dimension of an MLP projection that indexes its neurons (down's inputs, up's/gate's outputs)."""
        if part == "down":
            return self.down_input_dim()
        return 1 if self.layout == "gpt2" else 0  # Conv1D [d, d_mlp]; nn.Linear [d_mlp, d]

    def down_input_dim(self) -> int:
        """The weight dimension of ``mlp.down`` that indexes neurons (1 for ``[d, d_mlp]``; 0 for GPT-2's Conv1D)."""
        return 0 if self.layout == "gpt2" else 1

    # ---- per-family layouts: return (weight slices, bias slices) ----

    def _full(self, *dims: int) -> tuple[slice, ...]:
        return tuple(slice(0, d) for d in dims)

    def _gpt2(self, layer: int, blk: str, p: str, h: int | None, label: str):
        d, dh, pre = self.d_model, self.head_dim, self.layer_prefix(layer)
        if blk == "mlp":
            name, shape = {"up": ("mlp.c_fc", (d, self.d_mlp)), "down": ("mlp.c_proj", (self.d_mlp, d))}[p]
            return [TensorSlice(f"{pre}.{name}.weight", self._full(*shape), label)], [
                TensorSlice(f"{pre}.{name}.bias", self._full(shape[1]), label)
            ]
        if p == "o":  # Conv1D [in, out]: head h is input rows h*dh…
            rows = slice(0, d) if h is None else slice(h * dh, (h + 1) * dh)
            bias = [TensorSlice(f"{pre}.attn.c_proj.bias", self._full(d), label)] if h is None else []
            return [TensorSlice(f"{pre}.attn.c_proj.weight", (rows, slice(0, d)), label)], bias
        off = "qkv".index(p) * d
        cols = slice(off, off + d) if h is None else slice(off + h * dh, off + (h + 1) * dh)
        return [TensorSlice(f"{pre}.attn.c_attn.weight", (slice(0, d), cols), label)], [
            TensorSlice(f"{pre}.attn.c_attn.bias", (cols,), label)
        ]

    def _llama(self, layer: int, blk: str, p: str, h: int | None, label: str):
        d, dh, pre = self.d_model, self.head_dim, self.layer_prefix(layer)
        if blk == "mlp":
            shape = (d, self.d_mlp) if p == "down" else (self.d_mlp, d)
            w = [TensorSlice(f"{pre}.mlp.{p}_proj.weight", self._full(*shape), label)]
            b = [TensorSlice(f"{pre}.mlp.{p}_proj.bias", self._full(shape[0]), label)] if self._biases.get("mlp") else []
            return w, b
        heads = self.num_kv_heads if p in "kv" else self.num_heads
        width = heads * dh
        if p == "o":  # [d, heads*dh]: head h is input columns
            cols = slice(0, width) if h is None else slice(h * dh, (h + 1) * dh)
            w = [TensorSlice(f"{pre}.self_attn.o_proj.weight", (slice(0, d), cols), label)]
            b = [TensorSlice(f"{pre}.self_attn.o_proj.bias", self._full(d), label)] if h is None and self._biases.get("o") else []
            return w, b
        rows = slice(0, width) if h is None else slice(h * dh, (h + 1) * dh)
        w = [TensorSlice(f"{pre}.self_attn.{p}_proj.weight", (rows, slice(0, d)), label)]
        b = [TensorSlice(f"{pre}.self_attn.{p}_proj.bias", (rows,), label)] if self._biases.get("qkv") else []
        return w, b

    def _gpt_neox(self, layer: int, blk: str, p: str, h: int | None, label: str):
        d, dh, pre = self.d_model, self.head_dim, self.layer_prefix(layer)
        if blk == "mlp":
            name, shape = {"up": ("dense_h_to_4h", (self.d_mlp, d)), "down": ("dense_4h_to_h", (d, self.d_mlp))}[p]
            b = [TensorSlice(f"{pre}.mlp.{name}.bias", self._full(shape[0]), label)] if self._biases.get("mlp") else []
            return [TensorSlice(f"{pre}.mlp.{name}.weight", self._full(*shape), label)], b
        if p == "o":
            cols = slice(0, d) if h is None else slice(h * dh, (h + 1) * dh)
            b = [TensorSlice(f"{pre}.attention.dense.bias", self._full(d), label)] if h is None and self._biases.get("o") else []
            return [TensorSlice(f"{pre}.attention.dense.weight", (slice(0, d), cols), label)], b
        # query_key_value rows are per-head interleaved: head h owns rows
        # h*3*dh … (h+1)*3*dh, laid out as [q | k | v] of dh rows each.
        off = "qkv".index(p) * dh
        hs = range(self.num_heads) if h is None else [h]
        rows = [slice(i * 3 * dh + off, i * 3 * dh + off + dh) for i in hs]
        w = [TensorSlice(f"{pre}.attention.query_key_value.weight", (r, slice(0, d)), label) for r in rows]
        b = [TensorSlice(f"{pre}.attention.query_key_value.bias", (r,), label) for r in rows] if self._biases.get("qkv") else []
        return w, b

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "model_type": self.model_type,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "num_kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "d_model": self.d_model,
        }


def for_model(model_or_config: Any) -> ArchMap:
    """Return the :class:`ArchMap` for a transformers model or its config.

    Args:
        model_or_config: a ``PreTrainedModel`` or ``PretrainedConfig``.
    Returns:
        The map; when a model is given, every tensor it names is checked to exist.
    Raises:
        UnknownArchitectureError: the model type is not a supported family.
    Example:
        >>> amap = for_model(model)                          # doctest: +SKIP
        >>> amap.resolve("L0.attn.v.h1")[0].tensor           # doctest: +SKIP
        'model.layers.0.self_attn.v_proj.weight'
    """
    config = getattr(model_or_config, "config", model_or_config)
    model_type = getattr(config, "model_type", None)
    family = _FAMILIES.get(model_type or "")
    if family is None:
        raise errors.UnknownArchitectureError(
            f"model type {model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    amap = {"gpt2": _gpt2_map, "llama": _llama_map, "gpt_neox": _neox_map, "gemma3": _gemma3_map}[family](
        config, model_type
    )
    if config is not model_or_config and hasattr(model_or_config, "state_dict"):
        _check_tensors(amap, model_or_config)
    return amap


def _gpt2_map(c: Any, model_type: str) -> ArchMap:
    d = c.n_embd
    return ArchMap(
        family="gpt2", model_type=model_type, num_layers=c.n_layer, num_heads=c.n_head, num_kv_heads=c.n_head,
        head_dim=d // c.n_head, d_model=d, d_mlp=c.n_inner or 4 * d, norm_kind="layernorm",
        _biases={"qkv": True, "o": True, "mlp": True},
    )


def _llama_map(c: Any, model_type: str) -> ArchMap:
    heads = c.num_attention_heads
    attn_bias = bool(getattr(c, "attention_bias", False))
    return ArchMap(
        family="llama", model_type=model_type, num_layers=c.num_hidden_layers, num_heads=heads,
        num_kv_heads=getattr(c, "num_key_value_heads", None) or heads,
        head_dim=getattr(c, "head_dim", None) or c.hidden_size // heads, d_model=c.hidden_size,
        d_mlp=c.intermediate_size, norm_kind="rmsnorm",
        _biases={"qkv": attn_bias or model_type == "qwen2", "o": attn_bias, "mlp": bool(getattr(c, "mlp_bias", False))},
    )


def _gemma3_map(c: Any, model_type: str) -> ArchMap:
    """Gemma 3's text model: Llama's tensors, plus post-attention / post-MLP norms and a scaled embedding."""
    heads = c.num_attention_heads
    attn_bias = bool(getattr(c, "attention_bias", False))
    cap = getattr(c, "final_logit_softcapping", None)
    why = (
        f"final_logit_softcapping={cap} passes the logits through tanh, so they are not a sum of "
        "per-component parts" if cap is not None else None
    )
    return ArchMap(
        family="gemma3", model_type=model_type, num_layers=c.num_hidden_layers, num_heads=heads,
        num_kv_heads=getattr(c, "num_key_value_heads", None) or heads,
        head_dim=getattr(c, "head_dim", None) or c.hidden_size // heads, d_model=c.hidden_size,
        d_mlp=c.intermediate_size, norm_kind="rmsnorm", unattributable=why,
        _biases={"qkv": attn_bias, "o": attn_bias, "mlp": False},
    )


def _neox_map(c: Any, model_type: str) -> ArchMap:
    heads = c.num_attention_heads
    attn_bias = bool(getattr(c, "attention_bias", True))
    return ArchMap(
        family="gpt_neox", model_type=model_type, num_layers=c.num_hidden_layers, num_heads=heads,
        num_kv_heads=heads, head_dim=c.hidden_size // heads, d_model=c.hidden_size, d_mlp=c.intermediate_size,
        norm_kind="layernorm", _biases={"qkv": attn_bias, "o": attn_bias, "mlp": True},
    )


def slices_json(slices: Sequence[slice | tuple[int, ...]]) -> list:
    """Slices as a manifest records them: ``[start, stop]``, or ``{"index": [...]}`` for chosen neurons."""
    return [{"index": list(s)} if isinstance(s, tuple) else [s.start, s.stop] for s in slices]


def _neurons(spec: str, component: str) -> tuple[int, ...]:
    """``"3,17:20,40"`` -> ``(3, 17, 18, 19, 40)``; ranges half-open, items increasing and disjoint."""
    out: list[int] = []
    for item in spec.split(","):
        a, _, b = item.partition(":")
        lo, hi = int(a), int(b) if b else int(a) + 1
        if hi <= lo or (out and lo <= out[-1]):
            raise errors.ComponentError(f"{component}: neurons must be increasing, disjoint, half-open ranges ({item!r})")
        out.extend(range(lo, hi))
    return tuple(out)


def neuron_component(layer: int, neurons: Sequence[int], part: str | None = "down") -> str:
    """The component name of chosen neurons: of a down projection, ``L5.mlp.down.n3,17:20,40`` (runs as ranges),
    or, ``part=None``, of the whole MLP (gate, up and down): ``L5.mlp.n3,17``."""
    items, values = [], sorted(set(int(n) for n in neurons))
    start = prev = values[0]
    for v in values[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        items.append(str(start) if prev == start else f"{start}:{prev + 1}")
        if v is not None:
            start = prev = v
    return f"L{layer}.mlp{'.' + part if part else ''}.n" + ",".join(items)


def short_name(component: str) -> str:
    """A component name for a log line: chosen neurons as their count (``L6.mlp.down.n{192 neurons}``)."""
    m = re.fullmatch(r"(L\d+\.mlp(?:\.down)?\.n)([\d:,]+)", component)
    if not m or "," not in m.group(2):
        return component
    count = sum(int(b) - int(a) if b else 1 for a, _, b in (i.partition(":") for i in m.group(2).split(",")))
    return f"{m.group(1)}{{{count} neurons}}"


def _check_tensors(amap: ArchMap, model: Any) -> None:
    """Fail early if the model's parameter names are not the ones the map expects."""
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for ts in amap.resolve("L0", include_bias=True) + amap.resolve(f"L{amap.num_layers - 1}", include_bias=True):
        if ts.tensor not in shapes:
            raise errors.UnknownArchitectureError(
                f"{amap.model_type}: expected tensor {ts.tensor} is missing; the model's layout is not the one patchkit knows"
            )
        if any(s.stop > n for s, n in zip(ts.slices, shapes[ts.tensor])) or len(ts.slices) != len(shapes[ts.tensor]):
            raise errors.UnknownArchitectureError(
                f"{ts.tensor}: shape {shapes[ts.tensor]} does not fit slice {ts.shape} for {ts.label}"
            )
