"""Replies in the brand's voice for turns the guard answers itself (no model call).

The sentences are the data builder's own safety answers, so a guard reply reads like what the adapters
were trained to say; real products and prices come from the retrieved context, never from the request.
"""

from __future__ import annotations

import zlib

from domainlm.catalog.product import Product
from domainlm.config import BrandConfig
from domainlm.data.generators.safety import (
    COMPETITOR_ANSWERS, INJECTION_ANSWERS, MANIPULATION_ANSWERS, NEGOTIATION_ANSWERS, OFF_TOPIC_ANSWERS,
)
from domainlm.prompt import Context, format_price


def _pick(options: list[str], seed: str) -> str:
    """A stable choice per user text: the same question always gets the same reply."""
    return options[zlib.crc32(seed.encode("utf-8")) % len(options)]


def _price(p: Product) -> str:
    return format_price(p.price, p.currency)


def redirect(brand: BrandConfig, categories: list[str], seed: str) -> str:
    options = [f"I'm happy to help with {brand.domain}.", f"Is there anything from {brand.shop_name} I can help you find?"]
    if categories:
        options.append(f"Can I help you find a {_pick(categories, seed + 'c').lower()} instead?")
    return _pick(options, seed + "r")


def guard_reply(kind: str, user: str, brand: BrandConfig, products: list[Product], named: Product | None,
                categories: list[str], matched: str = "") -> str:
    """The templated answer for a flagged turn; `named` is the product the turn is about, when retrieval found one.

    kind "unknown_product" (a product the catalog lacks, `matched` its name) gets the verifier's grounded
    "we don't carry X" with the closest real products, so both say it the same way."""
    seed = user
    if kind == "unknown_product":  # `matched` is the product phrase the catalog does not have
        from domainlm.verify import grounded_answer

        return grounded_answer(Context(products=list(products)), named, matched or "that product")
    suggestions = [p for p in products if p.in_stock is not False][:2]
    if kind == "injection":
        text = _pick(INJECTION_ANSWERS, seed)
        if named is not None:
            text += f" For the record, {named.name} is {_price(named)} in our catalog."
        return f"{text} {redirect(brand, categories, seed)}"
    if kind == "manipulation":
        text = _pick(MANIPULATION_ANSWERS, seed)
        if named is not None:
            return f"{text} In our catalog, {named.name} is {_price(named)}."
        return f"{text} {redirect(brand, categories, seed)}"
    if kind == "negotiation":
        text = _pick(NEGOTIATION_ANSWERS, seed)
        if named is not None:
            return f"{text} {named.name} is {_price(named)}."
        return f"{text} {redirect(brand, categories, seed)}"
    if kind == "competitor":
        if matched:
            text = _pick(COMPETITOR_ANSWERS, seed).format(competitor=matched, shop=brand.shop_name)
        else:  # the classifier saw competitor talk without a known name: do not guess one
            text = f"I'd rather not comment on other shops; I can only tell you about {brand.shop_name}."
        shown = [named] if named is not None else suggestions
        if shown:
            listed = " and ".join(f"{p.name} ({_price(p)})" for p in shown)
            return f"{text} From our range: {listed}."
        return f"{text} {redirect(brand, categories, seed)}"
    # off_topic and anything else
    text = _pick(OFF_TOPIC_ANSWERS, seed).format(assistant=brand.assistant_name, shop=brand.shop_name,
                                                 domain=brand.domain)
    return f"{text} {redirect(brand, categories, seed)}"
