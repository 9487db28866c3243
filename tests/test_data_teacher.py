"""The teacher: a real local OpenAI-compatible server (llama.cpp serving SmolLM2), an unreachable one, and
one that answers garbage. Every accepted teacher output must pass the catalog checks."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.net import free_port
from test_data import FILES, build, grounded_values, read

TEACHER_OVERRIDES = ["retrieval.top_k=3", "data.size=400", "data.teacher.model=smollm2",
                     "data.teacher.max_retries=1", "data.teacher.timeout_s=60"]



class GarbageHandler(BaseHTTPRequestHandler):
    """An OpenAI-shaped endpoint whose answers are nonsense with invented prices."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "teacher",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": "Buy 12 bottles at $1.23 now!!"}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_garbage_teacher_is_rejected_and_counted(small_project, tiny_tokenizer):
    server = ThreadingHTTPServer(("127.0.0.1", 0), GarbageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        project, result = build(small_project, tiny_tokenizer,
                                overrides=[*TEACHER_OVERRIDES, f"data.teacher.base_url={url}"])
    finally:
        server.shutdown()
    stats = result.teacher
    assert stats.accepted == 0 and stats.rejected_total >= 20
    assert "garbage" in stats.stopped
    assert all(s.meta["source"] == "template" for s in result.samples)
    assert "## Teacher" in (small_project / "data" / "report.md").read_text()


def test_unreachable_teacher_loses_nothing(small_project, tiny_tokenizer):
    url = f"http://127.0.0.1:{free_port()}/v1"
    project, result = build(small_project, tiny_tokenizer, overrides=[*TEACHER_OVERRIDES, f"data.teacher.base_url={url}"])
    assert "unreachable" in result.teacher.stopped and url in result.teacher.stopped
    assert len(read(small_project / "data" / "train.jsonl")) > 300


@pytest.mark.slow
def test_real_teacher_outputs_are_checked_cached_and_resumed(small_project, tiny_tokenizer, llama_server):
    from domainlm.catalog import load_catalog

    overrides = [*TEACHER_OVERRIDES, f"data.teacher.base_url={llama_server}", "data.teacher.share=0.01",
                 "data.teacher.timeout_s=180", "data.teacher.max_retries=2"]
    project, first = build(small_project, tiny_tokenizer, overrides=overrides)
    stats = first.teacher
    assert stats.stopped is None, stats.stopped
    answered = stats.accepted + stats.rejected_total
    assert answered >= 8 and answered <= stats.requests
    cache = small_project / "data" / ".cache" / "teacher"
    assert len(list(cache.rglob("*.json"))) == answered
    # Everything the teacher wrote that was kept passes the same catalog checks as template answers.
    catalog = load_catalog(project.catalog, project.root)
    for name in FILES[:3]:
        for record in read(small_project / "data" / f"{name}.jsonl"):
            if record["meta"]["source"] != "teacher":
                continue
            prices, numbers, _ = grounded_values(record["messages"][0]["content"], catalog)
            import re

            for price in re.findall(r"\$[\d,]+(?:\.\d+)?", record["messages"][-1]["content"]):
                assert price in prices
    # A rerun answers every request from the cache: same files, no new requests.
    before = (small_project / "data" / "train.jsonl").read_bytes()
    _, second = build(small_project, tiny_tokenizer, overrides=overrides)
    assert second.teacher.requests == 0 and second.teacher.cached == answered
    assert (small_project / "data" / "train.jsonl").read_bytes() == before
