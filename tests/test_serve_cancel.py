"""A client that goes away cancels its generation: the running server (tiny random model, micro-batching
engine) stops the batch row at its next token and frees the slot, streaming and not, as its metrics show."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from domainlm.config import load_project
from domainlm.serve import create_app
from test_serve_support import API_KEY, ENV, SERVE_YAML, ServerThread, make_serve_project

MAX_TOKENS = 1000
AUTH = {"Authorization": f"Bearer {API_KEY}"}
BODY = {"model": "tiny-model", "messages": [{"role": "user", "content": "Tell me about your whiskies."}],
        "max_tokens": MAX_TOKENS}


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_tokenizer):
    # No answer cache, so every request generates; a cap high enough that a full answer takes seconds.
    extra = SERVE_YAML.replace("max_tokens: 24", f"max_tokens: {MAX_TOKENS}\n  cache_size: 0\n  timeout_s: 300")
    shop = make_serve_project(tmp_path_factory.mktemp("cancel") / "shop", tiny_tokenizer, extra)
    with ServerThread(create_app(load_project(shop), env=ENV, watch_catalog=False)) as running:
        yield running


def _metric(server, name: str, labels: str = "") -> float:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    match = re.search(rf"^{name}{re.escape(labels)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def _wait_for(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what} within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def _idle(server) -> bool:
    return (_metric(server, "domainlm_engine_active_rows") == 0 and _metric(server, "domainlm_in_flight") == 0
            and server.service.admission.pending == 0)


def test_uncancelled_request_runs_to_max_tokens(server):
    """The reference for the tests below: this prompt on this model really generates all MAX_TOKENS tokens."""
    before = _metric(server, "domainlm_engine_generated_tokens")
    batches, rows = _metric(server, "domainlm_engine_batches"), _metric(server, "domainlm_engine_batch_rows")
    prefill, decode = _metric(server, "domainlm_engine_prefill_seconds"), _metric(server, "domainlm_engine_decode_seconds")
    response = httpx.post(server.url + "/v1/chat/completions", json=BODY, headers=AUTH, timeout=300)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["completion_tokens"] == MAX_TOKENS
    assert _metric(server, "domainlm_engine_generated_tokens") - before == MAX_TOKENS
    # One request alone: one batch of one row, which /metrics counts (bench/serve_load.py reads the mean size).
    assert _metric(server, "domainlm_engine_batches") - batches == 1
    assert _metric(server, "domainlm_engine_batch_rows") - rows == 1
    # and its time, split at the first token (MAX_TOKENS decode steps take longer than no time at all)
    assert _metric(server, "domainlm_engine_prefill_seconds") > prefill
    assert _metric(server, "domainlm_engine_decode_seconds") > decode


def test_closing_a_stream_after_the_first_chunk_stops_generation_and_frees_the_slot(server):
    before = _metric(server, "domainlm_engine_generated_tokens")
    with httpx.Client(base_url=server.url, timeout=60) as client:
        with client.stream("POST", "/v1/chat/completions", headers=AUTH, json={**BODY, "stream": True}) as response:
            assert response.status_code == 200
            lines = response.iter_lines()  # kept: dropping the iterator would close the connection at once
            assert next(lines).startswith("data: ")  # the first chunk (the assistant role)
            _wait_for(lambda: _metric(server, "domainlm_engine_active_rows") == 1, 30, "the batch started")
        # leaving the `with` closes the connection mid-generation
    stopped_in = _wait_for(lambda: _idle(server), 10, "the engine stopped and the slot is free")
    generated = _metric(server, "domainlm_engine_generated_tokens") - before
    assert 0 < generated < MAX_TOKENS / 2, f"{generated} tokens generated after the client left"
    assert _metric(server, "domainlm_cancelled_total", '{stream="true"}') == 1
    assert stopped_in < 10
    # the freed slot serves the next request
    short = httpx.post(server.url + "/v1/chat/completions", json={**BODY, "max_tokens": 4}, headers=AUTH, timeout=60)
    assert short.status_code == 200 and short.json()["usage"]["completion_tokens"] == 4


def test_a_non_streaming_client_that_gives_up_cancels_its_generation(server):
    before = _metric(server, "domainlm_engine_generated_tokens")
    gave_up = threading.Event()

    def impatient() -> None:
        try:
            httpx.post(server.url + "/v1/chat/completions", json=BODY, headers=AUTH, timeout=httpx.Timeout(60, read=1.0))
        except httpx.ReadTimeout:
            gave_up.set()  # httpx closes the connection

    caller = threading.Thread(target=impatient)
    caller.start()
    _wait_for(lambda: _metric(server, "domainlm_engine_active_rows") == 1, 30, "the batch started")
    caller.join(30)
    assert gave_up.is_set(), "the request finished before the client's 1 s read timeout"
    _wait_for(lambda: _idle(server), 10, "the engine stopped and the slot is free")
    generated = _metric(server, "domainlm_engine_generated_tokens") - before
    assert 0 < generated < MAX_TOKENS / 2, f"{generated} tokens generated after the client left"
    assert _metric(server, "domainlm_cancelled_total", '{stream="false"}') == 1
    assert _metric(server, "domainlm_rejected_total", '{reason="client_gone"}') == 1


def test_reference_engine_stops_when_cancelled_or_closed(tiny_model, tiny_tokenizer):
    """Without batching (serve.max_batch 1) the transformers engine stops too: by the cancel scope or by closing
    its stream, and the model's lock is free right after."""
    from domainlm.generate import ENGINES, GenerationCancelled, GenerationParams, cancel_scope

    engine = ENGINES.get("transformers")(tiny_model, tiny_tokenizer)
    messages = [{"role": "user", "content": "Tell me about your whiskies."}]
    params = GenerationParams(max_new_tokens=MAX_TOKENS)
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    started = time.monotonic()
    with cancel_scope(cancel), pytest.raises(GenerationCancelled, match=f"of {MAX_TOKENS} tokens"):
        engine.generate(messages, params)
    cancelled_after = time.monotonic() - started
    assert engine._lock.acquire(timeout=1), "generation kept the model after it was cancelled"
    engine._lock.release()

    pieces = engine.stream(messages, params)
    assert isinstance(next(pieces), str)
    pieces.close()  # what the server does when the client goes away
    assert engine._lock.acquire(timeout=1), "generation kept the model after its stream was closed"
    engine._lock.release()
    full_started = time.monotonic()
    assert engine.generate(messages, GenerationParams(max_new_tokens=200)).completion_tokens == 200
    # cancelling half a second in took far less time than the whole MAX_TOKENS answer would have
    assert cancelled_after < 0.5 + (time.monotonic() - full_started) * MAX_TOKENS / 200 / 2
