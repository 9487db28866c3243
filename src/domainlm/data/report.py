"""`data/report.md` (mix table, token statistics, cleaning and teacher counts, per-adapter mixes) and
`data/review_sample.csv` (a random share of samples for manual review). No timestamps: same inputs,
same bytes."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

from domainlm.catalog import Catalog
from domainlm.config import KINDS, ProjectConfig
from domainlm.data.generators import GENERATORS
from domainlm.data.records import SPLITS, Sample, write_text_atomic


def _percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_report(result, project: ProjectConfig, catalog: Catalog) -> str:
    samples: list[Sample] = result.samples
    total = len(samples)
    by_kind = Counter(s.meta["kind"] for s in samples)
    counts = result.counts()
    out = [f"# Dataset report: {project.name}", ""]
    out.append(f"- catalog: {len(catalog):,} products, version `{catalog.version}`")
    out.append(f"- seed: {project.data.seed}; retrieval: {result.retrieval}; top_k: {project.retrieval.top_k}")
    out.append(f"- samples: {total:,} (train {len(_of(samples, 'train')):,}, val {len(_of(samples, 'val')):,}, "
               f"test {len(_of(samples, 'test')):,}); golden: {len(result.golden)}; DPO pairs: {result.dpo_pairs:,}")
    safety = sum(n for k, n in by_kind.items() if k.startswith("safety/"))
    out.append(f"- safety layer: {safety:,} samples ({safety / max(total, 1):.1%} of the set)")
    out += ["", "## Mix", ""]
    rows = []
    for kind in KINDS:
        rows.append([kind, by_kind[kind], f"{by_kind[kind] / max(total, 1):.1%}",
                     counts["train"][kind], counts["val"][kind], counts["test"][kind], GENERATORS.get(kind).purpose])
    out.append(_table(["kind", "samples", "share", "train", "val", "test", "purpose"], rows))

    out += ["", "## Per-adapter mixes (wanted / written)", ""]
    for name, targets in result.targets.items():
        got = Counter(s.meta["kind"] for s in samples if s.meta["adapter"] == name)
        out.append(f"### {name}")
        out.append("")
        out.append(_table(["kind", "wanted", "written"],
                          [[k, targets[k], got[k]] for k in KINDS if targets[k] or got[k]]))
        out.append("")

    out += ["## Tokens (chat template of the base model)", ""]
    rows = []
    for split in SPLITS:
        lengths = [s.tokens for s in _of(samples, split)]
        rows.append([split, len(lengths), f"{sum(lengths):,}", min(lengths, default=0), _percentile(lengths, 0.5),
                     _percentile(lengths, 0.95), max(lengths, default=0)])
    out.append(_table(["split", "samples", "tokens", "min", "median", "p95", "max"], rows))
    out.append("")
    out.append(f"max_seq_len: {project.train.max_seq_len}")

    out += ["", "## Cleaning and rejections", ""]
    rows = [[kind, result.planned[kind], result.missed[kind]] for kind in KINDS if result.planned[kind]]
    out.append("Drafts planned per kind, and drafts whose retrieved context could not support a grounded answer "
               "(e.g. retrieval did not return the product asked about):")
    out.append("")
    out.append(_table(["kind", "planned", "unsupported by context"], rows))
    out.append("")
    dropped = sorted(result.clean.dropped.items())
    if dropped:
        kinds = [k for k in KINDS if any(result.clean.by_kind[(reason, k)] for reason, _ in dropped)]
        rows = [[reason, n, *(result.clean.by_kind[(reason, k)] for k in kinds)] for reason, n in dropped]
        out.append(_table(["check", "dropped", *kinds], rows))
    else:
        out.append("No sample failed a check.")
    out.append("")
    out.append("Samples beyond each kind's wanted count are trimmed after cleaning (drafts are planned with a margin).")
    if result.teacher is not None:
        t = result.teacher
        out += ["", "## Teacher", ""]
        out.append(f"- requests: {t.requests:,} (cached: {t.cached:,}, failed: {t.failed:,})")
        out.append(f"- accepted: {t.accepted:,}; rejected: {t.rejected_total:,}")
        for reason, n in sorted(t.rejected.items()):
            out.append(f"  - {reason}: {n:,}")
        if t.stopped:
            out.append(f"- stopped early: {t.stopped}")
        sources = Counter(s.meta["source"] for s in samples)
        out.append("- samples by source: " + ", ".join(f"{k} {v:,}" for k, v in sorted(sources.items())))
    if result.notes:
        out += ["", "## Notes", ""]
        out += [f"- {note}" for note in result.notes]
    return "\n".join(out) + "\n"


def _of(samples: list[Sample], split: str) -> list[Sample]:
    return [s for s in samples if s.split == split]


def write_report(path: Path, result, project: ProjectConfig, catalog: Catalog) -> None:
    write_text_atomic(path, render_report(result, project, catalog))


def write_review_sample(path: Path, samples: list[Sample], fraction: float, rng: random.Random) -> int:
    """A random `fraction` of the samples as CSV: one row per sample, turns joined for reading."""
    chosen = sorted(rng.sample(range(len(samples)), round(len(samples) * fraction))) if samples else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["split", "adapter", "kind", "skus", "source", "conversation", "final_answer", "ok", "comment"])
    for i in chosen:
        s = samples[i]
        turns = [f"{m['role']}: {m['content']}" for m in s.messages[1:-1]]
        writer.writerow([s.split, s.meta["adapter"], s.meta["kind"], " ".join(s.meta["skus"]), s.meta["source"],
                         "\n".join(turns), s.messages[-1]["content"], "", ""])
    write_text_atomic(path, buffer.getvalue())
    return len(chosen)
