"""The generator interface: plan drafts (user turns + retrieval query), then answer from the context.

One registered class per sample kind. Answers are written in the brand voice and quote catalog values
exactly as the prompt contract renders them, so the model learns to copy from its context.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from domainlm.catalog.product import Catalog, Product
from domainlm.config import FieldSpec, ProjectConfig
from domainlm.data.records import Draft, Sample
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import Context, build_messages, format_price, render_product, render_stock
from domainlm.registry import Registry


@dataclass
class GenEnv:
    """What every generator may read: the project, the catalog, knowledge and the product split."""

    project: ProjectConfig
    catalog: Catalog
    sections: list[KnowledgeSection]
    split_of: dict[str, str]  # product id -> "train" | "val" | "test"
    by_split: dict[str, list[Product]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_split:
            for product in self.catalog:
                self.by_split.setdefault(self.split_of[product.id], []).append(product)

    @property
    def brand(self):
        return self.project.brand

    @property
    def fields(self) -> list[FieldSpec]:
        return list(self.project.catalog.fields)


class Generator:
    """Plans `n` drafts for one adapter, then turns each draft plus its retrieved context into a sample."""

    kind: ClassVar[str]
    purpose: ClassVar[str]
    base_difficulty: ClassVar[float] = 0.0

    def __init__(self, env: GenEnv, adapter: str, rng: random.Random, split_cycle: list[str]):
        self.env = env
        self.adapter = adapter
        self.rng = rng
        self._split_cycle = split_cycle
        self._split_i = 0
        self._order = list(env.catalog.products)
        rng.shuffle(self._order)
        self._product_i = 0

    # -- planning helpers -------------------------------------------------------------------------
    def plan(self, n: int) -> list[Draft]:
        raise NotImplementedError

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        """The sample for this draft, or None when the context cannot support a grounded answer."""
        raise NotImplementedError

    def next_product(self) -> Product:
        """Products in a shuffled round robin, so every product is covered evenly."""
        product = self._order[self._product_i % len(self._order)]
        self._product_i += 1
        if self._product_i % len(self._order) == 0:
            self.rng.shuffle(self._order)
        return product

    def next_split(self) -> str:
        """A split for a sample about no product, following the configured shares."""
        split = self._split_cycle[self._split_i % len(self._split_cycle)]
        self._split_i += 1
        return split

    def draft(self, users: list[str], split: str, focus: list[str] | None = None, query: str | None = None,
              difficulty: float = 0.0, **plan) -> Draft:
        return Draft(kind=self.kind, adapter=self.adapter, split=split, users=users,
                     query=query if query is not None else users[-1], focus=focus or [], plan=plan,
                     difficulty=self.base_difficulty + difficulty)

    # -- answering helpers ------------------------------------------------------------------------
    def in_context(self, context: Context, split: str) -> list[Product]:
        """Products the context shows that this sample may talk about (same split only)."""
        return [p for p in context.products if self.env.split_of.get(p.id) == split]

    def sample(self, draft: Draft, context: Context, answers: list[str], skus: list[str],
               rejected: str | None = None, **meta) -> Sample:
        """Build the messages with the prompt contract: history, final user turn, final answer."""
        history = []
        for user, answer in zip(draft.users[:-1], answers[:-1]):
            history += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        messages = build_messages(self.env.brand, draft.users[-1], context, history)
        messages.append({"role": "assistant", "content": answers[-1]})
        record_meta = {"kind": self.kind, "adapter": self.adapter, "skus": list(dict.fromkeys(skus)),
                       "source": "template"}
        record_meta.update(meta)
        return Sample(messages=messages, meta=record_meta, context=context, rejected=rejected,
                      difficulty=draft.difficulty, split=draft.split)

    def pick(self, options: list[str]) -> str:
        return self.rng.choice(options)

    def polish(self, text: str) -> str:
        """Occasional friendly openers and closers, in the brand voice."""
        roll = self.rng.random()
        if roll < 0.15:
            text = self.pick(["Sure! ", "Happy to help. ", "Good question! ", "Of course. ", "Absolutely. "]) + text
        roll = self.rng.random()
        if roll < 0.2:
            text += " " + self.pick(["Anything else I can help with?", "Would you like anything else?",
                                     "Let me know if you have other questions.", "Happy to help with anything else."])
        return text


GENERATORS: Registry[type[Generator]] = Registry("data generator")


# -- catalog values as the prompt contract writes them ------------------------------------------------
def price(product: Product) -> str:
    return format_price(product.price, product.currency)


def shown_description(product: Product) -> str | None:
    """The description exactly as the context shows it (cut like `render_product` cuts it)."""
    if not product.description:
        return None
    return render_product(product).split(" | notes: ", 1)[1]


def stock_sentence(product: Product) -> str:
    stock = render_stock(product)
    if stock is None:
        return ""
    if not product.in_stock:
        return "It's out of stock at the moment."
    if isinstance(product.stock, bool):
        return "It's in stock."
    return f"We have {stock}."


def fake_price(product: Product, rng: random.Random) -> str:
    """A plausible wrong price: never the real one."""
    factor = rng.choice([0.1, 0.25, 0.5, 0.6, 0.75, 0.8, 0.9, 1.1, 1.2, 1.5, 2.0])
    value = round(max(product.price * factor, 1.0) - rng.choice([0, 0.01, 0.05]), 2)
    if abs(value - product.price) < 0.005:
        value = round(product.price + 1.0, 2)
    return format_price(value, product.currency)
