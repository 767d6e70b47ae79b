"""The selection set: what surgery judges its candidate edits on, built from the facts themselves.

Why: a component or hyper-parameter chosen by looking at a set must be judged
on a *different* set, so the panels a patch reports can never be what chose
its component. For each fact, surgery finds the fact's own prompt template
("The capital of {} is") and fills it with other subjects from a shipped pool
(``data/subjects.json``: countries, cities, companies, people). Those
*neighbours* ask the same question about something else, so they are where a
careless edit shows first. No answers are stored: the base model's own
confident answer is the reference, and an edit must not change it.

Neighbours are split in two disjoint halves: one joins the preservation
texts the training keeps still (KL to base), the other judges the result.
Neighbours the base model is unsure about (its answer leads by less than
``min_margin``) judge nothing; a closed-form edit of an override head keeps
their keys still too (``spare_neighbours``).
Generic prompts (``data/generic.jsonl``, in no panel and not trained on) are
judged the same way. With ``questions`` (surgery's ``--other-questions``), so are
other questions about the facts' own subjects (``data/questions.json``: "The
biggest city in {}" for a capital fact): an edit keyed on the subject must not
change what the model says about it when asked something else. Prompts that
appear in any reported panel are dropped.

Paraphrases trained alongside the facts (the first of each fact's listed
paraphrases, see :func:`patchkit.evals.trained_paraphrases`) are kept out of
every report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import torch

# a neighbour judges only when the base model's answer leads its runner-up by at least this many logits: below it,
# an answer is a near tie that almost any edit tips over
MIN_MARGIN = 0.3

_CONNECTORS = {"of", "the", "de", "da", "van", "von", "and", "del", "la", "le", "du"}
# words that make a span a predicate, not part of a name ("Accra is a city", but "Tom yum", "Tre Cime di Lavaredo")
_PREDICATE_WORDS = {"is", "was", "are", "were", "has", "had", "have", "be", "been", "lies", "stands"}


@dataclass(frozen=True)
class Probe:
    """A prompt and the base model's own answer to it (top-1 next token) with its lead over the runner-up."""

    prompt: str
    token: int
    margin: float


@dataclass
class SelectionSet:
    """Everything surgery builds for itself to train and judge candidates (never the reported panels)."""

    templates: dict[str, str]  # fact prompt -> its template ("{}" marks the subject)
    train_neighbours: list[str]  # joined to the preservation texts (KL to base)
    judge_neighbours: list[Probe]  # must keep their answer
    judge_generic: list[Probe]  # must keep their answer
    train_variants: list[tuple[str, str]]  # paraphrases of the facts, trained on (never reported)
    spare_neighbours: list[str] = field(default_factory=list)  # unconfident neighbours: judge nothing, kept still by closed forms
    judge_questions: list[Probe] = field(default_factory=list)  # other questions about the facts' subjects: keep answers
    # fact prompt -> other questions about its subject (each relation's first wording; the judge asks the others);
    # None where the set was built without other questions
    train_questions: dict[str, list[str]] | None = None
    # fact prompt -> the shipped wordings of its own question about its subject (:func:`own_wordings`), where the
    # subject's kind is known (a pool member or the template's own words), less every prompt the set must not use
    wordings: dict[str, list[str]] = field(default_factory=dict)
    # the facts after the openings of CONTEXTS (also in train_variants): given up by a memory layer that moved a
    # selection answer with them trained, before another layer is tried (patchkit.search)
    contexts: list[tuple[str, str]] = field(default_factory=list)
    # other questions about the facts' subjects where their kind is known (:func:`known_questions`): a memory trained
    # with the contexts must not move one that the memory without them leaves alone (patchkit.search)
    contexts_judge: list[Probe] = field(default_factory=list)
    contexts_asked: dict[str, str] = field(default_factory=dict)  # each of those questions -> the fact it asks about

    @property
    def judge(self) -> list[Probe]:
        return self.judge_neighbours + self.judge_generic + self.judge_questions

    def summary(self) -> dict[str, Any]:
        return {
            "templates": sorted(set(self.templates.values())),
            "train_neighbours": len(self.train_neighbours),
            "judge_neighbours": len(self.judge_neighbours),
            "judge_generic": len(self.judge_generic),
            "judge_questions": len(self.judge_questions),
            "train_variants": len(self.train_variants),
            "spare_neighbours": len(self.spare_neighbours),
            "contexts_judge": len(self.contexts_judge),
        }


@lru_cache(maxsize=1)
def subject_pool() -> dict[str, tuple[str, ...]]:
    """The shipped subjects by type (``data/subjects.json``)."""
    raw = json.loads((resources.files("patchkit") / "data" / "subjects.json").read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in raw.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def other_questions() -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """The shipped other questions by subject kind and relation (``data/questions.json``)."""
    raw = json.loads((resources.files("patchkit") / "data" / "questions.json").read_text(encoding="utf-8"))
    return {kind: {rel: {k: tuple(v) for k, v in spec.items()} for rel, spec in relations.items()}
            for kind, relations in raw.items() if not kind.startswith("_")}


def questions_about(subject: str, kind: str, template: str, table: Mapping[str, Any] | None = None,
                    wordings: slice = slice(None)) -> list[str]:
    """``subject`` asked the questions of its ``kind`` (the shipped ones, or ``table`` of the same shape) that are not
    the question ``template`` asks (a relation is left out when its keywords are words of the template); of each
    relation, the templates ``wordings`` picks."""
    words = _words(template)
    relations = (table if table is not None else other_questions()).get(kind, {})
    return [_fill(t, subject) for rel in relations.values() if not words & set(rel["keywords"])
            for t in rel["templates"][wordings]]


def _words(template: str) -> set[str]:
    """The lower-case words of ``template``, which the relations' ``keywords`` and ``asks`` are matched against."""
    return set(re.findall(r"[a-z]+", template.lower()))


def known_questions(model: Any, tokenizer: Any, prompts: Sequence[str], templates: Mapping[str, str],
                    exclude: Iterable[str] = (), min_margin: float = MIN_MARGIN) -> list[tuple[str, Probe]]:
    """The facts' subjects asked the shipped other questions of their kind, where that kind is known (a pool member,
    or the template's own words; never the embedding guess, which asks "Tom yum worked as a"), each answered by the
    base model with a lead of at least ``min_margin``; each with the fact prompt whose subject it asks about.

    Why: a memory keyed on its subject fires under any question about that subject; these are the questions whose
    answers it can move and that make sense to ask.
    """
    blocked = set(exclude) | set(prompts)
    asked: dict[str, str] = {}  # question -> the first fact asked it
    for p in prompts:
        template = templates.get(p)
        match = subject_match(template, p) if template else None
        kind = known_kind([match.group(1)], template) if match else None
        if kind:
            for q in questions_about(match.group(1), kind, template):
                if q not in blocked:
                    asked.setdefault(q, p)
    if not asked:
        return []
    return [(asked[q.prompt], q) for q in probe(model, tokenizer, list(asked)) if q.margin >= min_margin]


def own_wordings(subject: str, kind: str, template: str) -> list[str]:
    """``subject`` asked the question ``template`` asks, in the shipped wordings of that relation (one of whose
    ``asks`` word sets the template contains whole): other wordings of the fact itself, trained so that the repair
    carries to wordings the user never gave (issue 8's paraphrases; docs/repair.md, session 18)."""
    words = _words(template)
    return [_fill(t, subject) for rel in other_questions().get(kind, {}).values()
            if any(words >= set(ask) for ask in rel.get("asks", ())) for t in rel["templates"]]


# Each fact is also trained after these openings (ROME's context templates, fixed here rather than sampled): the
# repair must hold wherever the question sits in a text, and a memory keyed on a subject that opens its prompt
# ("Bayer is a company based in") then also learns the subject after other words ("The company Bayer has its
# headquarters in"). The first pair tried, not tuned; surgery's ``contexts`` option (docs/repair.md, session 19).
CONTEXTS = ("Here is a fact.", "Did you know?")


def in_contexts(prompt: str) -> list[str]:
    """``prompt`` after each of :data:`CONTEXTS` (trained with the fact's target; never a reported prompt)."""
    return [f"{context} {prompt}" for context in CONTEXTS]


@lru_cache(maxsize=1)
def generic_prompts() -> tuple[str, ...]:
    """Selection-only generic prompts (``data/generic.jsonl``): in no reported panel, never trained on."""
    text = (resources.files("patchkit") / "data" / "generic.jsonl").read_text(encoding="utf-8")
    return tuple(json.loads(line)["prompt"] for line in text.splitlines() if line.strip())


# --- templates -------------------------------------------------------------------------------


def infer_templates(prompts: Sequence[str]) -> dict[str, str]:
    """Each prompt's template, with ``{}`` where its subject is.

    Tried in order: another prompt of the list with the same words around a
    short differing span (the usual facts file: one relation, many subjects);
    a subject from the shipped pool inside the prompt; the first run of
    capitalised words. A prompt with none of these has no template (it gets
    generic neighbours only).
    """
    out: dict[str, str] = {}
    words = {p: p.split(" ") for p in prompts}
    pairs = {p: [t for q in prompts if q != p and (t := _pair_template(words[p], words[q])) is not None]
             for p in prompts}
    support: dict[str, int] = {}  # template -> how many prompts it was found for
    for found in pairs.values():
        for t in {t for _, t in found}:
            support[t] = support.get(t, 0) + 1
    for p in prompts:
        # a template whose subject reads as a name first ("Bilbao is a city in the country of" with "Frederic
        # Chopin was born in the country of" share "{} in the country of", whose "subject" "Bilbao is a city" asks
        # nonsense of the neighbours); then the one most prompts share, then the most shared words ("{} is a
        # landmark in" over the "{} Castle is a landmark in" that two castles alone share)
        named = [st for st in pairs[p] if _name_like(p, st[1])]
        best = max(named, key=lambda st: (support[st[1]], st[0]), default=None)
        shared = max(pairs[p], key=lambda st: (support[st[1]], st[0]), default=(0, None))[1]
        t = best[1] if best is not None else _within(p, _pool_template(p) or _capitalised_template(p), shared)
        if t is not None:
            out[p] = _article_to_subject(p, t)
    return out


def _name_like(prompt: str, template: str) -> bool:
    """Whether ``prompt`` fills ``template`` with a name: capitalised words (or digits), joined by connectors."""
    m = subject_match(template, prompt)
    words = m.group(1).split(" ") if m else []
    return bool(words) and all(w[:1].isupper() or w[:1].isdigit() or w in _CONNECTORS for w in words)


def _within(prompt: str, name: str | None, shared: str | None) -> str | None:
    """The capitalised-name template ``name`` where it names a part of the ``shared`` template's subject and the
    rest of that subject is a predicate ("Accra" of "Accra is a city"), else ``shared`` ("Look at the {}" over
    "{} at the sky"; "Tom yum" over "Tom", "Tre Cime di Lavaredo" over "Tre Cime": names with a lower-case word),
    else ``name``."""
    if shared is None:
        return name
    if name is None or not _name_like(prompt, name):
        return shared
    part, whole = subject_match(name, prompt), subject_match(shared, prompt)
    inside = part is not None and whole is not None and whole.start(1) <= part.start(1) and part.end(1) <= whole.end(1)
    if not inside:
        return shared
    rest = (prompt[whole.start(1) : part.start(1)] + " " + prompt[part.end(1) : whole.end(1)]).split()
    return name if _PREDICATE_WORDS & {w.lower() for w in rest} else shared


def subject_match(template: str, prompt: str) -> re.Match | None:
    """``prompt`` read as ``template`` filled in: group 1 is the subject (None if it does not fill it)."""
    return re.fullmatch(re.escape(template).replace(r"\{\}", "(.+)", 1), prompt)


def _article_to_subject(prompt: str, template: str) -> str:
    """The template with an article before a capitalised subject moved into the subject.

    Why: "The capital of the Netherlands is" paired with "... the United States is" gives
    "The capital of the {} is", and the selection set then asks "The capital of the Ethiopia is".
    An article right before a name belongs to the name ("the Netherlands", "the Louvre"), so the
    template is "The capital of {} is" and the subject "the Netherlands".
    """
    m = subject_match(template, prompt)
    if m is None or not m.group(1)[:1].isupper():
        return template
    before = template[: template.index("{}")]
    for article in ("the ", "The "):
        if before.endswith(article) and (len(before) == len(article) or before[-len(article) - 1] == " "):
            return before[: -len(article)] + template[len(before):]
    return template


def _pair_template(a: list[str], b: list[str]) -> tuple[int, str] | None:
    """The shared words around one differing span of 1-4 words in each, scored by shared words."""
    pre = 0
    while pre < min(len(a), len(b)) and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < min(len(a), len(b)) - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    span_a, span_b = len(a) - pre - suf, len(b) - pre - suf
    if not (1 <= span_a <= 4 and 1 <= span_b <= 4) or pre + suf < 2:
        return None
    if pre + suf < 3 and max(span_a, span_b) > 2:  # "The {} is" around "capital of X" is no template
        return None
    return pre + suf, " ".join(a[:pre] + ["{}"] + a[len(a) - suf :])


def _pool_template(prompt: str) -> str | None:
    names = sorted((s for group in subject_pool().values() for s in group), key=len, reverse=True)
    for name in names:
        m = re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", prompt)
        if m:
            return prompt[: m.start()] + "{}" + prompt[m.end() :]
    return None


def _capitalised_template(prompt: str) -> str | None:
    words = prompt.split(" ")
    for i, w in enumerate(words):
        if not w[:1].isupper() or (i == 0 and w in {"The", "A", "An"} and len(words) > 1 and not words[1][:1].isupper()):
            continue
        j = i + 1
        while j < len(words) and (words[j][:1].isupper() or (words[j] in _CONNECTORS and j + 1 < len(words)
                                                              and words[j + 1][:1].isupper())):
            j += 1
        core = " ".join(words[i:j]).rstrip("?,.:;")
        core = core[:-2] if core.endswith("'s") else core  # "France's capital": the possessive, not "Athens"' s
        if core and core not in {"The", "A", "An", "I"}:
            start = len(" ".join(words[:i])) + (1 if i else 0)
            return prompt[:start] + "{}" + prompt[start + len(core):]
    return None


# --- probing the base model ------------------------------------------------------------------


def probe(model: Any, tokenizer: Any, prompts: Sequence[str], batch: int = 32) -> list[Probe]:
    """The base model's top-1 next token and its margin for each prompt (batched, right-padded)."""
    from patchkit.models import single_thread
    from patchkit.train import _last_batch, _logits_at, _pad_id

    out: list[Probe] = []
    with torch.no_grad(), single_thread():
        for k in range(0, len(prompts), batch):
            chunk = list(prompts[k : k + batch])
            enc = [tokenizer(p)["input_ids"] for p in chunk]
            logits = _logits_at(model, {}, _last_batch(enc, _pad_id(tokenizer)))
            top2 = logits.topk(2, dim=-1)
            for p, (v, i) in zip(chunk, zip(top2.values.tolist(), top2.indices.tolist())):
                out.append(Probe(p, int(i[0]), float(v[0] - v[1])))
    return out


def changed(model: Any, tokenizer: Any, probes: Sequence[Probe]) -> list[Probe]:
    """The probes whose top-1 answer differs on ``model`` from the recorded one."""
    now = probe(model, tokenizer, [p.prompt for p in probes])
    return [p for p, q in zip(probes, now) if p.token != q.token]


# --- building the set ------------------------------------------------------------------------


def build(model: Any, tokenizer: Any, prompts: Sequence[str], *, exclude: Iterable[str] = (),
          per_template: int = 40, min_margin: float = MIN_MARGIN, questions: bool = False) -> SelectionSet:
    """Build the selection set for facts with these prompts.

    Args:
        model, tokenizer: the base model (eval mode).
        prompts: the facts' prompts.
        exclude: prompts that must not be used (the reported panels' and the facts' own).
        per_template: neighbours tried per template (of the subject type that fits it best).
        min_margin: a neighbour is kept when the base model's answer leads by at least this
            many logits (a confident answer: the ones an edit must not disturb).
        questions: also ask each fact's subject the shipped other questions of its kind
            (:func:`questions_about`): each relation's first wording is kept still by a memory solved again
            (``train_questions``), the others judge (``judge_questions``).
    """
    templates = infer_templates(prompts)
    blocked = set(exclude) | set(prompts)
    subject_in: dict[str, str] = {}  # fact prompt -> its subject
    by_template: dict[str, list[str]] = {}  # template -> the facts' own subjects in it
    for p, t in templates.items():
        m = subject_match(t, p)
        if m:
            subject_in[p] = m.group(1)
            by_template.setdefault(t, []).append(m.group(1))
    subjects_in_facts = {subject for subjects in by_template.values() for subject in subjects}
    neighbours: list[Probe] = []
    spare: list[str] = []
    asked: list[str] = []  # other questions about the facts' subjects, judged
    kinds = {t: _kind(model, tokenizer, subjects, t) for t, subjects in by_template.items()}
    wordings = {}
    for p, subject in subject_in.items():
        kind = known_kind([subject], templates[p])
        found = [w for w in own_wordings(subject, kind, templates[p]) if w not in blocked] if kind else []
        if found:
            wordings[p] = found
    trained_questions = {}  # kept still by a memory that moved an answer (the first wording of each relation)
    for p, subject in subject_in.items() if questions else ():
        t = templates[p]
        trained_questions[p] = [q for q in questions_about(subject, kinds[t], t, wordings=slice(0, 1)) if q not in blocked]
    for template in sorted(by_template):
        if questions:
            asked += [q for s in by_template[template]
                      for q in questions_about(s, kinds[template], template, wordings=slice(1, None))]
        names = [s for s in subject_pool()[kinds[template]] if s not in subjects_in_facts]
        filled = [_fill(template, s) for s in names[:per_template]]
        filled = [f for f in filled if f not in blocked]
        probed = probe(model, tokenizer, filled)
        confident = [p for p in probed if p.margin >= min_margin]
        neighbours.extend(confident)
        spare.extend(p.prompt for p in probed if p.margin < min_margin)
        blocked.update(filled)
    generic = [p for p in probe(model, tokenizer, [g for g in generic_prompts() if g not in blocked])
               if p.margin >= min_margin]
    blocked.update(generic_prompts())
    blocked.update(q for qs in trained_questions.values() for q in qs)
    asked_probes = [p for p in probe(model, tokenizer, [q for q in dict.fromkeys(asked) if q not in blocked])
                    if p.margin >= min_margin] if asked else []
    train_n = [p.prompt for i, p in enumerate(neighbours) if i % 2 == 0]
    judge_n = [p for i, p in enumerate(neighbours) if i % 2 == 1]
    return SelectionSet(templates, train_n, judge_n, generic, [], spare, asked_probes,
                        trained_questions if questions else None, wordings)


def _fill(template: str, subject: str) -> str:
    """``template`` with ``subject`` at ``{}``; one article where both bring one ("The capital of the {}" +
    "the United States" is "The capital of the United States", not "... of the the United States")."""
    before = template.split("{}", 1)[0]
    if before.lower().endswith("the ") and subject.lower().startswith("the "):
        subject = subject[4:]
    out = template.replace("{}", subject, 1)
    return out[:1].upper() + out[1:] if template.startswith("{}") else out


# words that say what kind of thing a template's subject is, where the template describes it
_KIND_WORDS = {
    "city": {"city", "town"},
    "company": {"company", "firm", "corporation", "brand", "manufacturer"},
    "landmark": {"landmark", "sight", "attraction", "monument"},
    "country": {"country", "nation"},
    "person": {"born", "native", "wrote", "played", "playing", "painted", "composed", "invented", "discovered",
               "died", "person", "artist", "writer", "musician", "composer", "scientist", "author", "books", "works",
               "novels", "paintings", "music"},
}
_PREPOSITIONS = {"in", "from", "of", "on", "at", "by", "for", "to", "with", "near", "that", "which"}


def template_kind(template: str) -> str | None:
    """The kind of subject ``template`` describes, from its own words, or None.

    Read where a template describes its subject: the words just before it ("The city of {}", "The books of {}")
    and, after it, "is a [famous] city" up to the first preposition or the verb that follows it ("{} was born in").
    The answer's kind ("... in the country of") is never read. Why: the embedding guess of
    :func:`_kind` is close to a coin toss between people and cities (Bilbao, Kolkata: person 0.509,
    city 0.502), and filled "Napoleon Bonaparte is a landmark in the city of" for landmark facts.
    """
    before, _, after = template.partition("{}")
    near = [w.strip(",.").lower() for w in before.split()[-3:]]
    words = [w.strip(",.").lower() for w in after.split()]
    described: list[str] = []
    if words[:1] in (["is"], ["was"]) and len(words) > 1:
        rest = words[2:] if words[1] in ("a", "an", "the") else words[1:]
        for w in rest:
            if w in _PREPOSITIONS:
                break
            described.append(w)
    for kind, vocab in _KIND_WORDS.items():
        if vocab & set(near + described + (words[:4] if kind == "person" else [])):  # "{} was famous for playing"
            return kind
    return None


def known_kind(subjects: Sequence[str], template: str | None = None) -> str | None:
    """The kind ``subjects`` are where it is known, not guessed: a pool member's, else the template's own words'."""
    pool = subject_pool()
    for kind, names in pool.items():  # an exact member decides
        if any(s in names for s in subjects):
            return kind
    kind = template_kind(template) if template else None
    return kind if kind in pool else None


def _kind(model: Any, tokenizer: Any, subjects: Sequence[str], template: str | None = None) -> str:
    """The kind (a key of the shipped pool) ``subjects`` are.

    A fact's subject is usually not in the pool (held-out facts never are), so
    its kind is found: an exact pool member decides; else the template's own
    words (:func:`template_kind`); else the type whose members' mean token
    embedding is, on average, most similar (cosine) to the facts' subjects.
    """
    kind = known_kind(subjects, template)
    if kind is not None:
        return kind
    pool = subject_pool()
    table = model.get_input_embeddings().weight

    def vec(name: str) -> torch.Tensor:
        ids = tokenizer(" " + name, add_special_tokens=False)["input_ids"]
        return torch.nn.functional.normalize(table[ids].mean(0).float(), dim=0)

    with torch.no_grad():
        mine = torch.stack([vec(s) for s in subjects])
        score = {kind: float((mine @ torch.stack([vec(n) for n in names]).T).mean()) for kind, names in pool.items()}
    return max(score, key=score.get)
