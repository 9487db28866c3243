"""A real OpenAI-compatible server for teacher and judge tests: llama-cpp-python's server with SmolLM2.

Register with `pytest_plugins` (tests/conftest.py does); the `llama_server` fixture yields the base URL
of a server on a free 127.0.0.1 port serving the packaged GGUF under the model name `smollm2`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from support.net import free_port

MODEL_NAME = "smollm2"
START_TIMEOUT_S = 120



def _wait_ready(proc: subprocess.Popen, url: str, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"llama server exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"llama server did not start within {START_TIMEOUT_S} s")


def _warm_up(url: str) -> None:
    """One small completion, so model warm-up does not count against a caller's request timeout."""
    body = json.dumps({"model": MODEL_NAME, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
    request = urllib.request.Request(f"{url}/chat/completions", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=180) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (bounded start-up, stopped afterwards)."""
    pytest.importorskip("llama_cpp.server", reason="needs the llama-cpp-python[server] extras (make setup)")
    from domainlm.models.base import smollm2_gguf

    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b")  # a pipe would fill and block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", MODEL_NAME],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, url, log)
        _warm_up(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
