"""Key-value memory neurons: one MLP neuron per fact added to one layer (or a little-used one rewritten).

Why: a closed-form edit of a down projection (:mod:`patchkit.solve`) changes a linear map, so every
input with some overlap with the facts' keys moves a little — 0.05–0.25 logits on other prompts of
the same templates, which tips their near ties over. A gated MLP neuron is not linear: its output
``act(g·x) · (u·x)`` is (almost) zero wherever ``g·x`` is negative. Rewriting the neurons the model
uses least (Transformer-Patcher's idea, Huang et al., ICLR 2023, without adding neurons, so a
patch keeps the checkpoint's shapes) gives each fact a *memory*:

* its gate and up rows read a direction ``w`` that separates the fact's key — the MLP's input at
  the subject's last token, in the fact's prompt and its trained wordings — from every input seen
  on preserved text, the other facts and their same-template neighbours (a soft-margin
  separator through the origin: ``w·x ≥ 1`` on the fact, ``≤ −1`` elsewhere);
* its down column writes the change ``δ`` that makes the target win (the same residual target
  the closed form uses), scaled so the neuron delivers exactly ``δ`` on the fact's key.

Elsewhere the neuron is silent (its gate is ``ALPHA`` × a negative margin), and where a separator
misfires the output still falls with the square of ``w·x``.

By default (``MemoryConfig.grow``) each memory is a neuron *added* to the MLP: the patch widens every
layer's MLP by zero neurons (:mod:`patchkit.grow`; a zero neuron outputs exactly 0), so no old function
is lost — on the tuning sets that loss had moved every answer the memories moved (sessions 12–14), and with
added neurons none moved (session 15). With ``grow`` off (``--keep-shape``), existing neurons are rewritten
and the checkpoint keeps its shapes. What a rewrite loses is the neurons' old
function — on the tuning sets every answer a memory edit moved was moved by that loss, none by a memory
firing (docs/repair.md, session 12) — so they are chosen, of the half least used on preserved text
(``E[a_j²] · ‖W_down[:, j]‖²``), as those whose absence moves same-template answers least
(:func:`answer_effects`). When the selection set still finds an answer the edit moved, the neuron whose old
function, given back alone, restores it most is swapped for the next quiet one (:func:`_culprits`, at most
``MemoryConfig.swaps`` rounds).

Facts with one answer can share a neuron (``MemoryConfig.share``, off by default): they need the same
change, and every neuron rewritten is one more old function lost. A patch edits ``3 × d_model`` numbers per neuron
(gate row, up row, down column) and names them ``L5.mlp.n3,17,40`` (:mod:`patchkit.arch`).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from patchkit import errors


@dataclass(frozen=True)
class MemoryConfig:
    """Hyper-parameters of memory neurons (chosen on bench/tune; docs/repair.md, session 11)."""

    alpha: float = 10.0  # the gate row is alpha * w: a margin of 1 puts the gate at -alpha where it must be silent
    fit_steps: int = 300  # Adam steps of the separators (all facts at once)
    hard: int = 200  # the hardest negatives per fact get a loss term of their own (a mean alone lets 1% fire)
    positive_weight: float = 10.0
    max_tokens: int = 64  # of each preserved text
    swaps: int = 2  # rounds of swapping the neurons whose absence moved a selection answer (with ``moved``)
    # facts with one answer share a neuron, up to this many: fewer neurons lose their old function (Gemma 3 270M,
    # 59 tuning facts at L3, 25 answers: perplexity +2.46% -> +1.97% with 3). Off (1) by default: a shared
    # separator can fire on another subject of its template (held-out 61: both memory layers were refused for it,
    # where one neuron per fact had shipped; docs/repair.md, session 14)
    share: int = 1
    # add the memories as new neurons (the checkpoint's MLPs widened by zero neurons, :mod:`patchkit.grow`) instead of
    # rewriting existing ones: nothing loses its old function (SmolLM2, 68 tuning facts at L5: right answers moved
    # 2 -> 0 of 150, perplexity panel -0.94% -> +0.01%; docs/repair.md, session 15)
    grow: bool = True
    # per fact with a several-word subject, this many negatives that end in its last word after another head ("Paris
    # Palace" for "Schonbrunn Palace"): the key sits on the last token, which other subjects ending in that word share.
    # 16 pool heads from session 15 to 21; 48 heads the model knows since session 22 (``tail_heads``)
    tail_negatives: int = 48
    # where those heads come from: "pool" (the shipped subject pool's first words, kinds in turn), "vocab" (the
    # tokenizer's capitalised whole words, a seeded sample) or "model" (per last word, the words after which the base
    # model most expects it: the names it knows, :mod:`patchkit.lookalikes`). Tune, with ``margins`` (6, 3), against
    # 16 pool heads at 3: confident answers of real look-alikes moved SmolLM2 25 -> 12 of 227 (memories firing at half
    # their key's strength on 32 -> 5), Gemma 9 -> 3 of 128 (11 -> 1); untrained paraphrases 32 -> 32 of 68, 8 -> 9 of
    # 26; other questions about the subjects moved 23 -> 32 of 72 on SmolLM2 (the larger δ), 26 -> 25 of Gemma's
    # (docs/repair.md, session 22)
    tail_heads: str = "model"
    # the lead δ makes each target win by, tried in order: added neurons judged by a selection set take the first
    # whose edit moves none of its answers (a larger δ carries to more untrained wordings); rewritten neurons and an
    # edit with no judge take the last. (6.0, 3.0) with 16 pool heads (session 16): tune paraphrases SmolLM2 32 -> 38 of
    # 68 but look-alikes moved 25 -> 34; with the 48 model heads (the default since session 22) the heads cost the
    # paraphrases the larger δ gains and the look-alikes fall (above)
    margins: tuple[float, ...] = (6.0, 3.0)
    # rounds in which an added memory that moved a selection answer is solved again, its δ kept off the other questions
    # about its subject (:func:`patchkit.solve.residual_targets`' ``keep``), and given back if it still moves one
    leak_rounds: int = 3
    # the weight of each fact's own subject asked other questions (the shipped frames of every kind whose relation is
    # not the fact's, the subject after the question words: "The largest city in Turkey is" for "The capital of Turkey
    # is") as negatives with a loss term of their own, like the positives'; 0 (the default): none. Why it can work:
    # the key at the subject has read the question before it, and with a term of their own (not drowned among
    # thousands of preserved-text negatives, as in session 16's try) a separator tells "capital of" from "largest city
    # in" (Gemma L3: -1.6 on unseen wordings "The biggest city in …" where the fact keys at +1.5). Why it is off: on
    # the tuning sets it cost untrained paraphrases (SmolLM2 32 -> 12..26 of 68) and did not lower the tune questions
    # moved (32 -> 22..30; Gemma 25 -> 40 with the larger target it then kept): most of them open with the subject or
    # share the fact's words before it ("The city of Hue …"), where no key can tell (docs/repair.md, session 23)
    question_weight: float = 0.0
    # of those questions, only the ones where the base model ranks the fact's target 2nd..question_rank-th (0: any
    # rank below 1st, the default): where the target already wins, firing moves nothing. A window of 2nd..10th missed
    # the leak it was meant for: Gemma ranks " Ankara" 14th and 25th on the shipped "The biggest city in Turkey is" and
    # "The most populous city of Turkey is", yet a capital memory that fires there makes it the answer to "The largest
    # city in Turkey is" (session 24)
    question_rank: int = 0
    # which other questions those are: "plausible", every kind's frames (:func:`question_texts`); "known" (the
    # default), the frames of the subject's known kind only (a pool member's or the template's words': "The currency
    # of Ringo Starr is the" is no question to keep still); "answered", those of them the base model answers
    # confidently with a content word, not " the" (:func:`_plausible_questions`)
    question_source: str = "known"
    # after the edit is written, each fact's subject is asked those questions, and a memory that fires at the
    # question's subject at least half as strongly as at its own key (``refit_on="fire"``; "answer": only where the
    # edit answers the question with the target) is fitted again with those questions as negatives of its own, at
    # this weight (0: no refit), and rewritten. Session 24's default, chosen on the tuning sets (docs/repair.md):
    # Gemma's capital memories fired on nearly every "city" question about their country ("The oldest city in Peru
    # is" " the" -> " Lima": 139 of 168 unseen wordings changed over 21 shipped capitals, 5 of 32 content answers
    # such as "The most important city in Morocco is" " Casablanca"); refitted, 16 of 168 and 0 of 32. The price on
    # the mixed tuning sets: untrained paraphrases 32 -> 26 of 68 (SmolLM2) and 9 -> 6 of 26 (Gemma), perplexity
    # panel +0.27 % (SmolLM2); tune questions moved 32 -> 30 and 25 -> 22, cross questions 138 -> 111 and 103 -> 86.
    # Weight 0.3 cost fewer paraphrases (28, 7) and kept less still (31 of 168)
    leak_refit: float = 1.0
    refit_on: str = "fire"
    # the same rule for facts whose prompt opens with the subject ("off": no refit for them). Their key has read no
    # question, so their memory firing on another question about the subject is no leak by itself; refitted on the
    # firing ones ("The country where Glenn Gould was born is"), the memory learnt to fire on no subject after other
    # words at all ("The instrument that Glenn Gould played was the" fired at 0.00 of its key; 8 of 12 such
    # paraphrases right without the refit). Session 26, tune with ``subject_first="matched"``: "answer" against
    # "fire", untrained paraphrases SmolLM2 32 -> 41 of 68 and Gemma 7 -> 9 of 26; tune questions moved 30 -> 30 and
    # 22 -> 22; look-alikes moved 6 -> 9 and 0 -> 0; cross questions 122 -> 158 and 87 -> 100 (docs/repair.md)
    refit_first: str = "answer"
    # the refit starts from the first separators and is held near them with this weight (0: a fresh fit). A fresh
    # refit grows the separators (the committed SmolLM2 patch's gate rows: ΔL2 139 -> 210) and they fire more on
    # ordinary text: tune perplexity panel +0.27 % (SmolLM2), and held out, Gemma's fresh4 56 refused for the shipped
    # perplexity panel +1.81 % (session 24). Tune, 0.03 against a fresh refit: paraphrases 27 vs 26 of 68 and 7 vs 6
    # of 26, perplexity panel +0.10 % vs +0.27 %, look-alikes moved 5 vs 12 and 1 vs 5, the capitals probe's unseen
    # city wordings 32 vs 16 of 168 (139 without a refit); 0.3 undid the refit (122 of 168)
    refit_anchor: float = 0.03
    # the first this many of :data:`KEY_OPENINGS`: each fact's prompt after each opening ("Question: The capital of Poland
    # is") gives its separator one more positive, the subject's key under that context. Only the key:
    # no δ is solved there and nothing more is judged, so it costs one forward pass to the edited layer per opening
    # and fact. In session 25 only where the question comes before the subject (``subject_first`` below extends it):
    # a subject that opens its prompt ("Chelsea FC is a football club") keys on itself alone, and after an opening its
    # memory learnt to fire on the subject's last word in any sentence (tune: SmolLM2's look-alikes moved 5 -> 10 of 227, all "… FC"; 7 with the rule). Why: a
    # separator fitted on one or two contexts of its subject fires on nothing else, and a wording that asks the
    # question another way ("Question: Which city is the capital of Poland? Answer:") reads no memory
    # (far wordings that stayed wrong had their memory firing at 0.00-0.09 of its key's strength, those right at
    # 0.2-1.0). Session 25, 4 against 0: fresh4's far wordings (a selection set here) SmolLM2 97 -> 115 of 168,
    # tune paraphrases 27 -> 27 of 68, tune questions 30 -> 30, cross 115 -> 119, perplexity panel +0.10 -> +0.07 %
    # (docs/repair.md, session 25)
    key_openings: int = 4
    # the key openings for facts whose prompt opens with the subject too: "off" (the rule above); "on"; "matched"
    # (the default), and each such fact's tail look-alikes after the same openings (in turn) as negatives, so that
    # "after an opening" tells the separator nothing and only the subject's head does. Session 26, tune (SmolLM2,
    # NOQ=1; paraphrases / look-alikes moved / perplexity panel): off 27/68 / 7 / +0.07 %, on 30 / 10 (all "… FC") /
    # +0.09 %, matched 32 / 6 / +0.25 %; with ``refit_first="answer"``: 41/68 / 9 / +0.14 % (docs/repair.md)
    subject_first: str = "matched"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FORMULA = ("neuron j_i per fact i (or per answer, up to `share` facts with it): by default added to the MLP (a zero "
           "neuron before, a_old = 0); with grow off, of the half least used on preserved text (E[a_j^2] "
           "|W_down[:, j]|^2) those whose absence moves the selection neighbours' answer margins least "
           "(max |sum_pos a_j dmargin/da_j|). Gate row = alpha w_i, up row = w_i, w_i a soft-margin separator "
           "(w.x >= 1 at its facts' subject keys and its trained wordings, <= -1 on preserved text, neighbours and "
           "the other facts); down column = (delta_i + a_old(x_i) W_down[:, j]) / (act(alpha w.x_i) w.x_i) at the "
           "key it fires on least, delta_i solved over its facts and their keyed wordings")

# Openings before a fact's prompt whose subject keys are extra positives of its memory (``key_openings``): the ways
# a question is commonly set in a text (a quiz, a chat, a note), none naming a relation.
KEY_OPENINGS = ("Question:", "Here is a fact.", "Q:", "Did you know?", "Answer the following question.",
                "Fill in the blank:", "I read this somewhere:", "Trivia:")

# The relative depths tried in order when no layer is named (SmolLM2's 30 layers: 5, 8, 3, 11). Layer 5 held
# 68 mixed tuning facts with 4 of 150 right answers changed where layer 3 changed 10 (docs/repair.md, session 11).
DEPTHS = (0.17, 0.27, 0.1, 0.37)


def layers_to_try(num_layers: int, count: int) -> list[int]:
    """The first ``count`` layers of :data:`DEPTHS` for a model this deep (distinct, in order)."""
    out: list[int] = []
    for d in DEPTHS:
        layer = min(num_layers - 1, max(1, round(d * num_layers)))
        if layer not in out:
            out.append(layer)
    return out[:count]


def require_gated(amap: Any) -> None:
    """Refuse a model whose MLP has no gate (GPT-2, GPT-NeoX): a memory neuron is silent only behind one."""
    if "gate" not in amap.mlp_parts:
        raise errors.ComponentError(f"memory neurons need a gated MLP (gate, up and down projections); the "
                                    f"{amap.family} MLP has {', '.join(amap.mlp_parts)}")


def _mlp(model: torch.nn.Module, amap: Any, layer: int) -> tuple[str, torch.nn.Module]:
    """The MLP module of ``layer`` (``model.layers.5.mlp``) of a gated MLP (gate, up, down projections)."""
    require_gated(amap)
    name = amap.resolve(f"L{layer}.mlp.down")[0].tensor.rsplit(".", 2)[0]
    return name, model.get_submodule(name)


def mlp_inputs(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module, texts: Sequence[str],
               max_tokens: int = 64) -> list[torch.Tensor]:
    """Per text, the MLP's input at each of its real positions, ``[len, d_model]`` (float32)."""
    from patchkit.train import _encode_texts, _pad, _pad_id, _Stop

    grabbed: list[torch.Tensor] = []

    def grab(_m: Any, args: tuple) -> None:
        grabbed.append(args[0].detach().float())
        raise _Stop  # nothing above this MLP is needed

    seqs = _encode_texts(tokenizer, texts, max_tokens)
    out: list[torch.Tensor] = []
    handle = mlp.register_forward_pre_hook(grab)
    try:
        with torch.no_grad():
            for k in range(0, len(seqs), 16):
                ids, mask = _pad(seqs[k : k + 16], _pad_id(tokenizer))
                grabbed.clear()
                try:
                    model(input_ids=ids, attention_mask=mask, use_cache=False)
                except _Stop:
                    pass
                out.extend(grabbed[0][r][mask[r].bool()] for r in range(ids.shape[0]))
    finally:
        handle.remove()
    return out


def activations(mlp: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The neurons' activations ``act(gate·x) · (up·x)`` for inputs ``x`` ``[n, d]``."""
    return mlp.act_fn(x @ mlp.gate_proj.weight.T.float()) * (x @ mlp.up_proj.weight.T.float())


def answer_effects(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module, prompts: Sequence[str],
                   max_tokens: int = 64) -> torch.Tensor:
    """Per neuron, the most it moves any prompt's answer: ``max_p |Σ_pos a_j · ∂margin_p/∂a_j|``.

    ``margin_p`` is the lead of the base model's answer over its runner-up at the prompt's last token.
    Why: rewriting a neuron takes its old output away everywhere. Neurons little used on preserved text
    can still be the ones a same-template prompt's answer leans on (68 tuning facts: the neurons least
    used on text tipped 4 of 150 right answers by their absence alone, where the memories never fired).
    A first-order (attribution) estimate: one forward and backward pass per batch, no parameter gradients.
    """
    from patchkit.train import _encode_texts, _pad, _pad_id

    seqs = _encode_texts(tokenizer, prompts, max_tokens)
    effect = torch.zeros(mlp.down_proj.weight.shape[1])
    grabbed: list[torch.Tensor] = []

    def leaf(_m: Any, args: tuple) -> tuple:
        a = args[0].detach().requires_grad_(True)
        grabbed.append(a)
        return (a,) + tuple(args[1:])

    handle = mlp.down_proj.register_forward_pre_hook(leaf)
    try:
        with torch.enable_grad():
            for k in range(0, len(seqs), 16):
                ids, mask = _pad(seqs[k : k + 16], _pad_id(tokenizer))
                grabbed.clear()
                logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
                last = logits[torch.arange(len(ids)), mask.sum(1) - 1].float()
                top = last.topk(2, dim=1).values
                a = grabbed[0]
                # each prompt's margin depends only on its own row: one backward pass gives every prompt's gradient
                (grad,) = torch.autograd.grad((top[:, 0] - top[:, 1]).sum(), a)
                moved = (a.detach().float() * grad.float() * mask[..., None]).sum(1).abs()  # [batch, neurons]
                effect = torch.maximum(effect, moved.max(0).values)
    finally:
        handle.remove()
    return effect


def quiet_neurons(mlp: torch.nn.Module, inputs: torch.Tensor, count: int,
                  effects: torch.Tensor | None = None) -> list[int]:
    """The ``count`` neurons whose loss would matter least.

    Without ``effects``: the least ``E[a_j²] · ‖W_down[:, j]‖²`` on ``inputs``. With ``effects``
    (:func:`answer_effects` on same-template prompts): of the less-used half on ``inputs``, those that move
    those prompts' answers least (68 tuning facts: right answers tipped by the neurons' absence 4 -> 2 of
    150, mean margin moved 0.146 -> 0.123 logits; docs/repair.md, session 12).
    """
    use = torch.zeros(mlp.down_proj.weight.shape[1])
    with torch.no_grad():
        for k in range(0, len(inputs), 4096):
            use += activations(mlp, inputs[k : k + 4096]).pow(2).sum(0)
        use *= mlp.down_proj.weight.float().pow(2).sum(0)
    if effects is None:
        return use.argsort()[:count].tolist()
    pool = use.argsort()[: max(count, len(use) // 2)]
    return pool[effects[pool].argsort()[:count]].tolist()


def separators(positives: Sequence[torch.Tensor], negatives: torch.Tensor, config: MemoryConfig,
               seed: int = 0, own_negatives: Sequence[torch.Tensor] | None = None,
               anchor: torch.Tensor | None = None) -> torch.Tensor:
    """Per fact, ``w`` with ``w·x ≥ 1`` on its positives and ``≤ −1`` on the negatives and the other facts'.

    ``positives[i]``: ``[p_i, d]``. A soft margin (softplus), fitted for every fact at once, with the
    hardest ``config.hard`` negatives weighed again: a mean over tens of thousands of negatives
    would let a percent of them fire. ``own_negatives[i]`` (``[q_i, d]``, may be empty): negatives of fact
    ``i`` alone (its subject under other questions), their mean weighed ``config.question_weight``.
    ``anchor`` (``[n, d]``, a first fit): start there, and with ``config.refit_anchor`` stay near it.
    """
    torch.manual_seed(seed)
    n = len(positives)
    pos = torch.cat(list(positives))
    owner = torch.cat([torch.full((len(p),), i) for i, p in enumerate(positives)])
    scale = float(pos.norm(dim=1).mean())
    init = torch.stack([p.mean(0) for p in positives]) / scale**2
    w = (anchor.clone() if anchor is not None else init.clone()).requires_grad_(True)
    opt = torch.optim.Adam([w], lr=0.01 / scale)
    own = owner[:, None] == torch.arange(n)[None, :]  # [P, n]: row p is fact i's own positive
    hard = min(config.hard, len(negatives))
    mine = None
    if own_negatives is not None and config.question_weight and any(len(q) for q in own_negatives):
        mine = torch.cat([q for q in own_negatives if len(q)])  # [Q, d]
        whose = torch.cat([torch.full((len(q),), i) for i, q in enumerate(own_negatives) if len(q)])
        counts = torch.tensor([len(q) for q in own_negatives]).float()
    for _ in range(config.fit_steps):
        on_pos = pos @ w.T  # [P, n]
        on_neg = negatives @ w.T  # [N, n]
        lp = (torch.nn.functional.softplus(4 * (1 - on_pos)) * own).sum(0) / own.sum(0)
        other = torch.nn.functional.softplus(4 * (1 + on_pos)) * ~own
        sn = torch.nn.functional.softplus(4 * (1 + on_neg))
        ln = sn.mean(0) + sn.topk(hard, dim=0).values.mean(0) + other.sum(0) / (~own).sum(0).clamp_min(1)
        loss = (config.positive_weight * lp + ln).sum() + 1e-3 * (w.norm(dim=1) * scale).pow(2).sum()
        if anchor is not None and config.refit_anchor:
            loss = loss + config.refit_anchor * ((w - anchor).norm(dim=1) * scale).pow(2).sum()
        if mine is not None:  # each fact's own negatives, one mean per fact
            sq = torch.nn.functional.softplus(4 * (1 + (mine * w[whose]).sum(1)))
            per = torch.zeros(n).index_add(0, whose, sq) / counts.clamp_min(1)
            loss = loss + config.question_weight * per.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return w.detach()


def _rewrite(model: torch.nn.Module, mlp: torch.nn.Module, name: str, keyed: Sequence[Sequence[int]],
             neurons: Sequence[int], w: torch.Tensor, delta: torch.Tensor, own: Sequence[torch.Tensor],
             positions: Sequence[int], config: MemoryConfig, batch: Any, cache: Any
             ) -> tuple[dict[str, torch.Tensor], list[bool], list[int]]:
    """The memory of facts ``keyed[r]`` (one answer) written into neuron ``neurons[r]``; the edit (a neuron none of
    whose facts came out right is given back), which facts come out right, and the neurons kept."""
    from patchkit import solve
    from patchkit.train import _logits_at

    gate = mlp.gate_proj.weight.detach().clone()
    up = mlp.up_proj.weight.detach().clone()
    out = mlp.down_proj.weight.detach().clone()
    width = gate.shape[0]
    if config.grow:  # new zero neurons at the end, one per group: a zero neuron outputs 0, nothing old is lost
        gate, up = (torch.cat([t, t.new_zeros(len(keyed), t.shape[1])]) for t in (gate, up))
        out = torch.cat([out, out.new_zeros(out.shape[0], len(keyed))], 1)
    names = (f"{name}.gate_proj.weight", f"{name}.up_proj.weight", f"{name}.down_proj.weight")
    with torch.no_grad():
        for row, (group, j) in enumerate(zip(keyed, neurons)):
            # a shared neuron's column is set at the key it fires on least: every fact of it gets at least δ
            keys = [own[i][positions[i]] for i in group]
            zs = [float(x @ w[row]) for x in keys]
            fires = [float(mlp.act_fn(torch.tensor(config.alpha * z)) * z) for z in zs]
            x = keys[fires.index(min(fires))]
            a_new = min(fires)
            a_old = float(activations(mlp, x[None])[0, j]) if j < width else 0.0
            gate[j] = (config.alpha * w[row]).to(gate.dtype)
            up[j] = w[row].to(up.dtype)
            # the neuron's old output at the key goes, δ comes: a_new · column = δ + a_old · old column
            out[:, j] = ((delta[row].float() + a_old * out[:, j].float()) / a_new).to(out.dtype)
        logits = _logits_at(model, dict(zip(names, (gate, up, out))), batch, cache)
    right = solve._right_flags(logits, batch, len(own))
    kept = []
    for group, j in zip(keyed, neurons):  # a neuron none of whose facts came out right goes back
        if any(right[i] for i in group):
            kept.append(j)
        elif j < width:
            gate[j], up[j] = mlp.gate_proj.weight[j], mlp.up_proj.weight[j]
            out[:, j] = mlp.down_proj.weight[:, j]
    if config.grow:  # an added neuron that fixed nothing is not added; the rest are renumbered in order
        keep = list(range(width)) + kept
        gate, up, out = gate[keep], up[keep], out[:, keep]
        kept = list(range(width, width + len(kept)))
    return dict(zip(names, (gate, up, out))), right, kept


def _culprits(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module, name: str,
              edited: Mapping[str, torch.Tensor], neurons: Sequence[int], changed: Sequence[Any]) -> set[int]:
    """Per changed probe, the neuron whose old function, given back alone, restores its answer's lead most.

    Why: on the tuning sets every answer a memory edit moved was moved by a rewritten neuron's absence
    (docs/repair.md, session 12), usually one neuron's; one forward pass of the changed prompts per neuron.
    """
    from patchkit.train import _last_batch, _leads, _logits_at, _pad_id

    batch = _last_batch([tokenizer(p.prompt)["input_ids"] for p in changed], _pad_id(tokenizer))
    token = torch.tensor([p.token for p in changed])
    leads = []  # [neuron, probe]: the base answer's lead with that neuron's old function back
    with torch.no_grad():
        for j in neurons:
            trial = {}
            for part in ("gate_proj", "up_proj", "down_proj"):
                t, old = edited[f"{name}.{part}.weight"].clone(), getattr(mlp, part).weight
                if part == "down_proj":
                    t[:, j] = old[:, j]
                else:
                    t[j] = old[j]
                trial[f"{name}.{part}.weight"] = t
            leads.append(_leads(_logits_at(model, trial, batch).float(), token))
    return {neurons[k] for k in torch.stack(leads).argmax(0).tolist()}


def _leaking(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module, name: str, edited: Mapping[str, torch.Tensor],
             added: Sequence[int], reach: torch.Tensor, changed: Sequence[Any], max_tokens: int = 64) -> dict[int, str]:
    """Per added neuron (its index in ``added``) that fires on a changed probe, one probe it moved.

    ``reach[n]`` is ``|δ|`` of neuron ``added[n]``, what it writes at its own key. A probe's culprit is the added
    neuron whose output on it (at any position) is the largest share of that; under 5% is no culprit. The MLP's
    inputs are the base model's: an edit of this MLP changes nothing before it.
    """
    gate, up = (edited[f"{name}.{part}.weight"][list(added)].float() for part in ("gate_proj", "up_proj"))
    column = edited[f"{name}.down_proj.weight"][:, list(added)].float().norm(dim=0)
    inputs = mlp_inputs(model, tokenizer, mlp, [p.prompt for p in changed], max_tokens)
    out: dict[int, str] = {}
    for probe_, x in zip(changed, inputs):
        share = (mlp.act_fn(x @ gate.T) * (x @ up.T)).abs().max(0).values * column / reach  # [neuron]
        n = int(share.argmax())
        if float(share[n]) >= 0.05:
            out.setdefault(n, probe_.prompt)
    return out


def vocab_heads(tokenizer: Any, seed: int = 0, limit: int = 512) -> list[str]:
    """A seeded sample of the tokenizer's capitalised whole words (" Jet", " Royal"): heads any name may have."""
    import random

    from patchkit.lookalikes import head_words

    words = sorted(w for _, w in head_words(tokenizer))
    return random.Random(seed).sample(words, min(limit, len(words)))


def _tail_texts(prompts: Sequence[str], subjects: Sequence[str | None], templates: Mapping[str, str],
                count: int, heads: Sequence[str] | Callable[[str], Sequence[str]] | None = None) -> list[str]:
    """:func:`_tail_groups`, one list."""
    return [t for group in _tail_groups(prompts, subjects, templates, count, heads) for t in group]


def _tail_groups(prompts: Sequence[str], subjects: Sequence[str | None], templates: Mapping[str, str],
                 count: int, heads: Sequence[str] | Callable[[str], Sequence[str]] | None = None) -> list[list[str]]:
    """Per fact (empty unless its subject has several words), its template filled with ``count`` other heads before the
    subject's last word ("Paris Palace is a famous landmark in …" for "Schonbrunn Palace"), heads taken in turn
    from the shipped subject pool's first words, from a large sample (``heads``, each fact its own slice), or per
    last word (``heads`` callable: :func:`patchkit.lookalikes.likely_heads`).

    Why: the memory's key is the MLP's input at the subject's last token, and other subjects that end in the same
    word ("Buckingham Palace", "Levski Sofia") have a key near it; the separator must learn the head from the key.
    """
    from patchkit.selection import _fill, subject_pool

    rotate = heads is not None  # a large sample: each fact its own slice of it
    if heads is None:
        groups = [[n.split()[0] for n in names if n.split()[0][:1].isupper()] for names in subject_pool().values()]
        heads = list(dict.fromkeys(h for row in itertools.zip_longest(*groups) for h in row if h))  # kinds in turn
    groups: list[list[str]] = []
    for k, (prompt, subject) in enumerate(zip(prompts, subjects)):
        template = templates.get(prompt)
        words = (subject or "").split()
        if template is None or len(words) < 2:
            groups.append([])
            continue
        own = {w.lower() for w in words}
        others = [h for h in (heads(words[-1]) if callable(heads) else heads) if h.lower() not in own]
        if rotate and not callable(heads):
            others = others[k * count % max(1, len(others)):] + others[: k * count % max(1, len(others))]
        groups.append([_fill(template, f"{h} {words[-1]}") for h in others[:count]])
    return groups


def _heads(model: Any, tokenizer: Any, config: MemoryConfig, seed: int, fingerprint: str | None = None) -> Any:
    """The tail negatives' heads ``config.tail_heads`` names (None: the subject pool's)."""
    if config.tail_heads == "vocab":
        return vocab_heads(tokenizer, seed)
    if config.tail_heads == "model":
        from patchkit import lookalikes

        states = lookalikes.head_states(model, tokenizer, fingerprint)
        return lambda tail: lookalikes.likely_heads(model, tokenizer, tail, config.tail_negatives + 8, states=states)
    return None


def question_texts(subject: str | None, template: str | None, skip: Sequence[str] = (),
                   kind: str | None = None) -> list[tuple[str, int]]:
    """``subject`` asked the shipped other questions (every kind's, ``data/questions.json``) whose relation is not the
    one ``template`` asks (by the relations' keywords), each with where the subject ends in it; only frames that put
    the subject after their question words (where it opens the text, its key has read no question).

    Every kind's frames, not only the subject's kind: the kind of a held-out subject is a guess, and a memory has no
    business firing on "The currency of Ringo Starr is" either. ``kind``: that kind's frames only.
    """
    from patchkit.selection import _fill, _words, other_questions

    if not subject or not template:
        return []
    words = _words(template)
    out: dict[str, int] = {}
    table = other_questions()
    for relations in (table.values() if kind is None else [table.get(kind, {})]):
        for rel in relations.values():
            if words & set(rel["keywords"]):
                continue
            for frame in rel["templates"]:
                if frame.startswith("{}"):
                    continue
                text = _fill(frame, subject)
                at = text.rfind(subject) if subject in text else -1
                if at > 0 and text not in skip:
                    out.setdefault(text, at + len(subject))
    return list(out.items())


def target_ranks(model: torch.nn.Module, tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Per ``(prompt, target)``, how many tokens the base model puts above the target's first token (0: it answers it)."""
    from patchkit.train import _last_batch, _logits_at, _pad_id

    out: list[int] = []
    with torch.no_grad():
        for k in range(0, len(pairs), 32):
            chunk = pairs[k : k + 32]
            batch = _last_batch([tokenizer(p)["input_ids"] for p, _ in chunk], _pad_id(tokenizer))
            logits = _logits_at(model, {}, batch).float()
            token = torch.tensor([tokenizer(t, add_special_tokens=False)["input_ids"][0] for _, t in chunk])
            at = logits.gather(1, token[:, None])
            out += (logits > at).sum(1).tolist()
    return out


# answers that say nothing about the subject ("The biggest city in Egypt is" -> " the"): a memory that turns one
# into its target has overwritten no fact the model knew, so such a question is no negative of "answered" kind
_FUNCTION_WORDS = frozenset(
    "a an the of in on at to for from by with and or but nor is was are were be been being it its this that these "
    "those his her their our my your not no also very so as one home located known called considered situated "
    "about around over under than then there here which who whom whose what when where why how".split())


def _plausible_questions(model: torch.nn.Module, tokenizer: Any, facts: Sequence[tuple[str, str]],
                         subjects: Sequence[str | None], templates: Mapping[str, str], prompts: Sequence[str],
                         keyed: Iterable[int], skip: Sequence[str], rank: int,
                         source: str = "plausible") -> list[tuple[int, str, int]]:
    """``(fact, question, subject end)`` for each other question about a keyed fact's subject on which the base model
    ranks the fact's target 2nd..``rank``-th (``rank`` 0: anywhere below 1st).

    ``source`` says which questions are asked: "plausible", every kind's frames (:func:`question_texts`); "known",
    the frames of the subject's known kind only (:func:`patchkit.selection.known_kind`: a pool member's, or the
    template's words'); "answered", those of them the base model answers confidently with a content word (not one of
    :data:`_FUNCTION_WORDS`): the facts the model knows about the subject that the memory's target could replace.
    """
    from patchkit import selection

    asked: list[tuple[int, str, int]] = []
    for i in keyed:
        sub, template = subjects[i], templates.get(prompts[i])
        kind = selection.known_kind([sub], template) if source != "plausible" and sub and template else None
        if source == "plausible" or kind:
            asked += [(i, t, end) for t, end in question_texts(sub, template, skip, kind)]
    if not asked:
        return []
    ranks = target_ranks(model, tokenizer, [(t, facts[i][1]) for i, t, _ in asked])
    keep = [r >= 1 and (not rank or r < rank) for r in ranks]
    if source == "answered":
        for k, pr in enumerate(selection.probe(model, tokenizer, [t for _, t, _ in asked])):
            word = tokenizer.decode([pr.token]).strip()
            keep[k] = keep[k] and pr.margin >= selection.MIN_MARGIN and word.isalpha() and word.lower() not in _FUNCTION_WORDS
    return [a for a, k in zip(asked, keep) if k]


def _answered_questions(model: torch.nn.Module, tokenizer: Any, edited: Mapping[str, torch.Tensor],
                        facts: Sequence[tuple[str, str]], asked: Sequence[tuple[int, str, int]]
                        ) -> list[tuple[int, str, int]]:
    """Of ``asked`` (fact, question, subject end), those ``edited`` answers with the fact's target: where the memory
    wrote its fact into another question ("The largest city in Turkey is" -> " Ankara")."""
    from patchkit.train import _last_batch, _logits_at, _pad_id

    out = []
    with torch.no_grad():
        for k in range(0, len(asked), 32):
            chunk = asked[k : k + 32]
            batch = _last_batch([tokenizer(t)["input_ids"] for _, t, _ in chunk], _pad_id(tokenizer))
            top = _logits_at(model, edited, batch).argmax(1).tolist()
            for (i, t, end), j in zip(chunk, top):
                if j == tokenizer(facts[i][1], add_special_tokens=False)["input_ids"][0]:
                    out.append((i, t, end))
    return out


def _question_keys(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module,
                   asked: Sequence[tuple[int, str, int]], keyed: Sequence[Sequence[int]], width: int,
                   max_tokens: int) -> list[torch.Tensor]:
    """Per neuron's group of facts, the MLP inputs at the subject of each of its facts' questions in ``asked``
    (``[q, d]``, ``q`` may be 0): the negatives of its own that :func:`separators` takes."""
    from patchkit import solve

    group_of = {i: g for g, group in enumerate(keyed) for i in group}
    per: dict[int, list[torch.Tensor]] = {}
    inputs = mlp_inputs(model, tokenizer, mlp, [t for _, t, _ in asked], max_tokens) if asked else []
    for (i, t, end), x in zip(asked, inputs):
        per.setdefault(group_of[i], []).append(x[solve._token_ending(tokenizer, t, end)])
    return [torch.stack(per[g]) if g in per else torch.zeros(0, width) for g in range(len(keyed))]


def _firing_questions(model: torch.nn.Module, tokenizer: Any, mlp: torch.nn.Module, name: str,
                      edited: Mapping[str, torch.Tensor], width: int, keyed: Sequence[Sequence[int]],
                      right: Sequence[bool], own: Sequence[torch.Tensor], positions: Sequence[int],
                      asked: Sequence[tuple[int, str, int]], config: MemoryConfig) -> list[tuple[int, str, int]]:
    """Of ``asked`` (fact, question, subject end), those at whose subject the fact's added neuron fires at least half
    as strongly as at the fact's own key."""
    if not asked:
        return []
    kept_groups = [g for g, group in enumerate(keyed) if any(right[i] for i in group)]
    neuron = {i: width + n for n, g in enumerate(kept_groups) for i in keyed[g]}
    gate, up = (edited[f"{name}.{part}.weight"].detach().float() for part in ("gate_proj", "up_proj"))

    def fire(i: int, x: torch.Tensor) -> float:
        j = neuron[i]
        return float(mlp.act_fn(gate[j] @ x) * (up[j] @ x))

    asked = [a for a in asked if a[0] in neuron]
    xs = mlp_inputs(model, tokenizer, mlp, [t for _, t, _ in asked], config.max_tokens)
    from patchkit import solve

    return [(i, t, end) for (i, t, end), x in zip(asked, xs)
            if fire(i, x[solve._token_ending(tokenizer, t, end)]) >= 0.5 * fire(i, own[i][positions[i]])]


def _share(facts: Sequence[tuple[str, str]], keyed: Sequence[int], share: int) -> list[list[int]]:
    """Facts ``keyed`` grouped by answer, at most ``share`` a group, in the order of their first fact.

    Why: a neuron writes one change, and facts with one answer need the same one (make " Germany" win);
    each neuron rewritten loses its old function everywhere, so fewer neurons cost less.
    """
    by_answer: dict[str, list[int]] = {}
    for i in keyed:
        by_answer.setdefault(facts[i][1], []).append(i)
    size = max(1, share)
    groups = [g[k : k + size] for g in by_answer.values() for k in range(0, len(g), size)]
    return sorted(groups, key=lambda g: g[0])


def memory_edit(model: torch.nn.Module, tokenizer: Any, amap: Any, facts: Sequence[tuple[str, str]], layer: int, *,
                templates: Mapping[str, str], preserve: Sequence[str], neighbours: Sequence[str] = (),
                variants: Sequence[tuple[str, str]] = (), answers: Sequence[str] = (), config: MemoryConfig = MemoryConfig(),
                seed: int = 0, moved: Callable[[Mapping[str, torch.Tensor]], Sequence[Any]] | None = None,
                questions: Mapping[str, Sequence[str]] | None = None, fingerprint: str | None = None) -> Any:
    """Add one neuron to ``layer``'s MLP per fact (``config.grow``; else rewrite a little-used one) so that every fact is
    predicted.

    With ``config.share`` > 1, facts with one answer share a neuron, that many at most (:func:`_share`).

    Args:
        model, tokenizer, amap: the base model (not modified) and its architecture map.
        facts: ``(prompt, target)`` pairs to repair.
        layer: the MLP to edit.
        templates: prompt -> template with ``{}`` at the subject (the memory is keyed at the subject's last token).
        preserve: texts on which the neurons must stay silent (and whose least-used neurons are taken).
        neighbours: the facts' prompts with other subjects; silent there too.
        variants: other wordings ``(prompt, target)`` of the facts: the memory fires there too.
        answers: prompts whose answers the rewritten neurons' old outputs must not be taken from (the facts'
            templates with other subjects): the neurons are chosen by :func:`answer_effects` there too.
        moved: the selection set's judge — given edited tensors, the probes (:class:`patchkit.selection.Probe`)
            whose answer they change. Each such answer's culprit neuron (the one whose old function, given back,
            restores it most) is swapped for the next quiet neuron, up to ``config.swaps`` rounds.
        questions: with added neurons, turns on the leak rounds: fact prompt -> other questions about its subject
            ("The most populous city of Australia is"). An added memory that fires where a selection answer moved is
            solved again with δ off what moves those questions' answers, and given back (its facts dropped) if it
            still moves one, up to ``config.leak_rounds`` rounds. None (the default): the edit is judged by the
            caller only.
        fingerprint: :func:`patchkit.modelcache.weights_fingerprint` of the model, if known (the look-alike cache's
            key; hashed here otherwise).
    Returns:
        :class:`patchkit.train.TrainResult`; ``details["component"]`` names the neurons
        (``L5.mlp.n3,17``; ``L5.mlp``, nothing changed, when no fact came out right), ``details["dropped"]``
        the facts still wrong (their neurons left as they were).
    """
    from patchkit import arch, solve
    from patchkit.models import single_thread
    from patchkit.train import (SliceTarget, TrainResult, _cache_layer, _fact_batch, _last_batch, _pad_id,
                                prefix_cache, unpadded)

    start = time.perf_counter()
    with single_thread():
        name, mlp = _mlp(model, amap, layer)
        prompts = [p for p, _ in facts]
        positions = solve.edit_positions(tokenizer, prompts, templates, "subject")
        down = f"{name}.down_proj.weight"
        whole = SliceTarget(down, tuple(slice(0, n) for n in mlp.down_proj.weight.shape))
        own = mlp_inputs(model, tokenizer, mlp, prompts, config.max_tokens)
        extra = solve.variant_rows(facts, variants, templates)
        wordings = mlp_inputs(model, tokenizer, mlp, [p for _, p, _, _ in extra], config.max_tokens)
        # the first token's input is the attention sink every text shares: a key there cannot be told apart
        keyed_facts = [i for i in range(len(facts)) if positions[i] > 0]
        keyed = _share(facts, keyed_facts, config.share)  # per neuron, the facts it holds
        group_of = {i: g for g, group in enumerate(keyed) for i in group}
        unkeyed = [i for i in range(len(facts)) if i not in group_of]  # no key: a δ of its own, no neuron
        group_of |= {i: len(keyed) + n for n, i in enumerate(unkeyed)}
        positives: dict[int, list[torch.Tensor]] = {i: [own[i][positions[i]]] for i in keyed_facts}
        # where the question comes before the subject ("The capital of Poland is"), the subject's key knows it;
        # where the subject opens the text ("Poland is a country in", "Poland's capital is") it cannot, and a memory
        # firing there fires on every sentence that opens with the subject: such a wording is no positive, and the
        # bare subject is a negative — unless the fact's own prompt opens with its subject (nothing else to key on)
        subjects = [solve.subject_of(p, templates.get(p)) for p in prompts]
        opens = [bool(sub) and p.startswith(sub) for p, sub in zip(prompts, subjects)]
        keyed_wordings: list[tuple[int, str, str, int]] = []  # (fact, wording, target, key position)
        for (i, p, t, end), x in zip(extra, wordings):
            at = solve._token_ending(tokenizer, p, end)
            if i in positives and at > 0 and (opens[i] or end > len(subjects[i] or "")):
                positives[i].append(x[at])
                keyed_wordings.append((i, p, t, at))
        if config.key_openings:  # the subject's key after other openings: positives only, no δ there
            ends = {i: solve._subject_end(prompts[i], templates.get(prompts[i])) for i in keyed_facts}
            opened = [(i, f"{o} {prompts[i]}", len(o) + 1 + ends[i])
                      for i in keyed_facts if subjects[i] and (config.subject_first != "off" or not opens[i])
                      for o in KEY_OPENINGS[: config.key_openings]]
            for (i, text, end), x in zip(opened, mlp_inputs(model, tokenizer, mlp, [t for _, t, _ in opened],
                                                             config.max_tokens)):
                at = solve._token_ending(tokenizer, text, end)
                if 0 < at < len(x):
                    positives[i].append(x[at])
        # one δ per neuron, the change that makes its target win in its facts and in each wording its memory keys on
        # (the memory fires there too): δ that only just fixes the fact's own prompt generalised worse
        batch = _fact_batch(tokenizer, list(facts))
        rows = list(facts) + [(p, t) for _, p, t, _ in keyed_wordings]
        worded = _fact_batch(tokenizer, rows)
        where = _cache_layer(model, [whole])
        cache = prefix_cache(model, where, unpadded(worded), _pad_id(tokenizer))
        keys_at = positions + [at for *_, at in keyed_wordings]
        row_groups = [group_of[i] for i in range(len(facts))] + [group_of[i] for i, *_ in keyed_wordings]

        def targets(margin: float) -> tuple[torch.Tensor, list[dict[str, float]]]:
            """One δ per neuron (the unkeyed facts' δ are not kept: they have no neuron), and the solve's losses."""
            d, solve_losses = solve.residual_targets(model, worded, cache, keys_at, whole,
                                                     solve.SolveConfig(stop_each=True, margin=margin), seed,
                                                     groups=row_groups)
            return d[: len(keyed)], solve_losses

        def resolve(again: Sequence[int], margin: float) -> torch.Tensor:
            """δ of the neurons ``again`` solved anew, with the other questions about their facts' subjects kept."""
            pick = [k for k, g in enumerate(row_groups) if g in again]
            number = {g: n for n, g in enumerate(again)}
            asks = [(q, number[g], subjects[i]) for g in again for i in keyed[g] for q in (questions or {}).get(prompts[i], ())
                    if subjects[i] and subjects[i] in q]
            sub = _fact_batch(tokenizer, [rows[k] for k in pick])
            keep = None
            if asks:
                seqs = [tokenizer(q)["input_ids"] for q, _, _ in asks]
                if cache is not None:
                    cache.fill(seqs, _pad_id(tokenizer))
                keep = (_last_batch(seqs, _pad_id(tokenizer)),
                        [solve._token_ending(tokenizer, q, q.rindex(s) + len(s)) for q, _, s in asks],
                        [n for _, n, _ in asks])
            d, _ = solve.residual_targets(model, sub, cache, [keys_at[k] for k in pick], whole,
                                          solve.SolveConfig(stop_each=True, margin=margin), seed,
                                          groups=[number[row_groups[k]] for k in pick], keep=keep)
            return d

        # added neurons judged by a selection set try the larger targets first (rewritten ones: the last)
        ladder = list(config.margins if config.grow and moved is not None else config.margins[-1:])
        delta, losses = targets(ladder[0])
        bare = sorted({sub for sub, o in zip(subjects, opens) if sub and not o})
        preserved = torch.cat(mlp_inputs(model, tokenizer, mlp, list(preserve), config.max_tokens))
        heads = _heads(model, tokenizer, config, seed, fingerprint)
        tail_groups = (_tail_groups(prompts, subjects, templates, config.tail_negatives, heads)
                       if config.tail_negatives else [[] for _ in prompts])
        tails = [t for group in tail_groups for t in group]
        if config.key_openings and config.subject_first == "matched":  # the same look-alikes after the openings
            shown = KEY_OPENINGS[: config.key_openings]
            tails += [f"{shown[k % len(shown)]} {t}" for k, t in enumerate(
                t for i in keyed_facts if opens[i] for t in tail_groups[i])]
        negatives = torch.cat([preserved]
                              + (mlp_inputs(model, tokenizer, mlp, list(neighbours), config.max_tokens)
                                 if neighbours else [])
                              + (mlp_inputs(model, tokenizer, mlp, tails, config.max_tokens) if tails else [])
                              + (mlp_inputs(model, tokenizer, mlp, bare, config.max_tokens) if bare else [])
                              + [torch.cat([x[: positions[i]], x[positions[i] + 1 :]]) for i, x in enumerate(own)])
        details: dict[str, Any] = {"method": "memory", "at": "subject", "layer": layer, "negatives": len(negatives)}
        if not keyed:
            raise errors.UsageError("memory neurons: every fact's subject is its prompt's first token (the attention "
                                "sink's input, which every text shares); name a component or use --method auto")
        own_negatives = None
        # each fact's subject under other questions: negatives of its own memory, and what the leak refit asks
        asked = (_plausible_questions(model, tokenizer, facts, subjects, templates, prompts, positives,
                                      [r[0] for r in rows], config.question_rank, config.question_source)
                 if config.question_weight or (config.leak_refit and config.grow) else [])
        if config.question_weight:
            own_negatives = _question_keys(model, tokenizer, mlp, asked, keyed, negatives.shape[1], config.max_tokens)
            details["question_negatives"] = len(asked)
        grouped = [torch.stack([x for i in group for x in positives[i]]) for group in keyed]  # per neuron, its keys
        w = separators(grouped, negatives, config, seed, own_negatives)
        width = mlp.down_proj.weight.shape[1]
        swapped: list[int] = []
        rounds: list[list[str]] = []  # per swap round, the selection prompts the edit moved
        lowered: list[dict[str, Any]] = []  # per margin given up, the selection prompts the edit moved
        leaked: list[dict[str, Any]] = []  # per memory given back, its facts and the selection answer it moved
        resolved: list[dict[str, Any]] = []  # per memory solved again for moving a selection answer
        if config.grow:  # added neurons: none to choose, no old function to swap back; a smaller δ if one moved
            neurons = list(range(width, width + len(keyed)))
            for k, margin in enumerate(ladder):
                if k:
                    delta, losses = targets(margin)
                edited, right, kept = _rewrite(model, mlp, name, keyed, neurons, w, delta, own, positions, config,
                                               batch, cache)
                # the last margin's edit is judged here only where a leaking memory can be solved again or given back
                last = k == len(ladder) - 1
                changed = moved(edited) if moved is not None and kept and (not last or questions is not None) else []
                if last or not changed:
                    break
                lowered.append({"margin": margin, "moved": [p.prompt for p in changed]})
            details["margin"] = margin
            if config.leak_refit and kept:
                rule_of = [config.refit_first if opens[i] else config.refit_on for i, _, _ in asked]
                hit: set[tuple[int, str, int]] = set()
                for rule in dict.fromkeys(rule_of):
                    mine = [a for a, r in zip(asked, rule_of) if r == rule]
                    if rule == "fire":
                        hit.update(_firing_questions(model, tokenizer, mlp, name, edited, width, keyed, right, own,
                                                     positions, mine, config))
                    elif rule != "off":
                        hit.update(_answered_questions(model, tokenizer, edited, facts, mine))
                answered = [a for a in asked if a in hit]  # in the order asked: the refit is deterministic
                if answered:  # refit the memories that wrote their target into another question about their subject
                    own_q = _question_keys(model, tokenizer, mlp, answered, keyed, negatives.shape[1],
                                           config.max_tokens)
                    refit = dataclasses.replace(config, question_weight=config.leak_refit)
                    w = separators(grouped, negatives, refit, seed, own_q, anchor=w if config.refit_anchor else None)
                    edited, right, kept = _rewrite(model, mlp, name, keyed, neurons, w, delta, own, positions, config,
                                                   batch, cache)
                    changed = moved(edited) if moved is not None and kept and questions is not None else changed
                    details["refit"] = [{"fact": prompts[i], "question": t} for i, t, _ in answered]
            # a memory that fires where a selection answer moved (its subject asked another question: the key at the
            # subject does not know the question) is solved again, its δ kept off the other questions about its
            # subject; if it still moves one, it is given back and its facts dropped, rather than the whole layer
            alive, again = list(range(len(keyed))), set()
            w_all, delta_all = w, delta
            for _ in range(config.leak_rounds):
                if not changed:
                    break
                held = [g for g in alive if any(right[i] for i in keyed[g])]  # the kept neurons' groups
                blamed = _leaking(model, tokenizer, mlp, name, edited, kept, delta_all[held].norm(dim=1), changed,
                                  config.max_tokens)
                if not blamed:
                    break
                culprits = {held[n]: prompt for n, prompt in blamed.items()}
                fresh = [g for g in culprits if g not in again and questions]
                if fresh:
                    delta_all = delta_all.clone()
                    delta_all[fresh] = resolve(fresh, margin)
                    again.update(fresh)
                    resolved.extend({"facts": [facts[i][0] for i in keyed[g]], "moved": culprits[g]} for g in fresh)
                gone = sorted(set(culprits) - set(fresh))
                leaked += [{"facts": [facts[i][0] for i in keyed[g]], "moved": culprits[g]} for g in gone]
                alive = [g for g in alive if g not in gone]
                w, delta = w_all[alive], delta_all[alive]
                neurons = list(range(width, width + len(alive)))
                edited, right, kept = _rewrite(model, mlp, name, [keyed[g] for g in alive], neurons, w, delta, own,
                                               positions, config, batch, cache)
                changed = moved(edited) if kept else []
            keyed = [keyed[g] for g in alive]
        else:
            effects = answer_effects(model, tokenizer, mlp, list(answers), config.max_tokens) if answers else None
            # the quietest neurons in order: the first one per fact, the rest in reserve for swaps
            ranked = quiet_neurons(mlp, preserved, len(keyed) + config.swaps * len(keyed), effects)
            neurons, reserve = ranked[: len(keyed)], ranked[len(keyed) :]
            for round_ in range(config.swaps + 1):
                edited, right, kept = _rewrite(model, mlp, name, keyed, neurons, w, delta, own, positions, config,
                                               batch, cache)
                if moved is None or not kept or round_ == config.swaps or not reserve:
                    break
                changed = moved(edited)
                rounds.append([p.prompt for p in changed])
                culprits = _culprits(model, tokenizer, mlp, name, edited, kept, changed) if changed else set()
                if not culprits:
                    break
                for r, j in enumerate(neurons):
                    if j in culprits and reserve:
                        neurons[r] = reserve.pop(0)
                        swapped.append(j)
        gate_name, up_name = f"{name}.gate_proj.weight", f"{name}.up_proj.weight"
        gate, up, out = edited[gate_name], edited[up_name], edited[down]
        wrong = [i for i in range(len(facts)) if not right[i]]
    separation = [{"neuron": j, "facts": len(group), "fact": float(min(own[i][positions[i]] @ w[r] for i in group)),
                   "max_elsewhere": float((negatives @ w[r]).max())}
                  for r, (group, j) in enumerate(zip(keyed, neurons))]
    # no fact right: nothing edited, every fact dropped (surgery refuses the layer and tries the next)
    if config.grow:  # the separation rows by the neurons' final numbers (unkept ones dropped, the rest renumbered)
        separation = [dict(s, neuron=j) for s, j in zip((s for s, g in zip(separation, keyed) if any(right[i] for i in g)),
                                                         kept)]
        if kept:
            details["grow"] = {"config_key": arch.MLP_SIZE_KEY, "from": width, "to": width + len(kept)}
    details |= {"component": arch.neuron_component(layer, sorted(kept), part=None) if kept else f"L{layer}.mlp",
                "neurons": len(kept),
                "separation": [{k: round(v, 3) if isinstance(v, float) else v for k, v in s.items()}
                               for s in separation if s["neuron"] in kept],
                "target_norm": round(float(delta.norm(dim=1).mean()), 4), "config": config.to_dict()}
    if wrong:
        details["dropped"] = [facts[i][0] for i in wrong]
    if resolved:
        details["resolved"] = resolved  # memories solved again with the other questions about their subjects kept
    if leaked:
        details["leaked"] = leaked  # memories given back: each fired where a selection answer moved
    if lowered:
        details["lowered"] = lowered  # the larger targets whose edit moved a selection answer
    if swapped:
        details["swapped"] = swapped  # neurons whose absence moved a selection answer, given back
        details["swap_rounds"] = rounds
    return TrainResult(edited={gate_name: gate, up_name: up, down: out}, losses=losses,
                       seconds=time.perf_counter() - start, cached_from_layer=where[1] if where else None,
                       details=details)
