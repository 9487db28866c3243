"""The serving layer's protection and error shapes, on a scripted assistant (no model): auth, rate limit,
bounded queue, timeouts, disconnects, request caps, OpenAI error objects and metrics."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from domainlm.config import ProjectConfig
from domainlm.prompt import Context
from domainlm.serve import create_app
from domainlm.serve.limits import Admission, QueueFull, RateLimiter
from test_serve_support import ServerThread

KEY, ADMIN = "k-1", "admin-1"
ENV = {"DOMAINLM_API_KEYS": KEY, "DOMAINLM_ADMIN_KEY": ADMIN}
AUTH = {"Authorization": f"Bearer {KEY}"}


@dataclass
class _Verdict:
    kind: str = "ok"
    score: float = 0.0
    action: str = "allow"


@dataclass
class _Report:
    mode: str = "repair"
    actions: list = field(default_factory=list)


@dataclass
class _Answer:
    text: str
    context: Context = field(default_factory=Context)
    messages: list = field(default_factory=list)
    prompt_tokens: int = 7
    completion_tokens: int = 3
    finish_reason: str = "stop"
    timings_ms: dict = field(default_factory=dict)
    guard: _Verdict = field(default_factory=_Verdict)
    verifier: _Report = field(default_factory=_Report)
    cache_hit: bool = False
    catalog_version: str = "v1"
    adapter: str | None = None


class ScriptedAssistant:
    """Answers `echo: <user>` after `delay` seconds; streams it word by word; counts finished generations."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.adapters = ["expert"]
        self.catalog_version = "v1"
        self.finished = 0
        self.stream_stopped = threading.Event()
        self.engine = object()

    def answer(self, user, history=(), params=None, adapter=None):
        time.sleep(self.delay)
        self.finished += 1
        return _Answer(text=f"echo: {user}", adapter=adapter)

    def stream(self, user, history=(), params=None, adapter=None):
        try:
            for word in f"echo: {user}".split(" "):
                time.sleep(self.delay)
                yield word + " "
            yield _Answer(text=f"echo: {user}", adapter=adapter)
        finally:
            self.stream_stopped.set()

    def load_adapter(self, name, run_dir):
        self.adapters.append(name)

    def reload_catalog(self):
        self.catalog_version = "v2"
        return "v2"


def _project(tmp_path, **serve) -> ProjectConfig:
    project = ProjectConfig.model_validate({"base_model": "smollm2-135m", "serve": {"catalog_poll_s": 0, **serve}})
    project._root = tmp_path
    return project


def _body(**extra) -> dict:
    return {"model": "smollm2-135m", "messages": [{"role": "user", "content": "hello"}], **extra}


def _serve(tmp_path, assistant=None, **serve) -> ServerThread:
    return ServerThread(create_app(_project(tmp_path, **serve), assistant or ScriptedAssistant(), env=ENV))


def _assert_openai_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if code is not None:
        assert error["code"] == code
    return error


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.take("a") is None and limiter.take("a") is None
    wait = limiter.take("a")
    assert wait == pytest.approx(30.0)
    assert limiter.take("b") is None  # per key
    now[0] = 30.0
    assert limiter.take("a") is None


def test_admission_counts_waiting_and_running():
    admission = Admission(workers=1, queue_size=1)
    admission.enter()
    admission.start()
    admission.enter()
    assert admission.queue_depth == 1
    with pytest.raises(QueueFull):
        admission.enter()
    admission.leave(started=True)
    admission.leave(started=False)
    assert admission.pending == 0 and admission.running == 0


def test_auth_errors_and_openai_error_shapes(tmp_path):
    with _serve(tmp_path) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        _assert_openai_error(client.post("/v1/chat/completions", json=_body()), 401, "invalid_api_key")
        _assert_openai_error(client.post("/v1/chat/completions", json=_body(), headers={"Authorization": "Bearer x"}),
                             401)
        ok = client.post("/v1/chat/completions", json=_body(), headers=AUTH)
        assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "echo: hello"
        # malformed JSON -> 400 (not FastAPI's 422)
        bad = client.post("/v1/chat/completions", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
        _assert_openai_error(bad, 400, "invalid_json")
        # schema errors -> 400 naming the parameter
        error = _assert_openai_error(client.post("/v1/chat/completions", json=_body(temperature=5), headers=AUTH), 400)
        assert error["param"] == "temperature"
        error = _assert_openai_error(client.post("/v1/chat/completions", json={"model": "x"}, headers=AUTH), 400)
        assert error["param"] == "messages"
        # unknown model -> 404 listing the available ones
        error = _assert_openai_error(client.post("/v1/chat/completions", json=_body(model="nope"), headers=AUTH), 404,
                                     "model_not_found")
        assert "smollm2-135m" in error["message"] and "expert" in error["message"]
        _assert_openai_error(client.get("/nowhere"), 404)
        # admin: wrong key, right key
        _assert_openai_error(client.post("/admin/catalog/reload", headers=AUTH), 401)
        reload = client.post("/admin/catalog/reload", headers={"Authorization": f"Bearer {ADMIN}"})
        assert reload.status_code == 200 and reload.json()["catalog_version"] == "v2"


def test_request_size_cap_and_max_tokens_cap(tmp_path):
    seen = {}

    class Recording(ScriptedAssistant):
        def answer(self, user, history=(), params=None, adapter=None):
            seen["max_new_tokens"] = params.max_new_tokens
            return super().answer(user, history, params, adapter)

    with _serve(tmp_path, Recording(), max_request_bytes=2000, max_tokens=32) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        big = _body(messages=[{"role": "user", "content": "x" * 5000}])
        _assert_openai_error(client.post("/v1/chat/completions", json=big, headers=AUTH), 413, "request_too_large")
        assert client.post("/v1/chat/completions", json=_body(max_tokens=5000), headers=AUTH).status_code == 200
        assert seen["max_new_tokens"] == 32


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    with _serve(tmp_path, rate_limit_per_minute=3) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        codes = [client.post("/v1/chat/completions", json=_body(), headers=AUTH).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/v1/chat/completions", json=_body(), headers=AUTH)
        _assert_openai_error(limited, 429, "rate_limit_exceeded")
        assert int(limited.headers["Retry-After"]) >= 1


def test_full_queue_answers_503_instead_of_growing(tmp_path):
    assistant = ScriptedAssistant(delay=1.5)
    with _serve(tmp_path, assistant, workers=1, queue_size=1) as server:
        results: list[int] = []

        def call():
            with httpx.Client(base_url=server.url, timeout=20) as client:
                results.append(client.post("/v1/chat/completions", json=_body(), headers=AUTH).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        for thread in threads:
            thread.join()
        assert sorted(results) == [200, 200, 503, 503]
        assert server.service.admission.pending == 0
        metrics = httpx.get(server.url + "/metrics").text
        assert 'domainlm_rejected_total{reason="queue_full"} 2.0' in metrics


def test_timeout_answers_504(tmp_path):
    with _serve(tmp_path, ScriptedAssistant(delay=2.0), timeout_s=0.5) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        _assert_openai_error(client.post("/v1/chat/completions", json=_body(), headers=AUTH), 504, "timeout")


def test_client_disconnect_stops_streaming_and_frees_the_slot(tmp_path):
    assistant = ScriptedAssistant(delay=0.3)
    long = " ".join(["word"] * 60)
    with _serve(tmp_path, assistant, workers=1, queue_size=0) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            with client.stream("POST", "/v1/chat/completions", headers=AUTH,
                               json=_body(stream=True, messages=[{"role": "user", "content": long}])) as response:
                lines = response.iter_lines()
                assert next(lines).startswith("data: ")
            # the connection is closed here, long before the 60 words are streamed
        assert assistant.stream_stopped.wait(5), "generation kept going after the client left"
        deadline = time.monotonic() + 5
        while server.service.admission.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.service.admission.pending == 0
        # the only slot is free again
        assert httpx.post(server.url + "/v1/chat/completions", json=_body(), headers=AUTH, timeout=10).status_code == 200


def test_stream_chunks_and_metrics(tmp_path):
    with _serve(tmp_path) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        with client.stream("POST", "/v1/chat/completions", headers=AUTH,
                           json=_body(stream=True, stream_options={"include_usage": True})) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text.strip() == "echo: hello"
        assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["domainlm"]["catalog_version"] == "v1"
        assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        metrics = client.get("/metrics").text
        for name in ("domainlm_requests_total", "domainlm_request_latency_seconds_bucket", "domainlm_tokens_total",
                     "domainlm_cache_lookups_total", "domainlm_guard_verdicts_total", "domainlm_queue_depth",
                     "domainlm_time_to_first_token_seconds_bucket"):
            assert name in metrics
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["adapters"] == ["expert"]


def test_catalog_watcher_reloads_on_change_and_survives_a_failed_reload(tmp_path):
    from domainlm.serve.watcher import CatalogWatcher, catalog_file

    assert catalog_file("postgresql://u@h/db", tmp_path) is None
    source = tmp_path / "catalog.csv"
    source.write_text("sku,price\nA,1\n")
    calls: list[str] = []

    def reload() -> str:
        calls.append(source.read_text())
        if "broken" in calls[-1]:
            raise ValueError("half-written file")
        return f"v{len(calls)}"

    watcher = CatalogWatcher("catalog.csv", tmp_path, reload, poll_s=0.05).start()
    try:
        time.sleep(0.2)
        assert calls == []  # nothing changed yet
        source.write_text("sku,price\nbroken\n")
        deadline = time.monotonic() + 5
        while len(calls) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        source.write_text("sku,price\nA,2\n")
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls[-1] == "sku,price\nA,2\n"  # the watcher kept going after the failed reload
    finally:
        watcher.stop()
