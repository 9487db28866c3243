"""Helpers for the server tests: a tiny-model shop with two LoRA runs, and a uvicorn server in a thread."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

from conftest import (
    SMALL_CATALOG_CSV,
    SMALL_KNOWLEDGE_MD,
    SMALL_PROJECT_YAML,
    build_tiny_model,
)
from support.net import free_port

ADAPTERS = ("product-expert", "support-agent")
API_KEY = "test-key-1"
ADMIN_KEY = "test-admin-key"
ENV = {"DOMAINLM_API_KEYS": f"{API_KEY},test-key-2", "DOMAINLM_ADMIN_KEY": ADMIN_KEY}

SERVE_YAML = """
adapters:
  product-expert: {description: products}
  support-agent: {description: support}
serve:
  backend: transformers
  max_tokens: 24
  catalog_poll_s: 0.2
"""


def write_lora_run(root: Path, base_dir: Path, tokenizer, name: str, seed: int, run_id: str | None = None) -> Path:
    """A fake finished SFT run: runs/<id>/adapter (a random PEFT LoRA on the tiny model) + run.json."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    run_id = run_id or f"20260101-0000{seed}-{name}-sft"
    run_dir = root / "runs" / run_id
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    # init_lora_weights=False: B is random too, so each adapter really changes the output.
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                        task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(run_dir / "adapter")
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": run_id, "adapter": name, "stage": "sft", "status": "finished",
        "started_at": f"2026-01-01T00:00:0{seed}", "finished_at": f"2026-01-01T00:01:0{seed}",
    }), encoding="utf-8")
    return run_dir


def make_serve_project(root: Path, tokenizer, extra_yaml: str = SERVE_YAML) -> Path:
    """The 6-product test shop on a tiny random model, with one finished run per adapter in ADAPTERS."""
    (root / "knowledge").mkdir(parents=True)
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV, encoding="utf-8")
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD, encoding="utf-8")
    model_dir = root / "tiny-model"
    build_tiny_model(tokenizer).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    yaml_text = SMALL_PROJECT_YAML.replace("base_model: smollm2-135m", f"base_model: {model_dir}") + extra_yaml
    (root / "domainlm.yaml").write_text(yaml_text, encoding="utf-8")
    for seed, name in enumerate(ADAPTERS, start=1):
        write_lora_run(root, model_dir, tokenizer, name, seed)
    return root



class ServerThread:
    """uvicorn serving `app` on 127.0.0.1:<free port> in a daemon thread; `stop()` shuts it down."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    @property
    def service(self):
        return self.app.state.service


PRICE = re.compile(r"\$\s?([0-9][0-9,]*(?:\.[0-9]{1,2})?)")


def prices_in(text: str) -> list[float]:
    """Every `$12.34`-style price in a text, as numbers."""
    return [float(m.replace(",", "")) for m in PRICE.findall(text)]


def catalog_prices(root: Path) -> set[float]:
    import csv

    with open(root / "catalog.csv", encoding="utf-8") as handle:
        return {float(row["price"]) for row in csv.DictReader(handle)}
