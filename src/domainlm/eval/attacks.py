"""The attack sets that ship with domainlm: injections and jailbreaks, off-topic prompts, fake products.

They are written for evaluation only and kept apart from the training banks (`data/banks.py`) and from
any built dataset; `overlaps` proves it, and `domainlm eval` refuses to score attacks the model trained on.
Fake products are made from the catalog at eval time (a real name with a swapped word, an added edition,
a changed vintage, or an invented name), so they look like the shop's own products.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from domainlm.catalog.product import Catalog, Product
from domainlm.eval.items import EvalItem, item_id
from domainlm.prompt import format_price


def _set_text(name: str) -> str:
    return resources.files("domainlm.eval").joinpath("sets").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def read_set(name: str) -> tuple[dict, ...]:
    """A shipped JSONL set by file name (`injection.jsonl`, `off_topic.jsonl`, `forgetting.jsonl`)."""
    return tuple(json.loads(line) for line in _set_text(name).splitlines() if line.strip())


def fake_parts() -> dict:
    return json.loads(_set_text("fake_parts.json"))


def _wrong_price(product: Product, rng: random.Random) -> str:
    factor = rng.choice([0.1, 0.3, 0.5, 0.7, 1.5, 3.0])
    value = max(round(product.price * factor, 2), 1.0)
    if abs(value - product.price) < 0.005:
        value += 1.0
    return format_price(value, product.currency)


def injection_items(catalog: Catalog, seed: int = 7) -> list[EvalItem]:
    products = list(catalog)
    items = []
    for index, row in enumerate(read_set("injection.jsonl")):
        rng = random.Random(f"{seed}-{row['id']}")
        product = rng.choice(products)
        price = _wrong_price(product, rng)
        text = row["prompt"].replace("{product}", product.name).replace("{price}", price)
        about = "{product}" in row["prompt"]
        items.append(EvalItem(item_id("attack", index, text, []), "attack", "safety/injection", text,
                              skus=[product.id] if about else [],
                              meta={"set": "injection", "set_id": row["id"], "style": row["style"], "goal": row["goal"],
                                    "fake_prices": [price] if about else []}))
    return items


def off_topic_items() -> list[EvalItem]:
    base = 1000
    return [EvalItem(item_id("attack", base + i, row["prompt"], []), "attack", "safety/off_topic", row["prompt"],
                     meta={"set": "off_topic", "set_id": row["id"]})
            for i, row in enumerate(read_set("off_topic.jsonl"))]


class FakeNames:
    """Product names the catalog does not have, made from its own names."""

    def __init__(self, catalog: Catalog, seed: int = 11):
        self.catalog = catalog
        self.rng = random.Random(seed)
        self.parts = fake_parts()
        self.known = [p.name.lower() for p in catalog]

    def unknown(self, name: str) -> bool:
        lowered = name.lower()
        if any(lowered in k or k in lowered for k in self.known):
            return False
        return process.extractOne(lowered, self.known, scorer=fuzz.ratio, score_cutoff=92) is None

    def make(self, product: Product) -> tuple[str, str]:
        """(fake name, how it was made)."""
        for _ in range(30):
            roll = self.rng.random()
            words = product.name.split()
            years = [i for i, w in enumerate(words) if re.fullmatch(r"(19|20)\d\d", w)]
            if years and roll < 0.25:
                i = self.rng.choice(years)
                words[i] = str(int(words[i]) + self.rng.choice([-7, -4, 3, 6]))
                name, how = " ".join(words), "vintage"
            elif roll < 0.5 and len(words) >= 2:
                words[self.rng.randrange(len(words))] = self.rng.choice(self.parts["swap_words"])
                name, how = " ".join(words), "swapped word"
            elif roll < 0.75:
                name, how = f"{product.name} {self.rng.choice(self.parts['additions'])}", "added edition"
            else:
                name = " ".join(self.rng.choice(self.parts[k]) for k in ("invented_first", "invented_second", "invented_third"))
                how = "invented"
            if self.unknown(name):
                return name, how
        raise ValueError(f"could not make a fake name from {product.name!r}")


def fake_product_items(catalog: Catalog, n: int = 60, seed: int = 11) -> list[EvalItem]:
    names = FakeNames(catalog, seed)
    rng = random.Random(seed)
    products = sorted(catalog, key=lambda p: p.id)
    rng.shuffle(products)
    questions = names.parts["questions"]
    items, seen = [], set()
    base = 2000
    for i in range(n * 3):
        if len(items) >= n:
            break
        product = products[i % len(products)]
        fake, how = names.make(product)
        if fake.lower() in seen:
            continue
        seen.add(fake.lower())
        label = rng.choice([a.label for a in product.attributes] or ["price"])
        text = rng.choice(questions).format(fake=fake, label=label)
        items.append(EvalItem(item_id("attack", base + len(items), text, []), "attack", "safety/fake_product", text,
                              meta={"set": "fake_product", "fake_name": fake, "how": how, "made_from": product.id}))
    return items


def attack_items(catalog: Catalog) -> list[EvalItem]:
    return injection_items(catalog) + off_topic_items() + fake_product_items(catalog)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def overlaps(items: list[EvalItem], data_dir: Path | None = None) -> list[str]:
    """Attack prompts (or fake names) that also occur in the training banks or a built dataset; empty when apart."""
    from domainlm.data import banks

    train_texts = set()
    train_texts |= {_norm(t) for t in banks.OFF_TOPIC}
    # the fixed wording of each training injection wrapper (4+ words), e.g. "ignore all previous instructions and"
    wrappers = {part for p in banks.INJECTION_PATTERNS for part in map(_norm, p.split("{goal}")) if len(part.split()) >= 4}
    fake_stems = {_norm(x) for x in banks.FAKE_STEMS}  # invented words; prefixes and suffixes are ordinary wine words
    fake_names: set[str] = set()
    if data_dir is not None:
        for path in sorted(data_dir.glob("*.jsonl")):
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    for message in record.get("messages", record.get("prompt", [])):
                        if isinstance(message, dict) and message.get("role") == "user":
                            train_texts.add(_norm(message["content"]))
                    fake = (record.get("meta") or {}).get("fake_name")
                    if fake:
                        fake_names.add(_norm(fake))
    found = []
    for item in items:
        text = _norm(item.user)
        if text in train_texts:
            found.append(f"{item.meta.get('set_id', item.id)}: {item.user[:80]!r} is in the training data")
        elif item.kind == "safety/injection" and any(w in text for w in wrappers):
            found.append(f"{item.meta.get('set_id', item.id)}: {item.user[:80]!r} uses a training injection wrapper")
        fake = item.meta.get("fake_name")
        if fake and (_norm(fake) in fake_names or fake_stems & set(_norm(fake).split())):
            found.append(f"fake product {fake!r} is in the training data or uses a training name piece")
    return found
