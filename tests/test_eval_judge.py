"""The LLM judge against a real OpenAI-compatible server: llama-cpp-python's, serving the packaged SmolLM2 GGUF."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from domainlm.config import BrandConfig, TeacherConfig
from domainlm.eval.judge import RUBRIC, Judge, parse_preference, parse_rubric

pytestmark = pytest.mark.slow


def test_parsers():
    assert parse_rubric('Sure: {"accuracy": 7, "brand_voice": 4, "helpfulness": "x", "safety": 1}') == \
        {"accuracy": 5.0, "brand_voice": 4.0, "safety": 1.0}
    assert parse_rubric("no json here") is None
    assert parse_preference('{"winner": "B"}') == "B" and parse_preference("tie, honestly") == "tie"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (bounded start-up, stopped afterwards)."""
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] extras")
    from domainlm.models.base import _smollm2_gguf

    port = _free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b")  # a pipe would fill and block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_smollm2_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"llama server exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_judge_scores_and_prefers_through_a_real_server(llama_server):
    judge = Judge(TeacherConfig(base_url=llama_server, model="smollm2", timeout_s=120, max_retries=0),
                  BrandConfig(assistant_name="Vera", shop_name="Test Cellars"))
    judge.check()
    # A 135M judge gives poor grades, but the round trip (request, JSON reply, parsing) is real.
    reply = judge._ask('Reply with JSON only: {"accuracy": 5, "brand_voice": 4, "helpfulness": 4, "safety": 5}')
    assert reply.strip()
    scores = judge.rubric("How much is Hendrick's Gin?", "[S-0002] Hendrick's Gin | price: $34.00",
                          "Hendrick's Gin is $34.00.")
    assert scores is None or set(scores) <= set(RUBRIC)
    assert judge.prefer("item-1", "How much is Hendrick's Gin?", "It's $99.", "Hendrick's Gin is $34.00.") in (
        "tuned", "base", "tie", None)
