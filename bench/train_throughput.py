"""Training throughput: `domainlm train` vs TRL's SFTTrainer with default settings, same model, data,
LoRA config and batch; plus MFU, peak RSS and a quality smoke check.

    python bench/train_throughput.py                       # throughput, both trainers, 6 steps each
    python bench/train_throughput.py --quality 600         # + val loss after 600 s of domainlm training
    python bench/train_throughput.py --rounds 3            # alternate the trainers 3 times, median ratio
    python bench/train_throughput.py --threads 1           # pin CPU threads (helps on a CPU shared with other jobs)

Useful tokens are the non-padding tokens of the training sequences (every token the model has to read and
learn from in context: TRL takes a loss on all of them, domainlm on the assistant tokens only); padding that
either trainer adds is not counted. Both trainers see the same samples, all of which fit in --seq tokens (no
truncation, no drops). The first step of each trainer is a warm-up and is not timed.

MFU = model FLOPs per second / the CPU's peak bf16 FLOP/s. The peak is measured, not assumed: a small C
program (compiled with gcc here) runs independent bf16 multiply-adds on one thread a core, all at once, and
reports all threads' FLOPs over the wall time of a round (best of 10); that is the instruction throughput
ceiling at the clock the cores actually run, which no matmul can exceed. On CPUs with AMX it runs AMX tile dot
products (TDPBF16PS, 16 x 16 x 32 x 2 FLOP each; the 2-core Xeon of the CI box: 1.8-4.5 TFLOP/s both cores at
once, moving from run to run, and AVX512-BF16 there gives only ~130 GFLOP/s); elsewhere AVX512-BF16 dot
products (VDPBF16PS, 64 FLOP per 512-bit instruction; the AMD EPYC Zen 4 dev box: ~230 GFLOP/s a core, where a bf16 2048^3 matmul reaches ~90%
of it). The bench also prints torch's own bf16 2048^3 matmul rate, the practical ceiling of any trainer built
on torch's kernels (on the AMX Xeon 575-1,607 GFLOP/s, 27-83% of the tile peak), and each trainer's FLOP/s as a
share of it. Without gcc or avx512_bf16 the script says so and prints no MFU.
Model FLOPs per token of LoRA training: 2N forward + 2N backward for input gradients through frozen weights
(N = non-embedding weights), attention 3 x 4 x ctx x d per layer (forward and backward, ctx = the mean causal
context), plus 4 x vocab x d for the output head on the positions each trainer computes it for.
Each trainer runs in its own subprocess so its peak RSS is its own. domainlm's (and the quality check's) runs
under tcmalloc where it is installed, as `domainlm train` does (domainlm.allocator); TRL's default run under
glibc's malloc, as TRL runs, and where tcmalloc is installed TRL runs a second time under it, so the bench also
prints the ratio with the same allocator on both sides.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "wine-shop"
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear"}


# ---- data --------------------------------------------------------------------------------------------------
def make_samples(n: int, seed: int = 0, max_tokens: int | None = None) -> list[dict]:
    """RAG-shaped chat samples from the example catalog: system prompt + up to 5 products, a question, an answer.

    With `max_tokens`, context products (never the one asked about) are dropped until the conversation fits,
    so neither trainer truncates (TRL) or drops (domainlm) a sample and both train on exactly the same text.
    """
    from domainlm.config import BrandConfig
    from domainlm.prompt import format_price, system_prompt

    rows = list(csv.DictReader((EXAMPLE / "catalog.csv").open(encoding="utf-8")))
    brand = BrandConfig(assistant_name="Vera", shop_name="Vineyard Cellars", domain="wine and spirits from our shop")
    rng = random.Random(seed)
    questions = ["How much is {name}?", "What does the {name} cost?", "Is {name} in stock, and at what price?",
                 "Tell me about {name}.", "What's the alcohol level of {name}?", "Which region is {name} from?"]
    length = _token_counter() if max_tokens else None
    samples = []
    for _ in range(n):
        picks = rng.sample(rows, 5)
        target = rng.choice(picks)
        q = rng.choice(questions).format(name=target["name"])
        price = format_price(float(target["price"]), "USD")
        answer = (f"{target['name']} ({target['sku']}) is {price} for {target['volume_ml']} ml, {target['abv']}% alcohol, "
                  f"from {target['region']}. We have {target['in_stock']} in stock. {target['tasting_notes'].split('.')[0]}.")
        while True:
            lines = [f"[{p['sku']}] {p['name']} | price: {format_price(float(p['price']), 'USD')} | category: {p['category']} | "
                     f"stock: {p['in_stock']} in stock | alcohol: {p['abv']} % | volume: {p['volume_ml']} ml | region: {p['region']}"
                     for p in picks]
            system = system_prompt(brand) + "\n\nProducts:\n" + "\n".join(lines)
            messages = [{"role": "system", "content": system}, {"role": "user", "content": q},
                        {"role": "assistant", "content": answer}]
            if length is None or length(messages) <= max_tokens or len(picks) == 1:
                break
            picks.remove(next(p for p in reversed(picks) if p is not target))
        samples.append({"messages": messages, "meta": {"kind": "product_qa", "source": "bench", "skus": [target["sku"]]}})
    return samples


def _token_counter():
    """Token count of a conversation as both trainers see it (the tokenizer's chat template), +1 for an EOS."""
    from transformers import AutoTokenizer

    from domainlm.models.base import resolve_base_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("smollm2-135m"))
    return lambda messages: len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)) + 1


def write_project(folder: Path, n_train: int, n_val: int, train: dict) -> Path:
    """A bench project whose samples all fit in train.max_seq_len."""
    import yaml

    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", make_samples(n_train, 0, train["max_seq_len"])),
                       ("val", make_samples(n_val, 1, train["max_seq_len"]))):
        (folder / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = {"name": "bench", "base_model": "smollm2-135m",
              "adapters": {"product-expert": {"mix": {"product_qa": 1.0}}},
              "train": {"lora_r": LORA["r"], "lora_alpha": LORA["lora_alpha"], "lora_dropout": LORA["lora_dropout"], **train}}
    (folder / "domainlm.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


# ---- FLOPs and peak ------------------------------------------------------------------------------------------
def model_flops_per_token(config, ctx: float, head_share: float) -> float:
    """FLOPs per token of LoRA training (see module docstring); head_share: share of positions with a head."""
    d, layers, inter, vocab = config.hidden_size, config.num_hidden_layers, config.intermediate_size, config.vocab_size
    kv = d * config.num_key_value_heads // config.num_attention_heads
    n_body = layers * (d * d * 2 + d * kv * 2 + 3 * d * inter)
    attention = layers * 3 * 4 * ctx * d
    return 4 * n_body + attention + 4 * vocab * d * head_share


PEAK_C = r"""
/* Peak bf16 FLOP/s of N threads at once: each thread runs independent bf16 multiply-adds (AMX tile dot
   products with -DUSE_AMX, AVX512-BF16 dot products without); the rate is all threads' FLOPs over the wall
   time from the first start to the last finish of a round, best of 10 rounds, so it counts only what the
   cores deliver together (two cores that share execution units, as hyperthreads do, count once). */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#define ROUNDS 10
static pthread_barrier_t start_line;
static double begun[64][ROUNDS], ended[64][ROUNDS], flops_per_round;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void *work(void *arg) {
    long id = (long)arg;
    float sink = 0;
#ifdef USE_AMX
    typedef struct { uint8_t palette; uint8_t start_row; uint8_t reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; } tilecfg;
    tilecfg c; memset(&c, 0, sizeof c); c.palette = 1;
    for (int i = 0; i < 8; i++) { c.colsb[i] = 64; c.rows[i] = 16; }  /* 8 full tiles: 16 rows x 64 bytes */
    _tile_loadconfig(&c);
    static uint16_t a[16 * 32], b[16 * 32]; static float out[16 * 16];
    for (int i = 0; i < 16 * 32; i++) { a[i] = 0x3f80; b[i] = 0x3c00; }
    _tile_loadd(4, a, 64); _tile_loadd(5, a, 64); _tile_loadd(6, b, 64); _tile_loadd(7, b, 64);
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    const long n = 200000;
    flops_per_round = n * 4.0 * 16 * 16 * 32 * 2;  /* each TDPBF16PS: 16 x 16 outputs, 32-term dot products */
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&start_line); begun[id][r] = now();
        for (long i = 0; i < n; i++) {  /* 4 independent accumulators */
            _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
        }
        ended[id][r] = now();
    }
    _tile_stored(0, out, 64); sink = out[0];
    _tile_release();
#else
    /* Distinct starting values, so the compiler cannot merge the 12 independent chains into one. */
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80);
    const long n = 10000000;
    flops_per_round = n * 12.0 * 64;  /* each VDPBF16PS: 16 lanes x 2 products x 2 FLOP */
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&start_line); begun[id][r] = now();
        for (long i = 0; i < n; i++) {
            acc[0] = _mm512_dpbf16_ps(acc[0], x, x); acc[1] = _mm512_dpbf16_ps(acc[1], x, x);
            acc[2] = _mm512_dpbf16_ps(acc[2], x, x); acc[3] = _mm512_dpbf16_ps(acc[3], x, x);
            acc[4] = _mm512_dpbf16_ps(acc[4], x, x); acc[5] = _mm512_dpbf16_ps(acc[5], x, x);
            acc[6] = _mm512_dpbf16_ps(acc[6], x, x); acc[7] = _mm512_dpbf16_ps(acc[7], x, x);
            acc[8] = _mm512_dpbf16_ps(acc[8], x, x); acc[9] = _mm512_dpbf16_ps(acc[9], x, x);
            acc[10] = _mm512_dpbf16_ps(acc[10], x, x); acc[11] = _mm512_dpbf16_ps(acc[11], x, x);
        }
        ended[id][r] = now();
    }
    for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_ps(acc[i]);
#endif
    return (void *)(long)(sink != 0);  /* using the result keeps the loop from being optimised away */
}
int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) return 2;
#ifdef USE_AMX
    /* Linux hands out AMX tile state only on request: ARCH_REQ_XCOMP_PERM (0x1023) for XTILEDATA (18). */
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) { printf("0\n"); return 0; }
#endif
    pthread_t t[64];
    pthread_barrier_init(&start_line, NULL, threads);
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double best = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double first = begun[0][r], last = ended[0][r];
        for (int i = 1; i < threads; i++) {
            if (begun[i][r] < first) first = begun[i][r];
            if (ended[i][r] > last) last = ended[i][r];
        }
        double rate = threads * flops_per_round / (last - first);
        if (rate > best) best = rate;
    }
    printf("%.6e\n", best);
    return 0;
}
"""


def measure_peak(cores: int) -> tuple[float | None, str]:
    """Peak bf16 FLOP/s of `cores` cores (see module docstring), or None and why not."""
    import shutil

    from domainlm.models.base import cpu_supports_bf16

    if not cpu_supports_bf16():
        return None, "this CPU has no avx512_bf16/AMX"
    if shutil.which("gcc") is None:
        return None, "gcc is needed to measure the CPU's bf16 peak"
    amx = "amx_bf16" in Path("/proc/cpuinfo").read_text()
    flags, what = ((["-DUSE_AMX", "-mamx-tile", "-mamx-bf16"], "AMX TDPBF16PS") if amx else
                   (["-mavx512f", "-mavx512bf16"], "AVX512 VDPBF16PS"))
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp) / "peak.c", Path(tmp) / "peak"
        source.write_text(PEAK_C)
        build = subprocess.run(["gcc", "-O2", *flags, str(source), "-o", str(binary), "-lpthread"],
                               capture_output=True, text=True)
        if build.returncode != 0:
            return None, f"gcc could not build the {what} peak probe: {build.stderr.strip()[:200]}"
        rate = float(subprocess.run([str(binary), str(cores)], capture_output=True, text=True, check=True).stdout.split()[0])
    if not rate:
        return None, f"the kernel refused this process the AMX tile state, so the {what} peak is unknown"
    return rate, f"{what} throughput, {cores} cores at once"


def matmul_rate(threads: int, n: int = 2048) -> float:
    """FLOP/s of torch's bf16 n x n x n matmul on `threads` threads: what a dense kernel reaches here."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=torch.bfloat16), torch.randn(n, n, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(4):
            a @ b
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - t))
    return best


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


# ---- the two trainers (each in a subprocess) ----------------------------------------------------------------
def run_domainlm(args) -> dict:
    from domainlm.config import load_project
    from domainlm.train import train

    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), args.samples, 16, {
            "batch_size": args.batch, "max_seq_len": args.seq, "max_steps": args.steps, "eval_every": 10**6,
            "save_every": 10**6, "cpu_threads": args.threads, "bf16": "auto"})
        summary = train(load_project(root), "product-expert")
        metrics = [json.loads(x) for x in (root / "runs" / summary["run_id"] / "metrics.jsonl").read_text().splitlines()]
    rows = [m for m in metrics if m["type"] == "train"]
    # Each row has cumulative tokens and that step's tokens/s; step 1 (warm-up) is left out.
    step_tokens = [m["tokens"] - p["tokens"] for p, m in zip(rows, rows[1:])]
    seconds = sum(n / m["tokens_per_s"] for n, m in zip(step_tokens, rows[1:]))
    return {"tokens": sum(step_tokens), "seconds": seconds,
            "trained_share": summary["trained_tokens"] / summary["tokens_seen"], "rss_gb": peak_rss_gb()}


def run_trl(args) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from domainlm.models.base import resolve_base_model

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = resolve_base_model("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    data = Dataset.from_list([{"messages": s["messages"]} for s in make_samples(args.samples, 0, args.seq)])
    counted = {"tokens": 0, "steps": []}

    class Clock(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            counted["steps"].append(time.perf_counter() - self.t)

    with tempfile.TemporaryDirectory() as tmp:
        config = SFTConfig(output_dir=tmp, per_device_train_batch_size=args.batch, max_steps=args.steps,
                           max_length=args.seq, report_to=[], logging_steps=10**6, save_strategy="no",
                           use_cpu=not torch.cuda.is_available())  # required on CPU; everything else default
        trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer,
                             peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA))
        collate = trainer.data_collator
        per_step: list[int] = []

        def counting(features):
            batch = collate(features)
            per_step.append(int(batch["attention_mask"].sum()) if "attention_mask" in batch else int(batch["input_ids"].numel()))
            return batch

        trainer.data_collator = counting
        trainer.add_callback(Clock())
        trainer.train()
    # Step 1 is warm-up; the dataloader may prefetch, so pair the first `steps` batches with the steps.
    return {"tokens": sum(per_step[1:len(counted["steps"])]), "seconds": sum(counted["steps"][1:]),
            "trained_share": 1.0, "rss_gb": peak_rss_gb(), "bf16": bool(config.bf16)}


def child(which: str, args, tcmalloc: bool) -> dict:
    """One trainer in its own process; `tcmalloc`: under tcmalloc, as `domainlm train` runs (domainlm.allocator)."""
    from domainlm.allocator import tcmalloc_env

    cmd = [sys.executable, __file__, "--child", which, "--steps", str(args.steps), "--batch", str(args.batch),
           "--seq", str(args.seq), "--samples", str(args.samples), "--quality", str(args.quality)]
    cmd += ["--threads", str(args.threads)] if args.threads else []
    env = (tcmalloc_env() if tcmalloc else None) or {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{which} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def quality(args) -> dict:
    from domainlm.config import load_project
    from domainlm.train import train

    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), 400, 40, {
            "batch_size": args.batch, "max_seq_len": args.seq, "epochs": 10, "eval_every": 10, "save_every": 10**6,
            "lr": 1e-3, "warmup_ratio": 0.03, "time_budget_s": args.quality, "cpu_threads": args.threads,
            "early_stopping_patience": 0})
        s = train(load_project(root), "product-expert")
    return {"initial_val": s["initial_val_loss"], "final_val": s["final_val_loss"], "steps": s["steps"],
            "wall_s": s["wall_time_s"], "ratio": s["final_val_loss"] / s["initial_val_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quality", type=float, default=0, help="Seconds of domainlm training for the quality check (0: skip).")
    parser.add_argument("--skip-trl", action="store_true")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Run the two trainers this many times, alternating, and report the median ratio "
                             "(the speed of a shared machine drifts over minutes).")
    parser.add_argument("--child", choices=["domainlm", "trl", "quality"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = {"domainlm": run_domainlm, "trl": run_trl, "quality": quality}[args.child](args)
        print(json.dumps(result))
        return

    from transformers import AutoConfig

    from domainlm.models.base import cpu_supports_bf16, resolve_base_model

    config = AutoConfig.from_pretrained(resolve_base_model("smollm2-135m"))
    print(f"SmolLM2-135M, batch {args.batch} x {args.seq}, {args.steps} steps (first not timed), "
          f"threads {args.threads or 'default'}, avx512_bf16: {cpu_supports_bf16()}, load avg {os.getloadavg()[0]:.1f}")
    import torch

    cores = args.threads or torch.get_num_threads()
    peak, how = measure_peak(cores)
    dense = matmul_rate(cores)
    print(f"CPU bf16 peak: {f'{peak / 1e9:.0f} GFLOP/s' if peak else 'unknown'} ({how})")
    print(f"torch bf16 2048^3 matmul: {dense / 1e9:.0f} GFLOP/s"
          + (f" = {100 * dense / peak:.0f}% of that peak (the ceiling for any trainer built on torch's kernels)" if peak else ""))
    lengths = [_token_counter()(s["messages"]) for s in make_samples(args.samples, 0, args.seq)]
    ctx = sum(n * n / 2 for n in lengths) / sum(lengths)  # mean causal context per token (one sample per row)
    from domainlm.allocator import find_tcmalloc

    tcmalloc = find_tcmalloc()
    print(f"allocator: domainlm under {'tcmalloc (' + tcmalloc + ')' if tcmalloc else 'glibc (no tcmalloc installed)'}, "
          "as `domainlm train` runs; TRL default under glibc" + (", and again under tcmalloc" if tcmalloc else ""))
    ratios, same = [], []
    for round_no in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"round {round_no} of {args.rounds}")
        results = [("domainlm", child("domainlm", args, tcmalloc=True))]
        if not args.skip_trl:
            results.append(("trl-default", child("trl", args, tcmalloc=False)))
            if tcmalloc:  # the same allocator for both, to show what the allocator alone is worth
                results.append(("trl+tcmalloc", child("trl", args, tcmalloc=True)))
        for name, r in results:
            tps = r["tokens"] / r["seconds"]
            flops = model_flops_per_token(config, ctx, r["trained_share"]) * tps
            r.update(tokens_per_s=tps, flops=flops)
            mfu = (f"{flops / 1e9:4.0f} GFLOP/s" + (f" = MFU {100 * flops / peak:4.1f}%" if peak else "")
                   + f", {100 * flops / dense:3.0f}% of the matmul")
            print(f"{name:12s} {tps:8.1f} useful tokens/s   {mfu}   peak RSS {r['rss_gb']:.2f} GB"
                  + (f"   (TRL bf16={r['bf16']})" if "bf16" in r else ""))
        if len(results) >= 2:
            ratios.append(results[0][1]["tokens_per_s"] / results[1][1]["tokens_per_s"])
            print(f"ratio domainlm / TRL default: {ratios[-1]:.2f}x (target >= 4x)")
        if len(results) == 3:
            same.append(results[0][1]["tokens_per_s"] / results[2][1]["tokens_per_s"])
            print(f"ratio domainlm / TRL default, both under tcmalloc: {same[-1]:.2f}x")
    if len(ratios) > 1:
        print(f"median ratio over {len(ratios)} rounds: {sorted(ratios)[len(ratios) // 2]:.2f}x "
              f"(each: {', '.join(f'{x:.2f}' for x in ratios)}; target >= 4x)")
    if len(same) > 1:
        print(f"median ratio, both under tcmalloc: {sorted(same)[len(same) // 2]:.2f}x "
              f"(each: {', '.join(f'{x:.2f}' for x in same)})")
    if args.quality:
        q = child("quality", args, tcmalloc=True)  # as `domainlm train` runs
        print(f"quality: val loss {q['initial_val']:.3f} -> {q['final_val']:.3f} ({q['ratio']:.2f}x) in {q['wall_s']:.0f} s, "
              f"{q['steps']} steps; target <= 0.5x: {'PASS' if q['ratio'] <= 0.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
