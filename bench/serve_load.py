#!/usr/bin/env python3
"""Serving load test: concurrent streaming clients against `domainlm serve`: transformers one at a time,
transformers micro-batched, and the llama.cpp engine.

Starts the server on the bundled wine-shop example (cache off, so every request generates): the baseline
runs transformers `generate` one request at a time (`serve.max_batch=1, workers=1`), the batched server
runs up to `serve.max_batch` concurrent requests in one left-padded batch, and the llama.cpp server
(`serve.backend=llamacpp`, when llama-cpp-python is installed) runs the base GGUF with the adapters as
LoRA GGUFs, one request at a time on all cores. Each client count sends the same number of requests,
alternating between the base model and two LoRA adapters, and reports throughput, latency p50/p99, time
to first token (TTFT), and whether the answers are real: empty answers, and answers that state a price
whose every price equals a retrieved product's catalog price (the pipeline's `domainlm` metadata).
One run, printed.

    HF_HUB_OFFLINE=1 python bench/serve_load.py            # SmolLM2-135M, 8 and 32 clients, 200 requests
    HF_HUB_OFFLINE=1 python bench/serve_load.py --quick    # tiny random model, 64 requests
    HF_HUB_OFFLINE=1 python bench/serve_load.py --requests 48 --baseline-clients 8 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["How much is {}?", "Tell me about {}.", "Is {} in stock?", "What does {} pair with?",
             "What is the alcohol content of {}?"]
MONEY = re.compile(r"[$€£]\s?(\d[\d,]*(?:\.\d+)?)")


def tiny_model(folder: Path) -> str:
    """A 2-layer random Llama with SmolLM2's tokenizer (the test asset), saved as a HF folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(ROOT / "tests/assets/tokenizer")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def add_adapters(root: Path, base_model: str, names: list[str]) -> None:
    """One finished run per adapter: a LoRA (B = 0, so answers equal the base; the compute is real)."""
    from peft import LoraConfig, get_peft_model

    from domainlm.models.base import load_base_model

    for name in names:
        model, _ = load_base_model(base_model, root)
        run = root / "runs" / f"bench-{name}"
        config = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                            task_type="CAUSAL_LM")
        get_peft_model(model, config).save_pretrained(run / "adapter")
        (run / "run.json").write_text(json.dumps({"run_id": run.name, "adapter": name, "stage": "sft",
                                                  "status": "finished", "finished_at": "2026-01-01T00:00:00"}))


def make_project(folder: Path, quick: bool) -> tuple[Path, list[str]]:
    from domainlm.scaffold import init_project

    init_project(folder, "wine-shop")
    base = tiny_model(folder / "tiny-model") if quick else "smollm2-135m"
    text = (folder / "domainlm.yaml").read_text(encoding="utf-8")
    text = text.replace("base_model: smollm2-135m", f"base_model: {base}", 1)
    (folder / "domainlm.yaml").write_text(text, encoding="utf-8")
    from domainlm.config import load_project

    names = list(load_project(folder).adapters)[:2]
    add_adapters(folder, base, names)
    return folder, names


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`domainlm serve` in a subprocess with overrides; waits for /health."""

    def __init__(self, project: Path, overrides: dict[str, object], threads: int | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        sets = [f"serve.{k}={v}" for k, v in {"backend": "transformers", "cache_size": 0,
                                               "rate_limit_per_minute": 10**9, "queue_size": 512,
                                               "timeout_s": 900, "catalog_poll_s": 0, **overrides}.items()]
        env = {k: v for k, v in os.environ.items() if k not in ("DOMAINLM_API_KEYS", "DOMAINLM_ADMIN_KEY")}
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)  # torch's intra-op threads, the same for every server
        command = [sys.executable, "-c", "from domainlm.cli import main; main()", "serve", "-c", str(project),
                   "--port", str(self.port)] + [arg for s in sets for arg in ("--set", s)]
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> "Server":
        import httpx

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("server did not become healthy in 600 s")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def one_request(client, url: str, model: str, question: str, max_tokens: int) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_tokens": max_tokens,
            "stream": True, "stream_options": {"include_usage": True}}
    started = time.perf_counter()
    ttft, tokens, text, info = None, 0, [], {}
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            content = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
            if content:
                ttft = time.perf_counter() - started if ttft is None else ttft
                text.append(content)
            info = chunk.get("domainlm") or info
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    latency = time.perf_counter() - started
    return {"latency": latency, "ttft": ttft if ttft is not None else latency, "tokens": tokens,
            **price_check("".join(text), info)}


def price_check(text: str, info: dict) -> dict:
    """Is the answer real: non-empty, and does every price it states equal a retrieved product's catalog price."""
    products = info.get("products", [])
    catalog = {round(float(product["price"]), 2) for product in products if product.get("price") is not None}
    stated = [round(float(m.replace(",", "")), 2) for m in MONEY.findall(text)]
    return {"empty": not text.strip(), "priced": bool(stated), "price_ok": bool(stated) and set(stated) <= catalog,
            "text": text}


ENGINE_COUNTERS = ("batches", "batch_rows", "prefill_seconds", "decode_seconds", "prefix_tokens_saved")


def batch_counters(url: str) -> dict[str, float]:
    """The batching engine's counters (batches, rows, prefill and decode seconds, prefix tokens saved) from
    the server's /metrics; zeros for a server that does not batch."""
    import httpx

    text = httpx.get(url + "/metrics", timeout=10).text
    found = dict(re.findall(r"^domainlm_engine_(\w+) (\S+)$", text, re.M))
    return {name: float(found.get(name, 0)) for name in ENGINE_COUNTERS}


async def load(url: str, models: list[str], questions: list[str], clients: int, max_tokens: int) -> dict:
    import httpx

    pending = list(enumerate(questions))
    results: list[dict] = []

    async def worker(client):
        while pending:
            i, question = pending.pop(0)
            results.append(await one_request(client, url, models[i % len(models)], question, max_tokens))

    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(timeout=900, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - started
    lat = sorted(r["latency"] for r in results)
    ttft = sorted(r["ttft"] for r in results)
    tokens = sum(r["tokens"] for r in results)
    return {"clients": clients, "requests": len(results), "wall_s": wall, "req_s": len(results) / wall,
            "tok_s": tokens / wall, "p50_s": pct(lat, 50), "p99_s": pct(lat, 99), "ttft_p50_s": pct(ttft, 50),
            "ttft_p99_s": pct(ttft, 99), "mean_tokens": tokens / len(results),
            "empty": sum(r["empty"] for r in results), "priced": sum(r["priced"] for r in results),
            "price_ok": sum(r["price_ok"] for r in results),
            "sample": next((r["text"] for r in results if r["priced"]), results[0]["text"])}


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[min(98, max(0, int(q) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny random model and fewer requests")
    parser.add_argument("--requests", type=int, help="requests per client count (default 200; 64 with --quick)")
    parser.add_argument("--clients", default="8,32", help="comma-separated client counts")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--max-batch", type=int, default=32, help="serve.max_batch of the batched server")
    parser.add_argument("--batch-wait-ms", type=float,
                        help="serve.batch_wait_ms of the batched server (default: the project default)")
    parser.add_argument("--baseline-requests", type=int,
                        help="requests for the one-at-a-time baseline (default: same as --requests)")
    parser.add_argument("--threads", type=int,
                        help="torch threads of both servers (default: torch's, one per core); on a machine shared "
                             "with other work, 1 avoids threads waiting for each other at every operation")
    parser.add_argument("--baseline-clients", help="client counts for the baseline (default: same as --clients); "
                                                   "its throughput is serial whatever the count")
    parser.add_argument("--no-llamacpp", action="store_true", help="skip the llama.cpp server")
    args = parser.parse_args()
    requests = args.requests or (64 if args.quick else 200)
    baseline_requests = args.baseline_requests or requests
    counts = [int(c) for c in args.clients.split(",")]

    from domainlm.catalog import load_catalog
    from domainlm.config import load_project

    folder = Path(tempfile.mkdtemp(prefix="domainlm-serve-bench-"))
    try:
        project_dir, adapters = make_project(folder / "shop", args.quick)
        project = load_project(project_dir)
        names = [p.name for p in load_catalog(project.catalog, project.root).products]
        questions = [QUESTIONS[i % len(QUESTIONS)].format(names[(i * 7) % len(names)]) for i in range(max(
            requests, baseline_requests))]
        from domainlm.serve.service import base_model_id

        models = [base_model_id(project), *adapters]
        print(f"model: {project.base_model}  adapters: {', '.join(adapters)}  max_tokens: {args.max_tokens}  "
              f"threads: {args.threads or 'default'}  cpus: {os.cpu_count()}  load avg: {os.getloadavg()[0]:.1f}")
        rows = []
        baseline_counts = [int(c) for c in (args.baseline_clients or args.clients).split(",")]
        setups = [("baseline (1 at a time)", {"max_batch": 1, "workers": 1}, baseline_requests, baseline_counts),
                  (f"batched (max_batch={args.max_batch})", {"max_batch": args.max_batch, "workers": max(counts),
                                                              **({} if args.batch_wait_ms is None else
                                                                 {"batch_wait_ms": args.batch_wait_ms})},
                   requests, counts)]
        from domainlm.engines.llamacpp import llama_cpp_available

        if not args.no_llamacpp and llama_cpp_available():
            # The server's own conversion (base f16 + one LoRA GGUF per adapter), done now so its time is not
            # counted as server start-up; the server finds the files in the same $DOMAINLM_HOME/gguf cache.
            from domainlm.adapters import gguf_files, latest_runs

            started = time.perf_counter()
            gguf_files(project, latest_runs(project))
            print(f"GGUF base + {len(adapters)} adapters ready in {time.perf_counter() - started:.1f} s "
                  f"(the base is cached across runs, the adapters are new each run)")
            # The engine has one llama.cpp context on os.cpu_count() threads (not torch's): the server runs it
            # one request at a time, so workers only lets the requests queue in the service.
            setups.append((f"llama.cpp ({os.cpu_count()} threads)", {"backend": "llamacpp", "max_batch": 1,
                                                                   "workers": max(counts)}, requests, counts))
        elif not args.no_llamacpp:
            print("llama-cpp-python is not installed: no llama.cpp rows (scripts/install_llamacpp.sh)")
        for label, overrides, n, client_counts in setups:
            with Server(project_dir, overrides, args.threads) as server:
                asyncio.run(load(server.url, models, questions[:4], 2, args.max_tokens))  # warm-up
                for clients in client_counts:
                    before = batch_counters(server.url)
                    result = asyncio.run(load(server.url, models, questions[:n], clients, args.max_tokens))
                    after = batch_counters(server.url)
                    spent = {name: after[name] - before[name] for name in ENGINE_COUNTERS}
                    batches = spent["batches"]
                    result["rows_per_batch"] = spent["batch_rows"] / batches if batches else None
                    result["engine"] = spent
                    rows.append((label, result))
                    print(f"  {label:28} {clients:3} clients: {result['req_s']:.2f} req/s", flush=True)
        print()
        header = f"{'server':28} {'clients':>7} {'reqs':>5} {'wall s':>7} {'req/s':>7} {'tok/s':>7} " \
                 f"{'p50 s':>7} {'p99 s':>7} {'TTFT50':>7} {'TTFT99':>7} {'tok/req':>7} {'speedup':>7} " \
                 f"{'empty':>5} {'$ ok':>7} {'rows/batch':>10}"
        print(header)
        print("-" * len(header))
        base = {r["clients"]: r["req_s"] for label, r in rows if label.startswith("baseline")}
        for label, r in rows:
            # against the baseline at the same client count, else its best (it is serial at any count)
            speedup = r["req_s"] / base.get(r["clients"], max(base.values()))
            print(f"{label:28} {r['clients']:7} {r['requests']:5} {r['wall_s']:7.1f} {r['req_s']:7.2f} "
                  f"{r['tok_s']:7.1f} {r['p50_s']:7.2f} {r['p99_s']:7.2f} {r['ttft_p50_s']:7.2f} "
                  f"{r['ttft_p99_s']:7.2f} {r['mean_tokens']:7.1f} {speedup:6.1f}x {r['empty']:5} "
                  f"{r['price_ok']:3}/{r['priced']:<3} "
                  f"{'-' if r['rows_per_batch'] is None else format(r['rows_per_batch'], '.1f'):>10}")
        print("empty: answers with no text; $ ok: answers whose stated prices all equal a retrieved product's "
              "catalog price / answers that state a price; rows/batch: mean rows of the batches the batching "
              "engine ran (- where the engine does not batch)")
        for label, r in rows:
            spent = r["engine"]
            if spent["batches"]:
                print(f"{label}, {r['clients']} clients: per batch {spent['prefill_seconds'] / spent['batches']:.2f} s "
                      f"to the first token and {spent['decode_seconds'] / spent['batches']:.2f} s decoding; "
                      f"{spent['prefix_tokens_saved'] / spent['batch_rows']:.0f} prompt tokens a row came from the "
                      f"stored shared prefix")
        for label, r in dict(rows).items():
            print(f"sample answer, {label}: {r['sample'][:200]!r}")
        print(f"load avg at the end: {os.getloadavg()[0]:.1f} (other work on the machine slows every server)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
