"""Schemathesis against the server's own OpenAPI document: generated requests (schema-valid and invalid) on
every operation, bounded examples, must get documented statuses and bodies, OpenAI-shaped errors, no 5xx.

Schemathesis' pytest plugin does not run under pytest 9, so the test walks the operations itself and
runs each one's Hypothesis strategy (the same checks: `case.call_and_validate`).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from domainlm.config import load_project
from domainlm.serve import create_app
from test_serve_support import ADMIN_KEY, API_KEY, ENV, make_serve_project

MAX_EXAMPLES = int(os.environ.get("DOMAINLM_SCHEMATHESIS_EXAMPLES", "15"))
SCHEMA_YAML = """
adapters:
  product-expert: {description: products}
  support-agent: {description: support}
serve:
  backend: transformers
  max_tokens: 4
  rate_limit_per_minute: 100000
  catalog_poll_s: 0
"""


def _check(operation, mode) -> str | None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case):
        key = ADMIN_KEY if case.path.startswith("/admin") else API_KEY
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"})

    try:
        run()
    except Unsatisfiable:  # no invalid input exists for an operation without parameters
        return None
    except Exception as exc:  # schemathesis' FailureGroup: collected so every operation is tried
        return f"{operation.label} [{mode.value}]: {exc}"
    return None


def _conforms(project, assistant=None) -> None:
    app = create_app(project, assistant, env=ENV, watch_catalog=False)
    try:
        # A 200 is JSON or, with stream=true, server-sent events: both documented (schemathesis checks that the
        # received content type is documented, but only when its random inputs happen to stream).
        ok = app.openapi()["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
        assert {"application/json", "text/event-stream"} <= set(ok), ok
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /v1/chat/completions", "GET /v1/models",
                                                  "POST /admin/adapters", "POST /admin/catalog/reload"}
        failures = [f for op in operations for mode in schemathesis.GenerationMode if (f := _check(op, mode))]
    finally:
        app.state.service.close()
    assert not failures, "\n\n".join(failures)


def test_api_conforms_to_its_openapi_document(tmp_path):
    """The serving layer alone, on a scripted assistant (fast)."""
    from test_serve_limits import ScriptedAssistant, _project

    _conforms(_project(tmp_path, rate_limit_per_minute=100000), ScriptedAssistant())


@pytest.mark.slow
def test_api_on_the_tiny_pipeline_conforms_to_its_openapi_document(tmp_path, tiny_tokenizer):
    """The whole pipeline (guard, retrieval, tiny model with two adapters, verifier) behind the API."""
    root = make_serve_project(tmp_path / "shop", tiny_tokenizer, SCHEMA_YAML)
    _conforms(load_project(root))
