"""`eval/<run>/report.html`: one self-contained page (charts are base64 PNGs; no external files or scripts).

Sections: gates, headline scores per level (tuned vs baseline), per-kind pass-rate bars, safety per kind,
loss curves from the run's metrics.jsonl, forgetting, judge, and the worst failures as transcripts.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

HEADLINE = ("price_accuracy", "wrong_prices_to_user", "price_recall", "spec_accuracy", "stock_accuracy",
            "hallucination_rate", "refusal_rate", "false_refusal_rate", "injection_resisted", "fake_refused",
            "fake_priced", "leak_rate", "rec_valid", "multi_turn_resolved", "rouge_l", "bleu", "pass_rate")


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def kind_bars(level: str, tuned: dict, base: dict | None) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k.removeprefix("pass_rate.") for k, v in tuned.items() if k.startswith("pass_rate.") and v is not None]
    if not kinds:
        return ""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    xs = range(len(kinds))
    ax.bar([x - 0.2 for x in xs], [(base or {}).get(f"pass_rate.{k}") or 0 for k in kinds], 0.4, label="baseline",
           color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], [tuned[f"pass_rate.{k}"] or 0 for k in kinds], 0.4, label="tuned", color="#3b7dd8")
    ax.set_xticks(list(xs), kinds, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("pass rate")
    ax.set_title(f"{level}: pass rate per kind")
    ax.legend()
    return _png(fig)


def loss_curves(metrics_file: Path) -> str:
    if not metrics_file.exists():
        return "<p>No metrics.jsonl for this run.</p>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in metrics_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    train = [(m["step"], m["loss"]) for m in rows if m.get("type") == "train" and "loss" in m]
    val = [(m["step"], m["val_loss"]) for m in rows if m.get("type") == "eval" and "val_loss" in m]
    if not train and not val:
        return "<p>The run logged no losses.</p>"
    fig, ax = plt.subplots(figsize=(6, 3))
    if train:
        ax.plot(*zip(*train), label="train")
    if val:
        ax.plot(*zip(*val), marker="o", label="val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    return _png(fig)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _table(rows: list[list], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _transcript(row: dict) -> str:
    turns = "".join(f"<div class='{m['role']}'><b>{m['role']}:</b> {html.escape(m['content'])}</div>"
                    for m in row.get("history", []))
    s = row["score"]
    why = []
    for label, key in (("wrong price", "wrong_prices"), ("wrong spec", "wrong_specs"), ("wrong stock", "wrong_stock")):
        why += [f"{label} {c['text']} (catalog: {c.get('expected') or '?'})" for c in s.get(key, [])]
    why += [f"invented {n}" for n in s.get("invented", [])] + s.get("leaks", {}).get("evidence", [])
    if row["kind"] in ("product_qa", "recommendation", "multi_turn", "knowledge") and s.get("hard_refusal"):
        why.append("refused a legitimate question")
    if row["kind"].startswith("safety/") and not s.get("refused"):
        why.append("did not refuse or redirect")
    ref = f"<div class='ref'><b>reference:</b> {html.escape(row['reference'])}</div>" if row.get("reference") else ""
    return (f"<details><summary>[{html.escape(row['level'])}/{html.escape(row['variant'])}] {html.escape(row['kind'])}: "
            f"{html.escape(row['user'][:90])} &mdash; {html.escape('; '.join(why) or 'failed')}</summary>{turns}"
            f"<div class='user'><b>user:</b> {html.escape(row['user'])}</div>"
            f"<div class='assistant'><b>answer:</b> {html.escape(row['answer'])}</div>{ref}"
            f"<div class='meta'>shown: {html.escape(', '.join(row.get('shown', [])) or 'nothing')}</div></details>")


def severity(row: dict) -> tuple:
    s = row["score"]
    return (row["level"] != "system", -len(s.get("wrong_prices", [])), -int(s.get("leaked", False)),
            -len(s.get("invented", [])), -int(bool(s.get("hallucinated"))), -int(s.get("hard_refusal", False)))


def write_report(path: Path, summary: dict, failures: list[dict], metrics_file: Path | None) -> None:
    parts = [f"<h1>Evaluation of {html.escape(summary['run_id'])}</h1>",
             f"<p>adapter {html.escape(str(summary.get('adapter')))}, baseline {html.escape(str(summary['baseline']))}, "
             f"catalog version {html.escape(summary['catalog_version'])}, {summary['seconds']:.0f}s. "
             f"Pipeline: {html.escape(json.dumps(summary['pipeline']))}</p>"]
    for note in summary.get("notes", []):
        parts.append(f"<p class='note'>{html.escape(note)}</p>")
    gates = summary.get("gates", [])
    if gates:
        parts.append("<h2>Gates</h2>" + _table(
            [[html.escape(g["metric"]), html.escape(g["rule"]), _fmt(g["value"]),
              "-" if g.get("support") is None else str(g["support"]),
              "<span class='ok'>pass</span>" if g["passed"] else "<span class='bad'>FAIL</span>"] for g in gates],
            ["metric", "rule", "value", "over", "result"]))
    levels = summary["levels"]
    parts.append("<h2>Scores</h2>")
    columns = [(lvl, var) for lvl in levels for var in levels[lvl]]
    parts.append(_table([[k] + [_fmt(levels[l][v].get(k)) for l, v in columns] for k in HEADLINE],
                        ["metric"] + [f"{l} / {v}" for l, v in columns]))
    parts.append("<h2>Per kind, baseline vs tuned</h2>")
    for level, variants in levels.items():
        if "tuned" in variants:
            parts.append(kind_bars(level, variants["tuned"], variants.get("base")))
    safety_keys = sorted({k for l, v in columns for k in levels[l][v] if k.startswith(("refusal_rate.", "leaks."))})
    if safety_keys:
        parts.append("<h2>Safety per kind</h2>" + _table(
            [[k] + [_fmt(levels[l][v].get(k)) for l, v in columns] for k in safety_keys],
            ["metric"] + [f"{l} / {v}" for l, v in columns]))
    extra = summary.get("extra", {})
    if extra:
        parts.append("<h2>Loss, forgetting, judge</h2>" + _table([[html.escape(k), _fmt(v)] for k, v in extra.items()],
                                                                 ["metric", "value"]))
    if metrics_file is not None:
        parts.append("<h2>Training loss</h2>" + loss_curves(metrics_file))
    parts.append(f"<h2>Worst failures ({len(failures)})</h2>" + "".join(_transcript(r) for r in failures))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}.ok{color:green}.bad{color:#c00;font-weight:bold}"
             ".user{color:#333}.assistant{color:#1a4fa0}.ref{color:#666}.meta{color:#999;font-size:12px}"
             "details{margin:4px 0;border-bottom:1px solid #eee}.note{color:#a60}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>eval {html.escape(summary['run_id'])}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    path.write_text(page, encoding="utf-8")
