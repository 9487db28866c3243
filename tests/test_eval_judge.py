"""The LLM judge against a real OpenAI-compatible server: llama-cpp-python's, serving the packaged SmolLM2 GGUF."""

from __future__ import annotations


import pytest

from domainlm.config import BrandConfig, TeacherConfig
from domainlm.eval.judge import RUBRIC, Judge, parse_preference, parse_rubric

pytestmark = pytest.mark.slow


def test_parsers():
    assert parse_rubric('Sure: {"accuracy": 7, "brand_voice": 4, "helpfulness": "x", "safety": 1}') == \
        {"accuracy": 5.0, "brand_voice": 4.0, "safety": 1.0}
    assert parse_rubric("no json here") is None
    assert parse_preference('{"winner": "B"}') == "B" and parse_preference("tie, honestly") == "tie"


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
