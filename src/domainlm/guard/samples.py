"""Labelled user turns for the guard's classifier: the data builder's safety banks rendered with the
catalog's own products, ordinary shop questions, and (when built) the project's `data/train.jsonl`.

Each bank is split by position into a train part and a held-out part (every 4th item), so tests and the
benchmark can measure the guard on prompts it never saw.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from domainlm.catalog.product import Catalog
from domainlm.config import ProjectConfig
from domainlm.data import banks
from domainlm.prompt import format_price

Labelled = list[tuple[str, str]]  # (user text, kind)

# meta.kind of a dataset record -> guard kind; a fake product question is an ordinary question.
KIND_OF_RECORD = {
    "product_qa": "ok", "recommendation": "ok", "multi_turn": "ok", "knowledge": "ok", "safety/fake_product": "ok",
    "safety/manipulation": "manipulation", "safety/off_topic": "off_topic", "safety/injection": "injection",
    "safety/negotiation": "negotiation", "safety/competitor": "competitor",
}

OK_TEMPLATES = [
    "How much is {name}?", "Do you have {name} in stock?", "What's the {label} of {name}?", "Tell me about {name}.",
    "Can you recommend a {category} under {price}?", "What {category} do you have?", "Is {name} any good?",
    "I'd like to order two of {name}.", "What's your cheapest {category}?", "Anything similar to {name}?",
    "Which {category} would you pick for a birthday present?", "Is {name} available?", "{name} price?",
    "What's the difference between {name} and {other}?", "Do you have something cheaper than {name}?",
    "I need a gift around {price}, any ideas?", "what {category} is in stock right now", "Compare {name} and {other}.",
    "What's your most popular {category}?", "Can I get {name} delivered this week?", "How many {name} do you have left?",
    "Recommend something like {other} but cheaper.", "Is {name} still {price}?", "Do you sell {category}?",
    "Is {name} in stock?", "Have you got {name} in stock?", "Is {name} still in stock?", "{name} in stock?",
    "When will {name} be back in stock?", "Is the {name} in stock at the moment?", "How much stock of {name} is left?",
    "Which {category} is in stock?",
]
OK_GENERAL = [
    "Hi!", "Hello there", "Thanks, that's helpful.", "How long does shipping take?", "What is your return policy?",
    "Do you ship internationally?", "Can I pay by card?", "Where is my order?", "Can I change my delivery address?",
    "Do you offer gift wrapping?", "What are your opening hours?", "How do I track my order?", "Can I cancel my order?",
    "What payment methods do you accept?", "Is delivery free?", "What do you recommend for a dinner party?",
    "I'm looking for a present for my dad.", "What's new in the shop?", "What do you sell?", "Great, I'll take it.",
    "Sounds good, add it to my basket.", "What would you pair with salmon?", "Which one is better?",
    "Can you tell me more about it?", "What about a cheaper one?", "Perfect, thanks!", "Is it sweet or dry?",
    "What does it taste like?", "How should I store it?", "What's a good bottle for a beginner?", "Do you have gift cards?",
    "Can I order for delivery tomorrow?", "Something for a barbecue?", "OK, two of those please.", "Which is the best seller?",
    "Is it good value?", "What size bottles do you have?", "Where is it made?", "Do you have it in a bigger size?",
    "I'll have the first one.", "Anything for a special occasion?", "Can I collect it in store?", "Is ID needed on delivery?",
]


def _held_out(index: int) -> bool:
    return index % 4 == 3


def _take(items: list, part: str) -> list:
    """`part`: "train" (3 of every 4 items), "heldout" (the 4th) or "all"."""
    if part == "all":
        return list(items)
    return [x for i, x in enumerate(items) if _held_out(i) == (part == "heldout")]


def bank_samples(project: ProjectConfig, catalog: Catalog, part: str = "all", seed: int = 0) -> Labelled:
    """Safety bank prompts and ordinary questions, filled with this catalog's products; deterministic."""
    rng = random.Random(seed)
    products = list(catalog)[:200] or []
    labels = sorted({a.label for p in products for a in p.attributes}) or ["price"]
    categories = catalog.categories or ["product"]
    competitors = list(project.brand.competitors) or list(banks.GENERIC_COMPETITORS)

    def product():
        return rng.choice(products) if products else None

    def name() -> str:
        p = product()
        return p.name if p else "the house red"

    def wrong_price() -> str:
        p = product()
        base = p.price if p else 20.0
        return format_price(round(base * rng.choice([0.1, 0.5, 0.8, 1.5]) + 0.01, 2), catalog.currency)

    out: Labelled = []
    off_topic = list(banks.OFF_TOPIC) + list(project.data.off_topic_extra)
    out += [(t, "off_topic") for t in _take(off_topic, part)]
    goals = list(banks.INJECTION_GOALS)
    for pattern in _take(banks.INJECTION_PATTERNS, part):
        for goal in rng.sample(goals, 3):
            out.append((pattern.format(goal=goal.format(product=name(), fake_price=wrong_price())), "injection"))
    for template in _take(banks.MANIPULATION, part):
        for _ in range(3):
            out.append((template.format(product=name(), fake_price=wrong_price(), field=rng.choice(labels)), "manipulation"))
    for template in _take(banks.NEGOTIATION, part):
        for _ in range(3):
            out.append((template.format(product=name(), pct=rng.choice(["10%", "20%", "50%"]), other_price=wrong_price()),
                        "negotiation"))
    for template in _take(banks.COMPETITOR, part):
        for _ in range(3):
            out.append((template.format(competitor=rng.choice(competitors), product=name()), "competitor"))
    for template in _take(OK_TEMPLATES, part):
        for _ in range(6):
            p = product()
            out.append((template.format(name=name(), other=name(), label=rng.choice(labels),
                                        category=rng.choice(categories).lower(),
                                        price=format_price(p.price if p else 30, catalog.currency)), "ok"))
    out += [(t, "ok") for t in _take(OK_GENERAL, part)]
    out += [(t, "ok") for t in knowledge_questions(project)]
    return out


def knowledge_questions(project: ProjectConfig) -> list[str]:
    """Questions about the shop's own knowledge documents (shipping, returns...): in the domain by definition."""
    from domainlm.knowledge import load_knowledge

    if not project.knowledge:
        return []
    out = []
    for section in load_knowledge(project.knowledge, project.root)[:200]:
        topic = section.headings[-1].lower() if section.headings else section.title.lower()
        out += [f"Tell me about {topic}.", f"What is your {topic} policy?", f"Question about {topic}",
                f"How does {topic} work?"]
    return out


def dataset_samples(path: Path, limit: int = 3000) -> Labelled:
    """The last user turn and guard kind of each record in a data-build JSONL file (empty when absent)."""
    if not path.exists():
        return []
    out: Labelled = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            kind = KIND_OF_RECORD.get(record.get("meta", {}).get("kind"))
            users = [m["content"] for m in record.get("messages", []) if m.get("role") == "user"]
            if kind and users:
                out.append((users[-1], kind))
            if len(out) >= limit:
                break
    return out
