"""The Hub model card (``README.md``) generated for a patch on ``patchkit push``.

The card is derived from the manifest only, so anyone can regenerate it and
see that it says nothing the signed ``patch.json`` does not. It follows Hub
conventions: YAML front matter with ``base_model``, ``library_name``, tags and
``model-index`` eval results (written by ``huggingface_hub.ModelCardData`` so
the Hub parses it), then a body saying what the patch changes, how it scored
before and after, who signed it and how to verify and apply it. The card is
not covered by the signature; the body says so.
"""

from __future__ import annotations

from typing import Any

TAGS = ("patchkit", "model-patch")
DEFAULT_TASK = "text-generation"


def render(manifest: dict[str, Any], *, repo_id: str | None = None, task: str = DEFAULT_TASK) -> str:
    """Return the model card for a patch manifest.

    Args:
        manifest: the patch's ``patch.json`` as a dict.
        repo_id: the Hub repo the patch is published in (used in the how-to commands).
        task: the Hub task type recorded with each eval result.
    Returns:
        The full ``README.md`` text: YAML front matter and a Markdown body.

    Example:
        >>> text = render(Patch.load("fix").manifest, repo_id="me/fix")
        >>> text.startswith("---\\nbase_model:")
        True
    """
    return f"---\n{_front_matter(manifest, task)}---\n\n{_body(manifest, repo_id)}"


def _front_matter(manifest: dict[str, Any], task: str) -> str:
    from huggingface_hub import EvalResult, ModelCardData

    results = [
        EvalResult(
            task_type=task,
            dataset_type=f"patchkit-{panel.get('kind', 'panel')}",
            dataset_name=str(panel["name"]),
            metric_type=str(panel["metric"]),
            metric_value=panel["after"],
            metric_name=f"{panel['metric']} after patch (before: {_num(panel['before'])})",
        )
        for panel in _panels(manifest)
    ]
    base = manifest.get("base", {})
    data = ModelCardData(
        license=base_license(manifest),
        base_model=base.get("repo_id") or None,
        base_model_relation="adapter" if base.get("repo_id") else None,
        library_name="patchkit",
        tags=list(TAGS),
        model_name=manifest["name"] if results else None,
        eval_results=results or None,
    )
    return data.to_yaml() + "\n"


def base_license(manifest: dict[str, Any]) -> str | None:
    """The licence a patch inherits from its base (``gemma`` for a prepared Gemma 3 270M), or None.

    A patch is a derivative of its base's weights, so a card must carry the
    base's terms; the base is recognised by the sha256 of its weights file,
    which ``patchkit models prepare`` makes the same on every machine.
    """
    from patchkit.models import license_for_sha256

    for f in (manifest.get("base") or {}).get("files") or []:
        found = license_for_sha256(str(f.get("sha256", "")))
        if found:
            return found
    return None


def _body(manifest: dict[str, Any], repo_id: str | None) -> str:
    name = manifest["name"]
    base = manifest.get("base", {})
    base_repo, base_rev = base.get("repo_id"), base.get("revision")
    edits = manifest.get("edits", [])
    total_params = int(base.get("num_parameters") or 0)
    touched = sum(int(e["numel"]) for e in edits)
    lines = [f"# {name}", ""]
    if manifest.get("description"):
        lines += [manifest["description"].strip(), ""]
    if base_license(manifest) == "gemma":
        lines += ["The base model is Gemma 3 270M; this patch is a modification of it and is provided under and "
                  "subject to the [Gemma Terms of Use](https://ai.google.dev/gemma/terms).", ""]
    if base_repo:
        where = f"[`{base_repo}`](https://huggingface.co/{base_repo})"
        where += f" at revision `{base_rev}`" if base_rev else ""
    else:
        where = "a local checkpoint (not published on the Hub)"
    lines += [
        f"A patchkit patch for {where}: a signed, minimal weight delta "
        "that turns that exact checkpoint into the patched one, and back. It holds no full weights; apply it to "
        "the base you already have.",
        "",
        "## What it changes",
        "",
        f"{touched:,} elements in {len(edits)} tensor{'s' if len(edits) != 1 else ''}"
        + (f", {_share(touched, total_params)} of the model's {total_params:,} parameters." if total_params else "."),
        "",
        "| tensor | component | slice | elements | share of model | ΔL2 | max \\|Δ\\| |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    grow = manifest.get("grow")
    if grow:  # the patched model is larger than the base: say so before the table
        added = int(grow["to"]) - int(grow["from"])
        lines[-3:-3] = ["", f"It first widens every layer's MLP by {added:,} zero neurons (`{grow['config_key']}` "
                            f"{int(grow['from']):,} → {int(grow['to']):,} in `config.json`, {len(grow['tensors'])} "
                            "tensors); the edits fill the added neurons of one layer, and revert removes them all."]
    for e in edits:
        lines.append(
            f"| `{e['tensor']}` | {e.get('label') or '—'} | `{_slice(e['slice'], e['shape'])}` | {int(e['numel']):,} "
            f"| {_share(int(e['numel']), total_params)} | {_num(e['delta_l2'])} | {_num(e['delta_max_abs'])} |"
        )
    delta = manifest.get("delta", {})
    if delta:
        lines += ["", f"Delta file `{delta.get('file', 'delta.safetensors')}`: {_size(int(delta.get('size', 0)))}, "
                  f"sha256 `{delta.get('sha256', '')}`."]
    panels = _panels(manifest)
    if panels:
        lines += ["", "## Evaluation", "", "| panel | kind | metric | n | before | after | change |", "|---|---|---|---:|---:|---:|---:|"]
        for p in panels:
            change = float(p["after"]) - float(p["before"])
            lines.append(
                f"| {p['name']} | {p.get('kind', '')} | {p['metric']} | {p.get('n', '')} | {_num(p['before'])} "
                f"| {_num(p['after'])} | {'+' if change >= 0 else ''}{_num(change)} |"
            )
    method = manifest.get("method") or {}
    if method:
        lines += ["", "## Method", ""]
        for key in sorted(method):
            value = method[key]
            if isinstance(value, (str, int, float, bool)):
                lines.append(f"- **{key}**: {value}")
        lines.append("")
        lines.append("The full method record is in `patch.json` under `method`.")
    signer = manifest.get("signer") or {}
    lines += ["", "## Provenance", ""]
    if signer:
        lines.append(f"- Signed with an EC P-256 key, fingerprint (sha256 of the PEM public key) `{signer['key_fingerprint']}`.")
    else:
        lines.append("- **Unsigned.** patchkit refuses to apply it without `--allow-unsigned`.")
    lines += [
        f"- Base checkpoint fingerprint `{base.get('fingerprint', '')}`; patched fingerprint "
        f"`{manifest.get('patched', {}).get('fingerprint', '')}`.",
        f"- Created {manifest.get('created', '')} with patchkit {manifest.get('patchkit_version', '')}.",
        "- The signature (`patch.sig`, OpenSSF Model Signing) covers every file here except `patch.sig` and this "
        "card; `patch.json` records the sha256 of every base weight file, of every touched slice and of the delta.",
    ]
    repo = repo_id or "OWNER/PATCH-REPO"
    base_arg = (f"{base_repo}@{base_rev}" if base_rev else base_repo) if base_repo else "BASE_CHECKPOINT_DIR"
    lines += [
        "",
        "## Verify and apply",
        "",
        "With patchkit installed, and the signer's public key obtained from a "
        "channel you trust (not from this repo):",
        "",
        "```bash",
        f"patchkit verify {repo} --base {base_arg} --pubkey signer.pub   # audit: signature, hashes, base",
        f"patchkit apply {repo} {base_arg} -o patched-model --pubkey signer.pub",
        f"patchkit revert {repo} patched-model -o base-again --pubkey signer.pub",
        "```",
        "",
        "A base given as `REPO_ID@REVISION` is fetched with `huggingface_hub` (honouring its cache and "
        "`HF_HUB_OFFLINE`); a bare `REPO_ID` means its `main` branch. `verify --base` with a Hub repo id first "
        "compares the manifest's per-file sha256 with the Hub's LFS sha256, before downloading any weights. "
        "`patchkit pull` downloads only the patch files and verifies them.",
        "",
    ]
    return "\n".join(lines)


def _panels(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list((manifest.get("evals") or {}).get("panels") or [])


def _slice(slc: list, shape: list[int]) -> str:
    """Numpy-style slice text: a full dimension is ``:``, e.g. ``[:, 1536:2304]`` (:func:`patchkit.delta.format_slice`)."""
    from patchkit import delta

    return delta.format_slice(delta.parse_slice(slc), tuple(shape))


def _share(numel: int, total: int) -> str:
    if not total:
        return "—"
    share = 100.0 * numel / total
    return f"{share:.4f}%" if share < 0.01 else f"{share:.2f}%"


def _num(value: Any) -> str:
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.3e}"
    return f"{value:.4g}"


def _size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"
