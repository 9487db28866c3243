"""The vLLM engine: generation forwarded to an OpenAI-compatible server with the official client.

The wiring is tested on CPU against a stand-in OpenAI server (domainlm's own, on a scripted assistant);
the real vLLM test needs a GPU and the vllm package and is skipped otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from domainlm.generate import ENGINES, Generation, GenerationParams
from domainlm.serve import create_app
from domainlm.serve.vllm import VllmEngine
from test_serve_limits import ENV, KEY, ScriptedAssistant, _project
from test_serve_support import ServerThread, free_port


def test_vllm_engine_calls_an_openai_server(tmp_path):
    assert ENGINES.get("vllm") is VllmEngine
    with ServerThread(create_app(_project(tmp_path), ScriptedAssistant(), env=ENV, watch_catalog=False)) as server:
        engine = VllmEngine(server.url + "/v1", api_key=KEY)
        assert engine.base_model == "smollm2-135m" and engine.adapters == ["expert"]
        messages = [{"role": "user", "content": "hello"}]
        result = engine.generate(messages, GenerationParams(max_new_tokens=8, seed=1), adapter="expert")
        assert result == Generation("echo: hello", 7, 3, "stop")
        assert "".join(engine.stream(messages, GenerationParams(max_new_tokens=8))).strip() == "echo: hello"


def _gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.slow
@pytest.mark.skipif(not _gpu() or shutil.which("vllm") is None, reason="needs a CUDA GPU and the vllm package")
def test_real_vllm_server_behind_domainlm(tmp_path):
    """`vllm serve` the base with a LoRA, `serve.backend: vllm`, then ask domainlm through the openai client."""
    from openai import OpenAI

    from conftest import SMALL_CATALOG_CSV, SMALL_KNOWLEDGE_MD, SMALL_PROJECT_YAML
    from domainlm.config import load_project
    from domainlm.models.base import resolve_base_model
    from test_serve_support import API_KEY, catalog_prices, prices_in

    root = tmp_path / "shop"
    (root / "knowledge").mkdir(parents=True)
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV)
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD)
    port = free_port()
    base = resolve_base_model("smollm2-135m")
    vllm = subprocess.Popen([shutil.which("vllm"), "serve", str(base), "--port", str(port), "--max-model-len", "2048",
                             "--gpu-memory-utilization", "0.3"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        (root / "domainlm.yaml").write_text(SMALL_PROJECT_YAML + f"serve: {{backend: vllm, vllm_url: "
                                            f"'http://127.0.0.1:{port}/v1', max_tokens: 48}}\n")
        import httpx

        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and vllm.poll() is None, "vllm did not start"
            time.sleep(2)
        from test_serve_support import ENV as SERVE_ENV

        with ServerThread(create_app(load_project(root), env=SERVE_ENV, watch_catalog=False)) as server:
            client = OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
            answer = client.chat.completions.create(
                model="smollm2-135m", messages=[{"role": "user", "content": "How much is the Lagavulin?"}])
            assert set(prices_in(answer.choices[0].message.content)) <= catalog_prices(root)
    finally:
        vllm.terminate()
        vllm.wait(timeout=60)
