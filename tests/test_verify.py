"""The output verifier: prices, specs, stock and names checked against the catalog; wrong prices never survive."""

from __future__ import annotations

import random
import re

import pytest

from domainlm.catalog import load_catalog
from domainlm.config import load_project
from domainlm.prompt import Context, format_price
from domainlm.verify import Verifier, extract_claims
from domainlm.verify.claims import ClaimPatterns


@pytest.fixture()
def catalog(small_project):
    project = load_project(small_project)
    return load_catalog(project.catalog, project.root)


def ctx(catalog, *ids):
    return Context(products=[catalog.get(i) for i in ids])


def test_claims_are_extracted(catalog):
    text = "Lagavulin 16 Year Old is $89.99 (43% abv, 700 ml), 5 in stock. Marques de Riscal Reserva is out of stock."
    kinds = [(c.kind, c.text) for c in extract_claims(text, ClaimPatterns(catalog))]
    assert kinds == [("price", "$89.99"), ("spec", "43%"), ("spec", "700 ml"), ("stock_count", "5 in stock"),
                     ("stock_state", "out of stock")]


def test_right_answer_is_left_alone(catalog):
    text = "Lagavulin 16 Year Old is $89.99 with 43% alcohol, 5 in stock; Hendrick's Gin is $34.00."
    result = Verifier(catalog).check(text, ctx(catalog, "S-0001", "S-0002"))
    assert result.clean and result.text == text


def test_wrong_price_spec_and_stock_are_repaired(catalog):
    text = "Lagavulin 16 Year Old costs $59.00, it is 40% and there are 12 in stock. Marques de Riscal Reserva is in stock."
    result = Verifier(catalog, "repair").check(text, ctx(catalog, "S-0001", "W-0003"))
    assert result.text == ("Lagavulin 16 Year Old costs $89.99, it is 43% and there are 5 in stock. "
                           "Marques de Riscal Reserva is out of stock.")
    assert [a["type"] for a in result.actions] == ["price_repaired", "spec_repaired", "stock_repaired", "stock_repaired"]
    assert result.actions[0] == {"type": "price_repaired", "found": "$59.00", "expected": "$89.99",
                                 "product_id": "S-0001", "applied": True}


def test_price_is_attributed_to_the_nearest_product(catalog):
    text = "We have Hendrick's Gin at $89.99 and Lagavulin 16 Year Old at $34.00."
    result = Verifier(catalog).check(text, ctx(catalog, "S-0001", "S-0002"))
    assert result.text == "We have Hendrick's Gin at $34.00 and Lagavulin 16 Year Old at $89.99."


def test_fallback_mode_answers_from_the_catalog(catalog):
    text = "Lagavulin 16 Year Old is $10.00."
    result = Verifier(catalog, "fallback").check(text, ctx(catalog, "S-0001"))
    assert "$10.00" not in result.text and "Lagavulin 16 Year Old is $89.99" in result.text
    assert result.actions[-1]["type"] == "fallback" and result.actions[-1]["applied"]


def test_annotate_mode_only_records(catalog):
    text = "Lagavulin 16 Year Old is $10.00."
    result = Verifier(catalog, "annotate").check(text, ctx(catalog, "S-0001"))
    assert result.text == text and result.actions[0]["type"] == "price_repaired" and not result.actions[0]["applied"]


def test_price_of_no_product_and_unknown_products_fall_back(catalog):
    v = Verifier(catalog)
    orphan = v.check("That one is $13.37, a bargain.", ctx(catalog, "S-0001", "S-0002"))
    assert "$13.37" not in orphan.text and any(a["type"] == "fallback" for a in orphan.actions)
    fake = v.check("Lagavulin 18 Year Old is a great pick.", ctx(catalog, "S-0001"))
    assert fake.actions[0] == {"type": "unknown_product", "found": "Lagavulin 18 Year Old", "expected": None,
                               "product_id": None, "applied": False}
    assert fake.text.startswith("I'm sorry, we don't carry Lagavulin 18 Year Old.")
    ids = v.check("Try [W-0099], it's lovely.", ctx(catalog, "W-0001"))
    assert any(a["type"] == "unknown_product" and a["found"] == "W-0099" for a in ids.actions)


def test_prices_from_knowledge_and_totals_are_allowed(catalog, small_project):
    from domainlm.knowledge import load_knowledge

    project = load_project(small_project)
    sections = load_knowledge(project.knowledge, project.root)
    context = Context(products=[catalog.get("S-0002")], passages=sections)
    text = "Shipping is free on orders over $99. Two bottles of Hendrick's Gin for $68.00 in total."
    assert Verifier(catalog).check(text, context).clean


SENTENCES = [
    "{name} is {price}.", "You can get {name} for {price} today.", "We sell {name} at {price}, a lovely choice.",
    "The price of {name} is {price}.", "{name} ({price}) is one of our favourites.", "{name}: {price}.",
    "I'd suggest {name}, which is {price}.", "At {price}, {name} is great value.",
]


@pytest.mark.parametrize("mode", ["repair", "fallback"])
def test_random_wrong_prices_never_survive(catalog, mode):
    """Property: answers with random wrong prices injected, in repair or fallback mode, never show a wrong price."""
    rng = random.Random(7)
    verifier = Verifier(catalog, mode)
    products = list(catalog)
    real = {round(p.price, 2) for p in products}
    price_re = re.compile(r"\$\d[\d,]*(?:\.\d+)?")
    for trial in range(300):
        shown = rng.sample(products, rng.randint(1, 4))
        parts, wrong = [], []
        for p in rng.sample(shown, rng.randint(1, len(shown))):
            if rng.random() < 0.6:
                value = round(rng.choice([rng.uniform(1, 1000), p.price * rng.choice([0.5, 0.9, 1.1, 2.0]) + 0.01]), 2)
                if value in real:
                    value += 0.03
                price = rng.choice([format_price(value, "USD"), f"${value:.2f}", f"${value:g}"])
                wrong.append(price)
            else:
                price = format_price(p.price, "USD")
            parts.append(rng.choice(SENTENCES).format(name=p.name, price=price))
        text = " ".join(parts)
        result = verifier.check(text, Context(products=shown))
        for found in price_re.findall(result.text):
            assert round(float(found[1:].replace(",", "")), 2) in real, (trial, text, result.text)
        for w in wrong:
            assert not re.search(re.escape(w) + r"(?![\d])", result.text), (trial, text, result.text)
        assert verifier.check(result.text, Context(products=shown)).clean, (text, result.text)
