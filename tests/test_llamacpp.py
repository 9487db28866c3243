"""The llama.cpp engine on exported GGUF files: adapters load, change output, switch per request, match transformers."""

from __future__ import annotations


import pytest

from test_export import GREEDY, make_adapter, make_run

pytest.importorskip("llama_cpp")

PROMPTS = ["What goes with salmon?", "Do you have Rioja?", "How fast do you ship?"]


def _reference_tokens(model, tokenizer, engine, prompt: str, n: int) -> list[int]:
    import torch

    ids = engine.prompt_ids([{"role": "user", "content": prompt}])
    with torch.inference_mode():
        out = model.generate(torch.tensor([ids]), max_new_tokens=n, eos_token_id=engine.eot_id, pad_token_id=engine.eot_id, **GREEDY)
    return [t for t in out[0, len(ids):].tolist() if t != engine.eot_id]


def test_tiny_gguf_adapters_match_transformers_and_switch_per_request(tmp_path, tiny_model_dir, tiny_tokenizer):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from domainlm.engines.llamacpp import LlamaCppEngine
    from domainlm.export.gguf_llama import read_config, write_base_gguf, write_lora_gguf
    from domainlm.generate import ENGINES, GenerationParams

    assert ENGINES.get("llamacpp") is LlamaCppEngine
    root = tmp_path / "shop"
    # f32 GGUF so the tiny random model (small logit gaps) compares exactly with fp32 torch
    base_gguf = write_base_gguf(tiny_model_dir, tmp_path / "base.gguf", "f32")
    adapters = {}
    for name, seed in (("alpha", 1), ("beta", 2)):
        run = make_run(root, str(tiny_model_dir), AutoModelForCausalLM.from_pretrained(tiny_model_dir), name, seed, scale=0.2)
        adapters[name] = write_lora_gguf(run / "adapter", read_config(tiny_model_dir), tmp_path / f"{name}.gguf", name)

    params = GenerationParams(max_new_tokens=12)
    with LlamaCppEngine(base_gguf, tiny_tokenizer, adapters, n_ctx=512, n_threads=2) as engine:
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
        for prompt in PROMPTS[:2]:
            ids = engine.prompt_ids([{"role": "user", "content": prompt}])
            assert engine.generate_ids(ids, params, None) == _reference_tokens(base, tiny_tokenizer, engine, prompt, 12)
        alpha = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), root / "runs" / "20260101-0000-alpha-sft" / "adapter").eval()
        ids = engine.prompt_ids([{"role": "user", "content": PROMPTS[0]}])
        expected_alpha = _reference_tokens(alpha, tiny_tokenizer, engine, PROMPTS[0], 12)

        # A, base, B, A on the same prompt: each gets its own answer, and A twice gets the same one
        order = ["alpha", None, "beta", "alpha"]
        answers = [engine.generate_ids(ids, params, name) for name in order]
        assert answers[0] == expected_alpha
        assert answers[0] != answers[1] and answers[2] not in (answers[0], answers[1])
        assert answers[3] == answers[0]
        generation = engine.generate([{"role": "user", "content": PROMPTS[0]}], params, adapter="beta")
        assert generation.completion_tokens == len(answers[2]) and generation.prompt_tokens == len(ids)


@pytest.mark.slow
def test_real_smollm2_f16_gguf_with_adapter_matches_transformers(tmp_path):
    """10 prompts, first 32 greedy tokens: llama.cpp (f16 base + LoRA GGUF) vs transformers fp32 + PEFT, >= 9 match."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from domainlm.engines.llamacpp import LlamaCppEngine
    from domainlm.export.gguf_llama import read_config, write_base_gguf, write_lora_gguf
    from domainlm.generate import GenerationParams
    from domainlm.models.base import resolve_base_model

    folder = resolve_base_model("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    make_adapter(model, tmp_path / "adapter", seed=3, scale=0.01, r=8)
    base_gguf = write_base_gguf(folder, tmp_path / "base-f16.gguf", "f16")
    lora_gguf = write_lora_gguf(tmp_path / "adapter", read_config(folder), tmp_path / "a.gguf", "a")
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32), tmp_path / "adapter").eval()
    prompts = [
        "What wine goes with salmon?", "Tell me about Bordeaux.", "How should I store whisky?", "Suggest a gin cocktail.",
        "What is the capital of France?", "Explain tannins in one sentence.", "Is Champagne only from France?",
        "What is a good gift for a beer lover?", "How long does an open bottle of wine last?", "What does ABV mean?",
    ]
    params = GenerationParams(max_new_tokens=32)
    matches, changed = 0, 0
    with LlamaCppEngine(base_gguf, tokenizer, {"a": lora_gguf}, n_ctx=1024, n_threads=2) as engine:
        for prompt in prompts:
            ids = engine.prompt_ids([{"role": "user", "content": prompt}])
            got = engine.generate_ids(ids, params, "a")
            matches += got == _reference_tokens(reference, tokenizer, engine, prompt, 32)
            changed += got != engine.generate_ids(ids, params, None)
    assert matches >= 9, f"only {matches}/10 prompts matched 32 greedy tokens"
    assert changed >= 1, "the adapter changed no answer"
