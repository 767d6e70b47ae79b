"""Quality of the default `patchkit surgery` on a facts file, judged on held-out guard sets.

Usage:
  python bench/bench_repair.py --facts bench/heldout/near8.jsonl --guards bench/heldout/guards8.jsonl \
      --right bench/heldout/right50.jsonl --generic bench/heldout/generic.jsonl \
      --text bench/heldout/perplexity.txt [--model smollm2] [--json] [--component C ...]

Runs the library's `surgery()` exactly as the CLI's default command does (no component, default
hyper-parameters, no patch written), then applies the edit in memory and measures what the issue
asks for, on files the tool never sees:

* fixed: facts wrong before and right after (teacher-forced, every target token);
* guards changed: prompts of the same templates with other subjects (and generic prompts) whose
  answer changed — the target is 0;
* right flipped: facts the model had right that are wrong after;
* generic changed; |delta perplexity| on a text not used in training;
* paraphrases: of the repaired facts, the share of their *untrained* paraphrases right after (surgery
  trains each fact's first paraphrase when it has two or more, so those are counted apart, as
  ``trained_paraphrases_right``; until session 13 this bench counted both together);
* subject questions changed: each fact's subject asked other questions (``bench/heldout/questions.json``, other
  wordings than the shipped ones the selection set judges with) where the base model's answer leads by at least
  ``selection.MIN_MARGIN``: an edit keyed on the subject must not change them (session 17);
* far wordings (``--far-wordings FILE``, optional): of the repaired facts, the share right after of other wordings
  written apart from the facts file, per relation (``{"relation": ["Where did {S} die? In the city of", ...]}``;
  relation and subject from each row's ``id``, ``relation:Subject``): question forms and wordings that put words
  between the subject and the answer, which the sets' own paraphrases (close to the prompt) do not test (session 25);
* parameters changed as a share of the model; wall time of the whole call.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _panel(evals, path: str | None, kind: str):
    return evals.load_panel(Path(path), kind=kind) if path else None


def subject_questions(m, tok, prompts: list[str]) -> list:
    """The facts' subjects asked the held-out other questions, where the base model answers with a lead."""
    from patchkit import selection, solve

    table = json.loads((Path(__file__).parent / "heldout" / "questions.json").read_text())
    templates = selection.infer_templates(prompts)
    asked: list[str] = []
    for p in prompts:
        subject = solve.subject_of(p, templates.get(p))
        if subject:
            kind = selection._kind(m, tok, [subject], templates[p])
            asked += [q for q in selection.questions_about(subject, kind, templates[p], table) if q not in prompts]
    return [q for q in selection.probe(m, tok, list(dict.fromkeys(asked))) if q.margin >= selection.MIN_MARGIN]


def far_panel(evals, facts: str, table_path: str):
    """Per facts row, its relation's far wordings with the row's subject (``id`` = ``relation:Subject``), as a
    facts panel, and each wording's fact prompt."""
    table = json.loads(Path(table_path).read_text())
    items, owner = [], []
    for line in Path(facts).read_text().splitlines():
        row = json.loads(line)
        relation, _, subject = row.get("id", "").partition(":")
        for template in table.get(relation, []):
            items.append(evals.Fact(template.replace("{S}", subject), row["target"]))
            owner.append(row["prompt"])
    return (evals.facts_panel(items, "far_wordings") if items else None), owner


def run(facts: str, guards: str | None, right: str | None, generic: str | None, text: str | None,
        model: str = "smollm2", component: list[str] | None = None, allow: bool = True, method: str = "auto",
        other_questions: bool = False, wordings: bool = False, contexts: bool = False,
        far: str | None = None) -> dict:
    from patchkit import evals, models, selection
    from patchkit import surgery as S

    start = time.perf_counter()
    try:
        res = S.surgery(model, facts, None, key=None, component=component or None, allow_regressions=allow,
                        method=method, other_questions=other_questions, wordings=wordings, contexts=contexts)
        refused = None
    except S.SurgeryRegression as exc:
        res, refused = exc.result, str(exc)
    total = time.perf_counter() - start
    m, tok = models.load_model(model)
    panels = [p for p in (_panel(evals, facts, "facts"), _panel(evals, guards, "side_effects"),
                          _panel(evals, right, "side_effects"), _panel(evals, generic, "general"),
                          _panel(evals, text, "perplexity")) if p is not None]
    fp = panels[0]
    para = evals.paraphrase_panel(fp)
    far_p, far_owner = far_panel(evals, facts, far) if far else (None, [])
    asked = subject_questions(m, tok, [f.prompt for f in fp.items])
    before = [evals.run_panel(m, tok, p) for p in panels]
    para_b = evals.run_panel(m, tok, para) if para else None
    far_b = evals.run_panel(m, tok, far_p) if far_p else None
    saved = S.apply_edit(m, res.edited)
    try:
        after = [evals.run_panel(m, tok, p) for p in panels]
        para_a = evals.run_panel(m, tok, para) if para else None
        far_a = evals.run_panel(m, tok, far_p) if far_p else None
        moved = selection.changed(m, tok, asked)
    finally:
        S.restore(m, saved)
    fb, fa = before[0], after[0]
    wrong_before = [f for f, b in zip(fp.items, fb.predictions) if b != f.target]
    fixed = [f for f, b, a in zip(fp.items, fb.predictions, fa.predictions) if b != f.target and a == f.target]
    row = {
        "facts": facts, "n": len(fp.items), "wrong_before": len(wrong_before), "fixed": len(fixed),
        "component": res.component, "params": res.params, "share": round(res.params / res.model_params, 6),
        "tried": res.tried, "triage": res.triage_counts, "selection": res.selection,
        "seconds": round(total, 1), "train_seconds": round(res.train.seconds, 1),
        "steps": len(res.train.losses), "refused": refused, "regressions": res.regressions,
        "swapped": res.train.details.get("swapped", []),  # memory neurons given back for moving a selection answer
        "swap_rounds": res.train.details.get("swap_rounds", []),
        "margin": res.train.details.get("margin"),  # added neurons: the target's lead the shipped edit was solved for
        "lowered": res.train.details.get("lowered", []),  # larger targets given up for a moved selection answer
        "resolved": res.train.details.get("resolved", []),  # memories solved again for moving a selection answer
        "leaked": res.train.details.get("leaked", []),  # memories given back for moving a selection answer
        "refit": res.train.details.get("refit", []),  # memories fitted again for answering another question (option)
        "subject_questions_changed": len(moved), "subject_questions_n": len(asked),
        "subject_questions_changes": [q.prompt for q in moved],
    }
    names = {"side_effects": [], "general": []}
    for p, b, a in zip(panels[1:], before[1:], after[1:]):
        c = evals.compare(b, a)
        if p.kind == "perplexity":
            row["ppl_before"], row["ppl_after"] = round(b.value, 3), round(a.value, 3)
            row["ppl_delta"] = round(a.value / b.value - 1, 5)
        else:
            row[f"{p.name}_changed"] = c["changed"]
            row[f"{p.name}_n"] = c["n"]
            flipped = [f for f, x, y in zip(p.items, b.predictions, a.predictions) if x == f.target and y != f.target]
            row[f"{p.name}_right_flipped"] = len(flipped)
            # how many of those were near ties before (top-1 led the runner-up by less than the margin below which
            # the selection set does not judge a neighbour): the fragile answers any edit tips over
            ties = {q.prompt for q in selection.probe(m, tok, [f.prompt for f in flipped])
                    if q.margin < selection.MIN_MARGIN}
            row[f"{p.name}_right_flipped_near_ties"] = len(ties)
            # what changed, to what: a leak toward one of the repaired facts' targets looks different from noise
            row[f"{p.name}_changes"] = [[f.prompt, x, y] for f, x, y in zip(p.items, b.predictions, a.predictions)
                                        if x != y]
    if para:
        repaired = {f.prompt for f in fixed}
        untrained = {(f.prompt, q) for f in fp.items for q in evals.reported_paraphrases(f, skip_trained=True)}
        owner = [f.prompt for f in fp.items for _ in f.paraphrases]
        mine = [(y == item.target, (o, item.prompt) in untrained)
                for o, item, y in zip(owner, para.items, para_a.predictions) if o in repaired]
        for key, want in (("paraphrases_right", True), ("trained_paraphrases_right", False)):
            got = [ok for ok, u in mine if u == want]
            row[key] = f"{sum(got)}/{len(got)}"
    if far_p:
        repaired = {f.prompt for f in fixed}
        mine = [(x == item.target, y == item.target, item.prompt)
                for o, item, x, y in zip(far_owner, far_p.items, far_b.predictions, far_a.predictions) if o in repaired]
        row["far_wordings_right_before"] = f"{sum(b for b, _, _ in mine)}/{len(mine)}"
        row["far_wordings_right"] = f"{sum(a for _, a, _ in mine)}/{len(mine)}"
        row["far_wordings_wrong_after"] = [p for _, a, p in mine if not a]
    return row


def with_memory(**fields: object) -> None:
    """Make every memory edit of this process use these ``MemoryConfig`` fields (an experiment; no CLI option sets
    them), unless the caller names them itself."""
    import dataclasses

    from patchkit import memory

    base = memory.MemoryConfig
    memory.MemoryConfig = lambda **kw: dataclasses.replace(base(**kw), **{k: v for k, v in fields.items() if k not in kw})


def _value(text: str) -> object:
    """A ``--memory`` value: an int, a float, or the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", required=True)
    ap.add_argument("--guards")
    ap.add_argument("--right")
    ap.add_argument("--generic")
    ap.add_argument("--text")
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--component", action="append")
    ap.add_argument("--method", default="auto", help="surgery's --method (default: the default command's)")
    ap.add_argument("--other-questions", action="store_true", help="surgery's --other-questions (off by default)")
    ap.add_argument("--wordings", action="store_true", help="surgery's --wordings (off by default)")
    ap.add_argument("--contexts", action="store_true", help="surgery's --contexts (off by default)")
    ap.add_argument("--far-wordings", metavar="JSON",
                    help="per relation, other wordings of the facts' question with {S} at the subject (see above)")
    ap.add_argument("--margins", type=float, nargs="+",
                    help="experiment: the memory edit's margin ladder (MemoryConfig.margins) instead of the default")
    ap.add_argument("--memory", action="append", default=[], metavar="FIELD=VALUE",
                    help="experiment: a MemoryConfig field for every memory edit, e.g. leak_refit=1 or refit_on=fire")
    args = ap.parse_args()
    fields: dict[str, object] = {k: _value(v) for k, v in (x.split("=", 1) for x in args.memory)}
    if args.margins:
        fields["margins"] = tuple(args.margins)
    if fields:
        with_memory(**fields)
    print(json.dumps(run(args.facts, args.guards, args.right, args.generic, args.text, args.model, args.component,
                         method=args.method, other_questions=args.other_questions, wordings=args.wordings,
                         contexts=args.contexts, far=args.far_wordings),
                     indent=1))


if __name__ == "__main__":
    main()
