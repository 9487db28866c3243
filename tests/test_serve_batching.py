"""Micro-batching: concurrent requests in one left-padded batch (mixed adapters) give the same greedy
answers as the reference engine run one request at a time, and stream the same text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from domainlm.generate import ENGINES, Generation, GenerationParams
from domainlm.serve.batching import BatchingEngine
from test_serve_support import ADAPTERS, make_serve_project

PROMPTS = ["How much is the Lagavulin?", "Hi", "Do you ship to Canada, and how long does it take?", "Gin please"]


def _engine(tmp_path, tokenizer):
    from transformers import AutoModelForCausalLM

    root = make_serve_project(tmp_path / "shop", tokenizer)
    runs = sorted((root / "runs").iterdir())
    model = AutoModelForCausalLM.from_pretrained(root / "tiny-model").eval()
    return ENGINES.get("transformers")(model, tokenizer, adapters={name: run / "adapter" for name, run in
                                                                    zip(ADAPTERS, runs)})


def test_batched_greedy_answers_match_one_at_a_time(tmp_path, tiny_tokenizer):
    engine = _engine(tmp_path, tiny_tokenizer)
    params = GenerationParams(max_new_tokens=12)
    jobs = [([{"role": "user", "content": prompt}], adapter) for prompt in PROMPTS for adapter in (None, *ADAPTERS)]
    reference = [engine.generate(messages, params, adapter=adapter) for messages, adapter in jobs]
    batcher = BatchingEngine(engine, max_batch=8, max_wait_ms=50)
    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            batched = list(pool.map(lambda job: batcher.generate(job[0], params, adapter=job[1]), jobs))
        assert batcher.batches_run < len(jobs)  # requests really shared batches
        assert [g.text for g in batched] == [g.text for g in reference]
        assert [g.completion_tokens for g in batched] == [g.completion_tokens for g in reference]
        assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in reference]
        pieces = list(batcher.stream(jobs[1][0], params, adapter=jobs[1][1]))
        assert isinstance(pieces[-1], Generation) and pieces[-1].text == reference[1].text
        assert "".join(pieces[:-1]).strip() == reference[1].text
    finally:
        batcher.close()
