"""Eval panels: the fixed measurements that judge an edit.

A panel is a file: facts (JSON Lines, ``schemas/facts.schema.json``) scored
by top-1 accuracy, or a text passage scored by perplexity.  Shipped panels
live in ``patchkit/data``: ``capitals`` (routing failures and correct
capitals, with paraphrases), ``general`` (short prompts the real model gets
right), ``side_effects`` (neighbours of the capitals that must not change)
and ``perplexity`` (public-domain English prose).  Each panel carries the
sha256 of its file bytes so a patch can record exactly what it was judged on.

Facts are scored teacher-forced: a fact is correct when the model's top-1
token equals the target's token at every target position (for a one-token
target, just the next token).  ``PanelResult.predictions`` holds the decoded
top-1 tokens at those positions, so ``compare`` can count answers that
changed between two models even where both are wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch

from patchkit import datasets, errors
from patchkit.models import single_thread
from patchkit.trace import continuation_ids

KINDS = ("facts", "general", "side_effects", "perplexity", "paraphrases")
# Shipped panels: name -> (file in patchkit/data, kind); the table lives in patchkit.datasets.
SHIPPED = {d.name: (d.file, d.kind) for d in datasets.SHIPPED.values() if d.kind in KINDS}


@dataclass(frozen=True)
class Fact:
    """A prompt and its expected continuation (``target``), with optional paraphrased prompts."""

    prompt: str
    target: str
    paraphrases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"prompt": self.prompt, "target": self.target}
        if self.paraphrases:
            d["paraphrases"] = list(self.paraphrases)
        return d


@dataclass
class Panel:
    """One eval panel: facts (``items``) or a passage (``text``), and the sha256 of its file."""

    name: str
    kind: str
    path: Path
    sha256: str
    items: list[Fact] = field(default_factory=list)
    text: str | None = None
    skip_trained: bool = False  # a paraphrases panel without the paraphrases surgery trained on

    def __len__(self) -> int:
        return len(self.items) if self.kind != "perplexity" else 1


@dataclass
class PanelResult:
    """A panel scored on one model.

    ``value`` is accuracy (``correct / n``) or perplexity; for perplexity ``n``
    is the number of scored tokens and ``predictions`` the top-1 token at each.
    """

    name: str
    kind: str
    metric: str
    value: float
    n: int
    correct: int
    predictions: list[str]
    first_token_correct: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schema_path() -> Path:
    """The facts JSON Schema shipped inside the package."""
    return Path(str(resources.files("patchkit") / "schemas" / "facts.schema.json"))


def load_facts(path: str | Path) -> list[Fact]:
    """Read and validate a facts JSON Lines file.

    Args:
        path: a ``.jsonl`` file, one ``{"prompt", "target", "paraphrases"?}`` object per line
            (blank lines are skipped), or a shipped data set's name (``capitals``).
    Returns:
        The facts, in file order.
    Raises:
        SchemaError: a line is not JSON or does not match ``facts.schema.json``
            (the message names the file and line).
    Example:
        >>> facts = load_facts("capitals.jsonl")        # doctest: +SKIP
        >>> facts[0].prompt, facts[0].target            # doctest: +SKIP
        ('The capital of Poland is', ' Warsaw')
    """
    import jsonschema

    path = datasets.resolve(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise errors.UsageError(f"{path}: no such facts file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.SchemaError(f"{path}: cannot read as UTF-8 text ({exc})") from None
    validator = jsonschema.Draft202012Validator(json.loads(schema_path().read_text()))
    facts = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise errors.SchemaError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        problems = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
        if problems:
            where = "/".join(str(p) for p in problems[0].path)
            raise errors.SchemaError(f"{path}:{lineno}: {where + ': ' if where else ''}{problems[0].message}")
        facts.append(Fact(obj["prompt"], obj["target"], list(obj.get("paraphrases", []))))
    if not facts:
        raise errors.SchemaError(f"{path}: no facts")
    return facts


def shipped_panels() -> list[Panel]:
    """The panels that judge every edit: general, side_effects, perplexity."""
    return [load_panel(n) for n in ("general", "side_effects", "perplexity")]


def load_panel(spec: str | Path, kind: str | None = None) -> Panel:
    """Load a shipped panel by name or a panel file by path.

    Args:
        spec: ``capitals``, ``general``, ``side_effects``, ``perplexity``, or a file
            (``.jsonl`` facts; ``.txt`` passage for perplexity).
        kind: override the kind (e.g. ``side_effects`` for a user's own neighbours file).
    Returns:
        The :class:`Panel`, with the sha256 of the file's bytes.
    Raises:
        UsageError: unknown name or kind; SchemaError: a malformed facts file.
    """
    if str(spec) in SHIPPED:
        fname, default_kind = SHIPPED[str(spec)]
        path = datasets.data_dir() / fname
        name = str(spec)
    else:
        path = Path(spec)
        if not path.is_file():
            raise errors.UsageError(f"{spec}: not a shipped panel ({', '.join(SHIPPED)}) and no such file")
        default_kind = "perplexity" if path.suffix == ".txt" else "facts"
        name = path.stem
    kind = kind or default_kind
    if kind not in KINDS:
        raise errors.UsageError(f"panel kind {kind!r} unknown (one of {', '.join(KINDS)})")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if kind == "perplexity":
        return Panel(name, kind, path, sha, text=data.decode("utf-8"))
    return Panel(name, kind, path, sha, items=load_facts(path))


def reported_paraphrases(fact: Fact, skip_trained: bool = False) -> list[str]:
    """The paraphrases of ``fact`` that a report may count.

    With ``skip_trained``, surgery trained on the first paraphrase of every fact
    that has two or more, so that one is left out: a reported paraphrase is never
    a trained one.
    """
    return fact.paraphrases[1:] if skip_trained and len(fact.paraphrases) >= 2 else list(fact.paraphrases)


def trained_paraphrases(facts: Iterable[Fact]) -> list[tuple[str, str]]:
    """The ``(prompt, target)`` pairs surgery trains besides the facts: each first paraphrase of two or more."""
    return [(f.paraphrases[0], f.target) for f in facts if len(f.paraphrases) >= 2]


def paraphrase_panel(panel: Panel, skip_trained: bool = False) -> Panel | None:
    """A ``paraphrases`` panel: each fact's paraphrased prompts with the same target (None if none).

    ``skip_trained`` leaves out the paraphrases surgery trains on (:func:`reported_paraphrases`).
    """
    items = [Fact(p, f.target) for f in panel.items for p in reported_paraphrases(f, skip_trained)]
    if not items:
        return None
    return Panel(f"{panel.name}.paraphrases", "paraphrases", panel.path, panel.sha256, items=items,
                 skip_trained=skip_trained)


def facts_panel(facts: list[Fact], name: str = "facts", path: str | Path = "") -> Panel:
    """Wrap in-memory facts as a panel (sha256 over their canonical JSON Lines)."""
    body = "".join(json.dumps(f.to_dict(), sort_keys=True) + "\n" for f in facts).encode()
    return Panel(name, "facts", Path(path), hashlib.sha256(body).hexdigest(), items=list(facts))


def run_panel(model: Any, tokenizer: Any, panel: Panel, progress: bool = False) -> PanelResult:
    """Score ``panel`` on ``model`` (accuracy for facts-like panels, perplexity for text).

    Args:
        model, tokenizer: a causal LM in eval mode and its tokenizer.
        panel: from :func:`load_panel`.
        progress: show a progress bar (stderr).
    Returns:
        A :class:`PanelResult`.
    """
    with single_thread():
        return _run_panel(model, tokenizer, panel, progress)


def base_results(model: Any, tokenizer: Any, panels: Sequence[Panel], fingerprint: str,
                 progress: bool = False) -> list[PanelResult]:
    """:func:`run_panel` for each panel on an unedited base model, kept in the cache between runs.

    Why: surgery scores the same panels on the same base model on every run; the scores are a
    pure function of the weights (``fingerprint``, :func:`patchkit.modelcache.weights_fingerprint`),
    the panel's content and the code (:mod:`patchkit.modelcache`).
    """
    from patchkit import modelcache

    out = []
    for panel in panels:
        content = {"name": panel.name, "kind": panel.kind, "text": panel.text,
                   "items": [f.to_dict() for f in panel.items]}
        path = modelcache.path_for(fingerprint, "panel", content)
        kept = modelcache.read(path)
        try:
            result = PanelResult(**kept) if isinstance(kept, dict) else None
        except TypeError:
            result = None
        if result is not None and not (isinstance(result.n, int) and isinstance(result.correct, int)
                                       and isinstance(result.value, (int, float))
                                       and isinstance(result.predictions, list)
                                       and all(isinstance(p, str) for p in result.predictions)):
            result = None  # a damaged entry: score again
        if result is None:
            result = run_panel(model, tokenizer, panel, progress=progress)
            modelcache.write(path, result.to_dict())
        out.append(result)
    return out


def _run_panel(model: Any, tokenizer: Any, panel: Panel, progress: bool) -> PanelResult:
    if panel.kind == "perplexity":
        return _perplexity(model, tokenizer, panel)
    correct = first = 0
    predictions = []
    for ok, first_ok, pred in score_facts(model, tokenizer, panel.items, progress=progress, desc=panel.name):
        correct += ok
        first += first_ok
        predictions.append(pred)
    n = len(panel.items)
    return PanelResult(panel.name, panel.kind, "accuracy", correct / n if n else 0.0, n, correct, predictions, first)


def score_fact(model: Any, tokenizer: Any, fact: Fact) -> tuple[bool, bool, str]:
    """Teacher-forced greedy check of one fact: (all tokens right, first token right, decoded top-1s)."""
    return score_facts(model, tokenizer, [fact])[0]


def score_facts(model: Any, tokenizer: Any, facts: Sequence[Fact], batch: int = 16, progress: bool = False,
                desc: str = "") -> list[tuple[bool, bool, str]]:
    """Teacher-forced greedy check of many facts, batched: sequences of equal length share one forward pass.

    Why equal lengths only: a padded batch changes the shapes of the matrix products, and with them
    the last bits of the logits; grouping by length keeps every sequence's computation free of
    padding, so a near-tie (a near miss 0.03 logits behind) is scored the same way on every run.
    """
    encoded = []
    for fact in facts:
        prompt_ids = tokenizer(fact.prompt).input_ids
        target_ids = continuation_ids(tokenizer, fact.prompt, fact.target)
        encoded.append((prompt_ids, target_ids, prompt_ids + target_ids[:-1]))
    by_len: dict[int, list[int]] = {}
    for i, (_, _, ids) in enumerate(encoded):
        by_len.setdefault(len(ids), []).append(i)
    chunks = [idx[k : k + batch] for _, idx in sorted(by_len.items()) for k in range(0, len(idx), batch)]
    out: list[tuple[bool, bool, str] | None] = [None] * len(facts)
    for chunk in _bar(chunks, progress, desc):
        ids = torch.tensor([encoded[i][2] for i in chunk])
        with torch.no_grad():
            logits = model(ids, use_cache=False).logits
        for row, i in enumerate(chunk):
            prompt_ids, target_ids, _ = encoded[i]
            top = logits[row, len(prompt_ids) - 1 :].argmax(-1).tolist()
            hits = [a == b for a, b in zip(top, target_ids)]
            out[i] = (all(hits), hits[0], tokenizer.decode(top))
    return [o for o in out if o is not None]


def _perplexity(model: Any, tokenizer: Any, panel: Panel, window: int = 1024) -> PanelResult:
    ids = tokenizer(panel.text).input_ids
    if len(ids) < 2:
        raise errors.UsageError(f"{panel.path}: the perplexity passage is too short")
    cfg = getattr(model, "config", None)
    longest = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
    if isinstance(longest, int) and longest > 1:
        window = min(window, longest - 1)  # a small model's position table is the limit
    nll, count, preds = 0.0, 0, []
    for start in range(0, len(ids) - 1, window):
        chunk = torch.tensor([ids[start:start + window + 1]])
        with torch.no_grad():
            logits = model(chunk[:, :-1], use_cache=False).logits[0].to(torch.float64)
        gold = chunk[0, 1:]
        nll += torch.nn.functional.cross_entropy(logits, gold, reduction="sum").item()
        count += gold.numel()
        preds.extend(str(i) for i in logits.argmax(-1).tolist())
    return PanelResult(panel.name, panel.kind, "perplexity", math.exp(nll / count), count, 0, preds)


def compare(before: PanelResult, after: PanelResult) -> dict[str, Any]:
    """Before/after figures for one panel.

    Returns:
        ``{"name", "kind", "metric", "n", "before", "after", "changed"}`` where
        ``before``/``after`` are the correct counts (accuracy panels) or the
        perplexities, and ``changed`` counts items (tokens, for perplexity) whose
        top-1 prediction differs.  For side-effect panels ``changed`` is the figure
        that matters: it should be 0.
    """
    if (before.name, before.kind, before.n) != (after.name, after.kind, after.n):
        raise errors.UsageError(f"compare: {before.name} and {after.name} are not the same panel")
    changed = sum(a != b for a, b in zip(before.predictions, after.predictions))
    acc = before.metric == "accuracy"
    return {
        "name": before.name,
        "kind": before.kind,
        "metric": before.metric,
        "n": before.n,
        "before": before.correct if acc else before.value,
        "after": after.correct if acc else after.value,
        "changed": changed,
    }


def evaluate(model: Any, tokenizer: Any, panels: Iterable[Panel], progress: bool = False) -> list[PanelResult]:
    """Run several panels in order."""
    return [run_panel(model, tokenizer, p, progress=progress) for p in panels]


def before_after(
    model: Any,
    tokenizer: Any,
    panels: list[Panel],
    apply: Callable[[Any], None],
    revert: Callable[[Any], None],
    progress: bool = False,
) -> tuple[list[PanelResult], list[PanelResult]]:
    """Score panels on the model, then with an edit applied in memory, then undo it.

    Args:
        apply, revert: change the model in place and undo it (e.g. ``patch.apply_to`` /
            ``patch.revert_from``); ``revert`` runs even if scoring fails.
    Returns:
        ``(before, after)`` results, panel for panel.
    """
    before = evaluate(model, tokenizer, panels, progress=progress)
    apply(model)
    try:
        after = evaluate(model, tokenizer, panels, progress=progress)
    finally:
        revert(model)
    return before, after


def format_results(results: list[PanelResult], after: list[PanelResult] | None = None) -> str:
    """A table for people: one row per panel; with ``after``, before/after side by side. The name column is as wide
    as the longest name ("smollm2_near8.paraphrases" runs into no other column)."""
    wide = name_width(r.name for r in results)
    if after is None:
        rows = [f"{'panel':<{wide}}{'kind':<14}{'metric':<12}{'score':>14}"]
        for r in results:
            rows.append(f"{r.name:<{wide}}{r.kind:<14}{r.metric:<12}{_score(r):>14}")
        return "\n".join(rows)
    rows = [f"{'panel':<{wide}}{'kind':<14}{'before':>14}{'after':>14}{'changed':>9}"]
    for b, a in zip(results, after):
        c = compare(b, a)
        rows.append(f"{b.name:<{wide}}{b.kind:<14}{_score(b):>14}{_score(a):>14}{c['changed']:>9}")
    return "\n".join(rows)


def name_width(names: Iterable[str]) -> int:
    """The width of a table's panel-name column: 24, or the longest name and two spaces."""
    return max([24] + [len(n) + 2 for n in names])


def _score(r: PanelResult) -> str:
    return f"{r.correct}/{r.n}" if r.metric == "accuracy" else f"{r.value:.3f}"


def _bar(items: list, progress: bool, desc: str):
    if not progress:
        return items
    from patchkit.progress import bar

    return bar(items, desc=desc, unit="item")
