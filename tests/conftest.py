"""Shared fixtures: an isolated DOMAINLM_HOME, a tiny random causal LM, and a small test catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Real servers the tests start themselves: PostgreSQL (from Debian packages) and a llama.cpp OpenAI server.
pytest_plugins = ["support.postgres", "support.llama_server"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ASSETS = Path(__file__).parent / "assets"

# A session-wide DOMAINLM_HOME so the real base model is converted once per test run, never in ~/.cache.
_SESSION_HOME = os.environ.get("DOMAINLM_TEST_HOME")


@pytest.fixture(scope="session", autouse=True)
def domainlm_home(tmp_path_factory) -> Path:
    home = Path(_SESSION_HOME) if _SESSION_HOME else tmp_path_factory.mktemp("domainlm-home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DOMAINLM_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """SmolLM2's real tokenizer and chat template, from tests/assets (no model weights)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ASSETS / "tokenizer")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def build_tiny_model(tokenizer, seed: int = 0):
    """A 2-layer, 64-wide Llama with random weights and SmolLM2's vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture()
def tiny_model(tiny_tokenizer):
    return build_tiny_model(tiny_tokenizer)


@pytest.fixture()
def tiny_model_dir(tmp_path, tiny_tokenizer) -> Path:
    """A tiny random model saved as a Hugging Face folder, usable as `base_model:` in a project."""
    folder = tmp_path / "tiny-model"
    build_tiny_model(tiny_tokenizer).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


SMALL_CATALOG_CSV = """\
sku,name,category,price,in_stock,abv,volume_ml,region,notes
W-0001,Chateau Margaux Grand Vin,Red Wine,649.00,3,13.5,750,Bordeaux,Elegant and layered with violet and cassis.
W-0002,Cloudy Bay Sauvignon Blanc,White Wine,27.99,24,13,750,Marlborough,Zesty lime and passion fruit.
W-0003,Marques de Riscal Reserva,Red Wine,19.50,0,14,750,Rioja,Vanilla and red cherry from American oak.
S-0001,Lagavulin 16 Year Old,Whisky,89.99,5,43,700,Islay,Peat smoke and sea salt.
S-0002,Hendrick's Gin,Gin,34.00,12,41.4,700,Scotland,Cucumber and rose.
P-0001,Moet & Chandon Imperial Brut,Sparkling,49.99,8,12,750,Champagne,Green apple and brioche.
"""

SMALL_PROJECT_YAML = """\
name: test-shop
base_model: smollm2-135m
catalog:
  source: catalog.csv
  id_column: sku
  name_column: name
  price_column: price
  currency: USD
  category_column: category
  stock_column: in_stock
  description_column: notes
  fields:
    - {column: abv, label: alcohol, unit: "%"}
    - {column: volume_ml, label: volume, unit: ml}
    - {column: region, label: region}
knowledge: [knowledge/*.md]
brand:
  assistant_name: Vera
  shop_name: Test Cellars
  voice: warm and concise
  domain: wine and spirits from our shop
  competitors: [Total Wine]
"""

SMALL_KNOWLEDGE_MD = """\
# Shipping and returns
## Shipping
We ship within 2 business days. Shipping is free on orders over $99.
## Returns
Corked bottles can be returned within 30 days.
# Age policy
You must be 21 or older to order. We check ID on delivery.
"""


@pytest.fixture()
def small_project(tmp_path) -> Path:
    """A 6-product shop folder with a project file and one knowledge document; returns the folder."""
    root = tmp_path / "shop"
    (root / "knowledge").mkdir(parents=True)
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV, encoding="utf-8")
    (root / "domainlm.yaml").write_text(SMALL_PROJECT_YAML, encoding="utf-8")
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD, encoding="utf-8")
    return root
