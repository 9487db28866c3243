"""`domainlm data build`: catalog + knowledge + brand -> train/val/test/golden, DPO pairs and a report.

The recipe, in the order the work runs: load the project's inputs, split the products, plan drafts per
adapter and kind, retrieve the context serving would send for every question, write grounded answers,
(optionally) let a teacher rewrite them, clean, trim to the mix, split and write the files.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from domainlm.catalog import Catalog, load_catalog
from domainlm.config import KINDS, SAFETY_KINDS, AdapterConfig, ProjectConfig, _default_adapters
from domainlm.data.clean import CleanReport, check_samples, remove_duplicates, token_check
from domainlm.data.context import RetrieveMany, open_retrieval
from domainlm.data.generators import GENERATORS, GenEnv, Generator
from domainlm.data.grounding import GroundingCheck
from domainlm.data.records import SPLITS, Draft, Sample, stable_seed, write_jsonl
from domainlm.data.split import assign_products, select_golden, split_cycle
from domainlm.errors import ConfigError
from domainlm.knowledge import load_knowledge
from domainlm.prompt import Context

SAFETY_MIN_PER_KIND = 50
SAFETY_MIN_SHARE = 0.05
OVERSAMPLE = 1.3  # drafts planned per wanted sample: retrieval misses and duplicates are dropped later
RETRIEVAL_BATCH = 512

# progress(stage, total) -> advance(n): the CLI passes rich progress bars; the library default is silent.
Progress = Callable[[str, int], Callable[[int], None]]


def _silent(stage: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class BuildResult:
    out_dir: Path
    files: dict[str, Path]
    samples: list[Sample]  # everything written to train/val/test
    golden: list[Sample]
    targets: dict[str, dict[str, int]]  # adapter -> kind -> wanted
    notes: list[str] = field(default_factory=list)  # sizing decisions and warnings, also in the report
    clean: CleanReport = field(default_factory=CleanReport)
    planned: Counter = field(default_factory=Counter)  # kind -> drafts planned
    missed: Counter = field(default_factory=Counter)  # kind -> drafts the context could not support
    retrieval: str = ""
    teacher: object | None = None  # TeacherStats when a teacher was used
    dpo_pairs: int = 0

    def counts(self) -> dict[str, Counter]:
        """split -> kind -> samples."""
        out: dict[str, Counter] = {s: Counter() for s in SPLITS}
        for sample in self.samples:
            out[sample.split][sample.meta["kind"]] += 1
        return out


def default_size(n_products: int) -> int:
    """Samples per adapter when neither the adapter nor `data.size` says: grows with the catalog,
    1,000 for a handful of products, about 2,200 for 300, capped at 3,000 (CPU training budgets)."""
    return min(3000, max(1000, 1000 + 4 * n_products))


def check_mix(name: str, adapter: AdapterConfig) -> dict[str, float]:
    """The adapter's mix with `safety` spread over the safety kinds; errors name the adapter."""
    mix = adapter.mix or _default_adapters()["product-expert"].mix
    unknown = [k for k in mix if k not in KINDS and k != "safety"]
    if unknown:
        raise ConfigError(f"adapters.{name}.mix: unknown kind {unknown[0]!r}; accepted: {', '.join(KINDS)}, safety")
    total = sum(mix.values())
    if not 0.98 <= total <= 1.02:
        raise ConfigError(f"adapters.{name}.mix: shares sum to {total:.3f}; they must sum to 1")
    spread: dict[str, float] = {}
    for kind, share in mix.items():
        if kind == "safety":
            for safety_kind in SAFETY_KINDS:
                spread[safety_kind] = spread.get(safety_kind, 0.0) + share / len(SAFETY_KINDS)
        else:
            spread[kind] = spread.get(kind, 0.0) + share
    return spread


def kind_targets(project: ProjectConfig, name: str, adapter: AdapterConfig, n_products: int,
                 has_knowledge: bool, notes: list[str]) -> dict[str, int]:
    """Samples wanted per kind for one adapter, with the safety floor applied."""
    size = adapter.size or project.data.size or default_size(n_products)
    spread = check_mix(name, adapter)
    targets = {kind: round(size * spread.get(kind, 0.0)) for kind in KINDS}
    if not has_knowledge and targets["knowledge"]:
        notes.append(f"{name}: no knowledge documents, so no knowledge samples (mix asked for {targets['knowledge']})")
        targets["knowledge"] = 0
    raised = [k for k in SAFETY_KINDS if targets[k] < SAFETY_MIN_PER_KIND]
    for kind in raised:
        targets[kind] = SAFETY_MIN_PER_KIND
    total = sum(targets.values())
    safety = sum(targets[k] for k in SAFETY_KINDS)
    if safety < SAFETY_MIN_SHARE * total:
        per_kind = math.ceil(SAFETY_MIN_SHARE * (total - safety) / (1 - SAFETY_MIN_SHARE) / len(SAFETY_KINDS))
        for kind in SAFETY_KINDS:
            targets[kind] = max(targets[kind], per_kind)
        raised = list(SAFETY_KINDS)
    if raised:
        notes.append(f"{name}: safety floor raised {len(raised)} safety kind(s) to at least "
                     f"{min(targets[k] for k in raised)} samples each (>= {SAFETY_MIN_PER_KIND} per kind, "
                     f">= {SAFETY_MIN_SHARE:.0%} of the set)")
    return targets


def oracle_contexts(drafts: list[Draft], catalog: Catalog, env: GenEnv, top_k: int) -> list[Context]:
    """Contexts without retrieval (`data.rag: false`): the planned products, topped up with products of the
    same category and split closest in price; knowledge drafts get their section."""
    sections = {s.id: s for s in env.sections}
    contexts = []
    for draft in drafts:
        products = [catalog.get(pid) for pid in draft.focus]
        if products:
            seed = products[0]
            pool = [p for p in env.by_split.get(draft.split, []) if p.category == seed.category and p not in products]
            pool.sort(key=lambda p: (abs(p.price - seed.price), p.id))
            products += pool[: max(top_k - len(products), 0)]
        passages = [sections[draft.plan["section_id"]]] if "section_id" in draft.plan else []
        contexts.append(Context(products=products, passages=passages))
    return contexts


def build_dataset(project: ProjectConfig, *, retrieve_many: RetrieveMany | None = None, tokenizer=None,
                  out_dir: Path | None = None, progress: Progress = _silent,
                  log: Callable[[str], None] = lambda line: None) -> BuildResult:
    """Build and write the dataset for every adapter of the project; returns what was written."""
    # 1. Inputs: catalog, knowledge, tokenizer, retrieval.
    catalog = load_catalog(project.catalog, project.root)
    sections = load_knowledge(project.knowledge, project.root)
    log(f"catalog: {len(catalog):,} products (version {catalog.version}); knowledge: {len(sections)} sections")
    if tokenizer is None:
        from domainlm.models.base import load_tokenizer

        tokenizer = load_tokenizer(project.base_model, project.root)
    retrieval_how = "injected retriever" if retrieve_many is not None else ""
    if project.data.rag and retrieve_many is None:
        retrieve_many, retrieval_how = open_retrieval(project, catalog, sections)
    if not project.data.rag:
        retrieval_how = "none (data.rag: false): planned products only"
    log(f"retrieval: {retrieval_how}")
    out_dir = out_dir or project.path("data")
    seed = project.data.seed

    # 2. Split the products before writing anything, so no product lands in two splits.
    split_of = assign_products(catalog, project.data.split, random.Random(stable_seed(seed, "split")))
    env = GenEnv(project=project, catalog=catalog, sections=sections, split_of=split_of)

    # 3. Plan drafts per adapter and kind.
    notes: list[str] = []
    targets: dict[str, dict[str, int]] = {}
    generators: dict[tuple[str, str], Generator] = {}
    drafts: list[Draft] = []
    for name, adapter in project.adapters.items():
        targets[name] = kind_targets(project, name, adapter, len(catalog), bool(sections), notes)
        for kind in KINDS:
            if not targets[name][kind]:
                continue
            rng = random.Random(stable_seed(seed, name, kind))
            cycle = split_cycle(project.data.split, random.Random(stable_seed(seed, name, kind, "cycle")))
            generator = GENERATORS.get(kind)(env, name, rng, cycle)
            generators[(name, kind)] = generator
            drafts.extend(generator.plan(math.ceil(targets[name][kind] * OVERSAMPLE) + 5))
    planned = Counter(d.kind for d in drafts)
    log(f"planned {len(drafts):,} drafts for {len(project.adapters)} adapter(s)")

    # 4. Optional teacher, part 1: paraphrase questions (before retrieval, so the context matches them).
    teacher = None
    if project.data.teacher is not None:
        from domainlm.data.teach import open_teacher, paraphrase_drafts

        teacher = open_teacher(project, out_dir)
        paraphrase_drafts(teacher, drafts, project, catalog, random.Random(stable_seed(seed, "teacher")), progress, log)

    # 5. The context serving would send for every question (batched).
    if project.data.rag:
        contexts = _retrieve(retrieve_many, [d.query for d in drafts], progress)
    else:
        contexts = oracle_contexts(drafts, catalog, env, project.retrieval.top_k)

    # 6. Grounded answers from the contexts.
    samples: list[Sample] = []
    missed: Counter = Counter()
    advance = progress("writing answers", len(drafts))
    for draft, context in zip(drafts, contexts):
        sample = generators[(draft.adapter, draft.kind)].finish(draft, context)
        if sample is None:
            missed[draft.kind] += 1
        else:
            if draft.plan.get("teacher"):
                sample.meta["source"] = "teacher"
            samples.append(sample)
        advance(1)

    # 7. Optional teacher, part 2: more natural answers, each checked against the catalog.
    grounding = GroundingCheck(catalog)
    if teacher is not None:
        from domainlm.data.teach import rewrite_answers

        rewrite_answers(teacher, samples, project, grounding, random.Random(stable_seed(seed, "teacher", "answers")),
                        progress, log)

    # 8. Clean: format, voice, grounding, duplicates, then the chat-template round trip.
    report = CleanReport()
    advance = progress("cleaning", 3)
    samples = check_samples(samples, project.brand, grounding, report)
    advance(1)
    samples = remove_duplicates(samples, report)
    advance(1)
    samples = _trim(samples, targets, extra=1.15)  # tokenise only what can be kept
    samples = token_check(samples, tokenizer, project.train.max_seq_len, report)
    advance(1)

    # 9. Trim to the mix and report shortfalls.
    samples = _trim(samples, targets)
    got = Counter((s.meta["adapter"], s.meta["kind"]) for s in samples)
    for name, wanted in targets.items():
        for kind, n in wanted.items():
            if n and got[(name, kind)] < n:
                notes.append(f"{name}: {kind} has {got[(name, kind)]} of {n} samples (the catalog, knowledge or "
                             f"retrieval could not support more distinct grounded samples)")
    too_long = sum(v for k, v in report.dropped.items() if k.startswith("longer than"))
    if too_long and too_long > 0.2 * (too_long + len(samples)):
        notes.append(f"{too_long} samples did not fit train.max_seq_len={project.train.max_seq_len}: the system "
                     f"prompt plus {project.retrieval.top_k} rendered products is too long; lower retrieval.top_k, "
                     f"map fewer catalog fields, or raise train.max_seq_len")

    # 10. Split, golden set, preference pairs, report.
    result = BuildResult(out_dir=out_dir, files={}, samples=samples, golden=[], targets=targets, notes=notes,
                         clean=report, planned=planned, missed=missed, retrieval=retrieval_how,
                         teacher=teacher.stats if teacher is not None else None)
    write_outputs(result, project, catalog, tokenizer)
    return result


def _retrieve(retrieve_many: RetrieveMany, queries: list[str], progress: Progress) -> list[Context]:
    """Contexts for all queries, each distinct query retrieved once, in batches."""
    distinct = list(dict.fromkeys(queries))
    found: dict[str, Context] = {}
    advance = progress("retrieving contexts", len(distinct))
    for start in range(0, len(distinct), RETRIEVAL_BATCH):
        batch = distinct[start:start + RETRIEVAL_BATCH]
        found.update(zip(batch, retrieve_many(batch)))
        advance(len(batch))
    return [found[q] for q in queries]


def _trim(samples: list[Sample], targets: dict[str, dict[str, int]], extra: float = 1.0) -> list[Sample]:
    """The first `target * extra` samples of each adapter and kind, in generation order."""
    kept, seen = [], Counter()
    for sample in samples:
        key = (sample.meta["adapter"], sample.meta["kind"])
        if seen[key] < math.ceil(targets[key[0]][key[1]] * extra):
            seen[key] += 1
            kept.append(sample)
    return kept


def write_outputs(result: BuildResult, project: ProjectConfig, catalog: Catalog, tokenizer) -> None:
    from domainlm.data.report import write_report, write_review_sample

    out = result.out_dir
    seed = project.data.seed
    by_split: dict[str, list[Sample]] = defaultdict(list)
    for sample in result.samples:
        by_split[sample.split].append(sample)
    for split in SPLITS:
        random.Random(stable_seed(seed, "order", split)).shuffle(by_split[split])
        result.files[split] = out / f"{split}.jsonl"
        write_jsonl(result.files[split], (s.record() for s in by_split[split]))
    result.golden = select_golden(result.samples, project.data.golden_size, random.Random(stable_seed(seed, "golden")))
    result.files["golden"] = out / "golden.jsonl"
    write_jsonl(result.files["golden"], ({**s.record(), "meta": {**s.meta, "split": s.split}} for s in result.golden))
    pairs = [s.dpo_record() for s in by_split["train"]]
    pairs = [p for p in pairs if p is not None]
    result.dpo_pairs = len(pairs)
    result.files["dpo"] = out / "dpo.jsonl"
    write_jsonl(result.files["dpo"], pairs)
    result.files["review"] = out / "review_sample.csv"
    write_review_sample(result.files["review"], result.samples, project.data.review_fraction,
                        random.Random(stable_seed(seed, "review")))
    result.files["report"] = out / "report.md"
    write_report(result.files["report"], result, project, catalog)
