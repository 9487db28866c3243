"""The server on the real SmolLM2-135M weights (slow): a real answer through the openai client, plain and
streaming, with a LoRA adapter picked by `model`, and no price outside the catalog reaching the user."""

from __future__ import annotations

import pytest

from conftest import SMALL_CATALOG_CSV, SMALL_KNOWLEDGE_MD, SMALL_PROJECT_YAML
from domainlm.config import load_project
from domainlm.serve import create_app
from test_serve_support import API_KEY, ENV, ServerThread, catalog_prices, prices_in

pytestmark = pytest.mark.slow


def _zero_lora_run(root, base: str) -> None:
    """A finished product-expert run whose LoRA starts at B = 0 (the trained shape, the base's answers)."""
    import json

    from peft import LoraConfig, get_peft_model

    from domainlm.models.base import load_base_model

    model, _ = load_base_model(base, root)
    run = root / "runs" / "smol-product-expert"
    get_peft_model(model, LoraConfig(r=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")).save_pretrained(
        run / "adapter")
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "adapter": "product-expert", "stage": "sft",
                                              "status": "finished", "finished_at": "2026-01-01T00:00:00"}))


def test_smollm2_answers_through_the_openai_client(tmp_path):
    from openai import OpenAI

    root = tmp_path / "shop"
    (root / "knowledge").mkdir(parents=True)
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV, encoding="utf-8")
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD, encoding="utf-8")
    (root / "domainlm.yaml").write_text(SMALL_PROJECT_YAML + "serve: {backend: transformers, max_tokens: 48}\n",
                                        encoding="utf-8")
    _zero_lora_run(root, "smollm2-135m")
    allowed = catalog_prices(root)
    with ServerThread(create_app(load_project(root), env=ENV, watch_catalog=False)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, timeout=300)
        assert [m.id for m in client.models.list().data] == ["smollm2-135m", "product-expert"]
        question = [{"role": "user", "content": "How much is the Lagavulin 16 Year Old?"}]
        for model in ("smollm2-135m", "product-expert"):
            answer = client.chat.completions.create(model=model, messages=question, max_tokens=48)
            text = answer.choices[0].message.content
            assert text.strip() and answer.usage.completion_tokens > 0
            assert "S-0001" in answer.model_extra["domainlm"]["retrieved_ids"]
            assert set(prices_in(text)) <= allowed, text
        chunks = list(client.chat.completions.create(model="product-expert", messages=question, max_tokens=48,
                                                     stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed.strip() and set(prices_in(streamed)) <= allowed, streamed
