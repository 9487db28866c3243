"""Helpers for the training tests: small chat datasets and tiny projects (no tests here)."""

from __future__ import annotations

import json
import random
from pathlib import Path

PRODUCTS = [
    ("W-0001", "Chateau Margaux Grand Vin", "649.00", "Red Wine"),
    ("W-0002", "Cloudy Bay Sauvignon Blanc", "27.99", "White Wine"),
    ("W-0003", "Marques de Riscal Reserva", "19.50", "Red Wine"),
    ("S-0001", "Lagavulin 16 Year Old", "89.99", "Whisky"),
    ("S-0002", "Hendrick's Gin", "34.00", "Gin"),
    ("P-0001", "Moet & Chandon Imperial Brut", "49.99", "Sparkling"),
]
SYSTEM = "You are Vera, the assistant of Test Cellars. Quote prices only from the context."


def chat_sample(rng: random.Random, adapter: str | None = "product-expert", turns: int = 1) -> dict:
    messages = []
    sku, name, price, category = rng.choice(PRODUCTS)
    context = "\n".join(f"[{p[0]}] {p[1]} | price: ${p[2]} | category: {p[3]}" for p in rng.sample(PRODUCTS, 3))
    messages.append({"role": "system", "content": f"{SYSTEM}\n\nProducts:\n{context}"})
    for _ in range(turns):
        sku, name, price, category = rng.choice(PRODUCTS)
        messages.append({"role": "user", "content": rng.choice(["How much is", "Price of", "What does it cost:"]) + f" {name}?"})
        messages.append({"role": "assistant", "content": f"{name} ({sku}) is ${price}. It is a {category.lower()}."})
    meta = {"kind": rng.choice(["product_qa", "multi_turn"]), "source": "template", "skus": [sku]}
    if adapter:
        meta["adapter"] = adapter
    return {"messages": messages, "meta": meta}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_train_project(root: Path, base_model: Path, n_train: int = 48, n_val: int = 12, train: dict | None = None,
                       dpo: int = 0, seed: int = 0) -> Path:
    """A project folder with data/{train,val}.jsonl for two adapters and a tiny base model."""
    import yaml

    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    adapters = ["product-expert", "support-agent"]
    rows = [chat_sample(rng, adapters[i % 2], turns=1 + i % 2) for i in range(n_train)]
    rows.append(chat_sample(rng, None))  # shared by all adapters
    write_jsonl(root / "data" / "train.jsonl", rows)
    write_jsonl(root / "data" / "val.jsonl", [chat_sample(rng, adapters[i % 2]) for i in range(n_val)])
    if dpo:
        pairs = []
        for i in range(dpo):
            s = chat_sample(rng, "product-expert")
            pairs.append({"prompt": s["messages"][:-1], "chosen": [s["messages"][-1]],
                          "rejected": [{"role": "assistant", "content": "It is $1.00, a bargain!"}],
                          "meta": {"kind": "safety/negotiation", "adapter": "product-expert", "source": "template"}})
        write_jsonl(root / "data" / "dpo.jsonl", pairs)
    config = {
        "name": "test-shop",
        "base_model": str(base_model),
        "adapters": {"product-expert": {"mix": {"product_qa": 1.0}}, "support-agent": {"mix": {"product_qa": 1.0}}},
        "train": {"max_seq_len": 256, "batch_size": 4, "max_steps": 6, "eval_every": 3, "save_every": 3,
                  "lr": 2e-3, "warmup_ratio": 0.1, "lora_r": 8, "lora_alpha": 16, "bf16": "off", **(train or {})},
    }
    (root / "domainlm.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


def mark_interrupted(root: Path, run_id: str) -> None:
    """Make a finished run look like one killed mid-way, so `--resume` picks it up."""
    path = root / "runs" / run_id / "run.json"
    info = json.loads(path.read_text())
    info["status"] = "interrupted"
    path.write_text(json.dumps(info))
