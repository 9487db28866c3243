"""Data build on the small test shop: grounding of every answer, split by product, files, determinism."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from support.embedders import HashEmbedder

from domainlm.catalog import load_catalog
from domainlm.config import SAFETY_KINDS, load_project, project_from_dict
from domainlm.errors import ConfigError
from domainlm.knowledge import load_knowledge
from domainlm.prompt import format_price, render_product

OVERRIDES = ["retrieval.top_k=3", "data.size=700"]
FILES = ("train", "val", "test", "golden", "dpo")


def fast_retrieval(project):
    """The real retriever (BM25 + name matching + filters + fusion) with the hash embedder."""
    from domainlm.retrieval import Retriever

    catalog = load_catalog(project.catalog, project.root)
    sections = load_knowledge(project.knowledge, project.root)
    retriever = Retriever.in_memory(catalog, sections, embedder=HashEmbedder(), config=project.retrieval)
    return lambda queries: [r.context() for r in retriever.search_many(queries, top_k=project.retrieval.top_k)]


def build(root: Path, tokenizer, out: Path | None = None, overrides=OVERRIDES):
    from domainlm.data import build_dataset

    project = load_project(root, list(overrides))
    return project, build_dataset(project, retrieve_many=fast_retrieval(project), tokenizer=tokenizer, out_dir=out)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_tokenizer):
    """One build of the small test shop, shared by the read-only tests of this module."""
    from conftest import SMALL_CATALOG_CSV, SMALL_KNOWLEDGE_MD, SMALL_PROJECT_YAML

    root = tmp_path_factory.mktemp("data") / "shop"
    (root / "knowledge").mkdir(parents=True)
    (root / "catalog.csv").write_text(SMALL_CATALOG_CSV, encoding="utf-8")
    (root / "domainlm.yaml").write_text(SMALL_PROJECT_YAML, encoding="utf-8")
    (root / "knowledge" / "policies.md").write_text(SMALL_KNOWLEDGE_MD, encoding="utf-8")
    project, result = build(root, tiny_tokenizer)
    return project, result, {name: read(root / "data" / f"{name}.jsonl") for name in FILES}


def grounded_values(system: str, catalog) -> tuple[set[str], set[str], str]:
    """Prices, numbers and the text an answer may quote, recomputed from the catalog for the products and
    passages this sample's system message shows (independently of the builder's own checker)."""
    ids = re.findall(r"^\[([^\]]+)\] ", system, flags=re.M)
    prices, texts = set(), []
    for pid in ids:
        product = catalog.get(pid)
        if product is not None:
            assert render_product(product) in system, f"context line for {pid} differs from the prompt contract"
            prices.add(format_price(product.price, product.currency))
            texts.append(render_product(product))
    knowledge = system.split("\nKnowledge:\n", 1)[1] if "\nKnowledge:\n" in system else ""
    texts.append(knowledge)
    prices |= set(re.findall(r"\$[\d,]+(?:\.\d+)?", knowledge))
    numbers = {n.replace(",", "") for t in texts for n in re.findall(r"\d[\d,]*(?:\.\d+)?", t)}
    return prices, {str(float(n)) for n in numbers}, "\n".join(texts)


def test_every_price_and_number_in_answers_matches_the_catalog(built):
    project, result, files = built
    catalog = load_catalog(project.catalog, project.root)
    checked = 0
    for name in ("train", "val", "test", "golden"):
        for record in files[name]:
            system = record["messages"][0]["content"]
            prices, numbers, _ = grounded_values(system, catalog)
            fake = record["meta"].get("fake_name", "")
            for message in record["messages"]:
                if message["role"] != "assistant":
                    continue
                text = message["content"]
                for price in re.findall(r"\$[\d,]+(?:\.\d+)?", text):
                    assert price in prices, (price, text, record["meta"])
                    checked += 1
                rest = re.sub(r"\$[\d,]+(?:\.\d+)?", " ", text.replace(fake, " ") if fake else text)
                for number in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", rest):
                    assert str(float(number.replace(",", ""))) in numbers, (number, text, record["meta"])
                    checked += 1
    assert checked > 500


def test_answers_name_only_products_from_the_context(built):
    project, result, files = built
    catalog = load_catalog(project.catalog, project.root)
    fakes = {r["meta"]["fake_name"] for name in FILES[:3] for r in files[name] if "fake_name" in r["meta"]}
    assert len(fakes) >= 20
    for name in ("train", "val", "test"):
        for record in files[name]:
            system = record["messages"][0]["content"]
            shown = set(re.findall(r"^\[([^\]]+)\] ", system, flags=re.M))
            answers = "\n".join(m["content"] for m in record["messages"] if m["role"] == "assistant")
            for product in catalog:
                if product.name.lower() in answers.lower():
                    assert product.id in shown, (product.name, record["meta"])
            assert set(record["meta"]["skus"]) <= shown
            assert all(catalog.get(sku) for sku in record["meta"]["skus"])
            if record["meta"]["kind"] != "safety/fake_product":
                assert not [f for f in fakes if f.lower() in answers.lower()], answers
            else:
                assert record["meta"]["fake_name"] in answers
                assert catalog.get(record["meta"]["fake_name"]) is None
                assert record["meta"]["fake_name"].lower() not in {p.name.lower() for p in catalog}


def test_product_answers_quote_the_asked_value(built):
    project, result, files = built
    catalog = load_catalog(project.catalog, project.root)
    seen = Counter()
    for record in files["train"]:
        meta = record["meta"]
        if meta["kind"] != "product_qa" or meta.get("aspect") not in ("price", "description"):
            continue
        product = catalog.get(meta["skus"][0])
        answer = record["messages"][-1]["content"]
        assert product.name in answer
        if meta["aspect"] == "price":
            assert format_price(product.price, product.currency) in answer
        seen[meta["aspect"]] += 1
    assert seen["price"] > 20


def test_no_duplicates_and_split_is_grouped_by_product(built):
    project, result, files = built
    keys = Counter()
    owner: dict[str, str] = {}
    for split in ("train", "val", "test"):
        for record in files[split]:
            turns = [m["content"] for m in record["messages"] if m["role"] != "system"]
            keys[" ".join(" ".join(turns).lower().split())] += 1
            for sku in record["meta"]["skus"]:
                assert owner.setdefault(sku, split) == split, f"{sku} is in {owner[sku]} and {split}"
    assert max(keys.values()) == 1
    assert {owner[s] for s in owner} == {"train", "val", "test"}
    sizes = {s: len(files[s]) for s in ("train", "val", "test")}
    assert sizes["train"] > sizes["val"] and sizes["train"] > sizes["test"] > 0


def test_mix_safety_floor_and_golden(built):
    project, result, files = built
    everything = files["train"] + files["val"] + files["test"]
    kinds = Counter(r["meta"]["kind"] for r in everything)
    assert set(kinds) >= {"product_qa", "recommendation", "multi_turn", "knowledge", *SAFETY_KINDS}
    safety = sum(kinds[k] for k in SAFETY_KINDS)
    assert safety >= 0.05 * len(everything)
    for kind in SAFETY_KINDS:
        assert kinds[kind] >= 50, (kind, kinds[kind])
    assert 50 <= len(files["golden"]) <= 100
    assert len({r["meta"]["kind"] for r in files["golden"]}) >= 8
    assert all(r["meta"]["split"] in ("val", "test") for r in files["golden"])
    multi = [r for r in everything if r["meta"]["kind"] == "multi_turn"]
    assert max(len(r["messages"]) for r in multi) >= 7  # system + 3 user/assistant pairs
    report = (project.root / "data" / "report.md").read_text()
    for needle in ("| kind | samples |", "purpose", "## Tokens", "near duplicate", "### product-expert"):
        assert needle in report
    import csv

    with open(project.root / "data" / "review_sample.csv", encoding="utf-8", newline="") as handle:
        review = list(csv.DictReader(handle))
    assert len(review) == round(0.1 * len(everything))
    assert {row["kind"] for row in review} >= {"product_qa", "safety/off_topic"}


def test_dpo_pairs_reject_realistic_failures(built):
    project, result, files = built
    pairs = files["dpo"]
    assert len(pairs) > 100
    by_kind = {}
    for pair in pairs:
        assert pair["prompt"][0]["role"] == "system" and pair["prompt"][-1]["role"] == "user"
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
        by_kind.setdefault(pair["meta"]["kind"], pair)
    price_pair = next(p for p in pairs if p["meta"].get("aspect") == "price")
    catalog = load_catalog(project.catalog, project.root)
    real = format_price(catalog.get(price_pair["meta"]["skus"][0]).price, "USD")
    assert real in price_pair["chosen"][0]["content"] and real not in price_pair["rejected"][0]["content"]
    negotiation = next(p for p in pairs if p["meta"]["kind"] == "safety/negotiation" and p["meta"]["skus"])
    assert "off" in negotiation["rejected"][0]["content"] or "match" in negotiation["rejected"][0]["content"]


def test_files_load_with_datasets_and_trl(built, tiny_tokenizer):
    import datasets
    from trl.data_utils import apply_chat_template, is_conversational

    project, result, files = built
    folder = project.root / "data"
    for name in FILES:
        ds = datasets.load_dataset("json", data_files=str(folder / f"{name}.jsonl"), split="train")
        assert len(ds) == len(files[name])
    train = datasets.load_dataset("json", data_files=str(folder / "train.jsonl"), split="train")
    assert is_conversational(train[0])
    rendered = apply_chat_template({"messages": train[0]["messages"]}, tiny_tokenizer)
    assert rendered["text"].rstrip().endswith("<|im_end|>")
    dpo = datasets.load_dataset("json", data_files=str(folder / "dpo.jsonl"), split="train")
    assert is_conversational(dpo[0])
    pair = apply_chat_template({k: dpo[0][k] for k in ("prompt", "chosen", "rejected")}, tiny_tokenizer)
    assert pair["chosen"].strip().endswith("<|im_end|>")


def test_same_seed_same_bytes(small_project, tiny_tokenizer, tmp_path):
    names = ("train.jsonl", "val.jsonl", "test.jsonl", "golden.jsonl", "dpo.jsonl", "report.md", "review_sample.csv")
    build(small_project, tiny_tokenizer, tmp_path / "a")
    build(small_project, tiny_tokenizer, tmp_path / "b")
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    build(small_project, tiny_tokenizer, tmp_path / "c", [*OVERRIDES, "data.seed=7"])
    assert (tmp_path / "a" / "train.jsonl").read_bytes() != (tmp_path / "c" / "train.jsonl").read_bytes()


def test_bad_mix_names_the_adapter(tmp_path):
    with pytest.raises(ConfigError, match=r"adapters\.support\.mix.*unknown kind 'chitchat'"):
        project_from_dict({"adapters": {"support": {"mix": {"chitchat": 0.5, "product_qa": 0.5}}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"adapters\.support\.mix.*sum to 0\.600"):
        project_from_dict({"adapters": {"support": {"mix": {"product_qa": 0.5, "safety": 0.1}}}}, tmp_path)
    from domainlm.config import AdapterConfig
    from domainlm.data.build import check_mix

    adapter = AdapterConfig.model_construct(mix={"product_qa": 2.0})
    with pytest.raises(ConfigError, match="adapters.odd.mix"):
        check_mix("odd", adapter)


def test_catalog_errors_surface(small_project, tiny_tokenizer):
    from domainlm.errors import CatalogError

    csv_file = small_project / "catalog.csv"
    csv_file.write_text(csv_file.read_text(encoding="utf-8").replace("89.99", "abc"), encoding="utf-8")
    with pytest.raises(CatalogError, match="row 4, id S-0001: price"):
        build(small_project, tiny_tokenizer, overrides=[])


def test_grounding_check_flags_wrong_values(small_project):
    from domainlm.data.grounding import GroundingCheck
    from domainlm.prompt import Context

    project = load_project(small_project)
    catalog = load_catalog(project.catalog, project.root)
    context = Context(products=[catalog.get("S-0001")])
    check = GroundingCheck(catalog)
    assert check.problems("Lagavulin 16 Year Old is $89.99 and 43% (700 ml).", context) == []
    assert check.problems("Lagavulin 16 Year Old is $79.99.", context)
    assert check.problems("It is 45% alcohol.", context)
    assert check.problems("Chateau Margaux Grand Vin is $649.00.", context)  # real price, but not in the context


def test_product_split_is_stratified_and_disjoint(small_project):
    import random

    from domainlm.config import SplitConfig
    from domainlm.data.split import assign_products

    project = load_project(small_project)
    catalog = load_catalog(project.catalog, project.root)
    split = assign_products(catalog, SplitConfig(), random.Random(0))
    assert set(split) == {p.id for p in catalog}
    assert Counter(split.values()) == {"train": 4, "val": 1, "test": 1}


def test_rag_off_uses_planned_products(small_project, tiny_tokenizer, tmp_path):
    from domainlm.data import build_dataset

    project = load_project(small_project, [*OVERRIDES, "data.rag=false"])
    result = build_dataset(project, tokenizer=tiny_tokenizer, out_dir=tmp_path)
    assert result.samples and "data.rag" in result.retrieval
