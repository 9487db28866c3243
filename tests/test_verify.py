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


def test_the_fallback_says_we_dont_carry_only_a_name_the_user_wrote(catalog):
    """Measured in the example shop's eval: asked about a real gin with a typo, the model wrote a made-up name,
    and the fallback told the user we don't carry that name, a refusal of a question about a real product."""
    v = Verifier(catalog)
    answer = "Lagavulin 18 Year Old is a great pick."
    echoed = v.check(answer, ctx(catalog, "S-0001"), question="How much is the lagavulin 18 year old?")
    assert echoed.text.startswith("I'm sorry, we don't carry Lagavulin 18 Year Old.")
    invented = v.check(answer, ctx(catalog, "S-0001"), catalog.get("S-0001"), question="How much is Lagavulin 16?")
    assert "don't carry" not in invented.text and "Lagavulin 18" not in invented.text
    assert invented.text.startswith("Here is what our catalog says:") and "$89.99" in invented.text
    assert [a["type"] for a in invented.actions] == ["unknown_product", "fallback"]  # still reported


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


def test_misspelt_name_is_repaired_not_called_a_product_we_lack(catalog):
    """A model that copies the customer's typo names the real product: fix the name, keep the answer."""
    v = Verifier(catalog)
    typo = v.check("Lagavuln 16 Year Old is $89.99 and very smoky.", ctx(catalog, "S-0001"))
    assert typo.text == "Lagavulin 16 Year Old is $89.99 and very smoky."
    assert typo.actions == [{"type": "name_repaired", "found": "Lagavuln 16 Year Old", "expected": "Lagavulin 16 Year Old",
                             "product_id": "S-0001", "applied": True}]
    # its price is checked against the product it spells
    wrong = v.check("Marqes de Riscal Reserva is $25.00.", ctx(catalog, "W-0003"))
    assert wrong.text == "Marques de Riscal Reserva is $19.50."
    # a different number is a different product, not a typo
    other = v.check("Lagavulin 18 Year Old is a great pick.", ctx(catalog, "S-0001"))
    assert other.actions[0]["type"] == "unknown_product" and other.text.startswith("I'm sorry, we don't carry")


def test_a_name_with_accents_added_or_dropped_is_the_product(catalog):
    """"Moët & Chandon Impérial Brut" (accents the catalog spells without) is Moet & Chandon Imperial Brut."""
    v = Verifier(catalog)
    result = v.check("Moët & Chandon Impérial Brut is $49.99.", ctx(catalog, "P-0001"))
    assert [a["type"] for a in result.actions] == ["name_repaired"]
    assert result.text == "Moet & Chandon Imperial Brut is $49.99."
    # accents aside, a misspelt word still counts as a typo: "Réserve" for "Reserva"
    assert v.check("Marques de Riscal Réserve is $25.00.", ctx(catalog, "W-0003")).text == \
        "Marques de Riscal Reserva is $19.50."


def test_instructions_leak_is_replaced_but_brand_voice_is_not(catalog, small_project):
    from domainlm.prompt import system_prompt
    from domainlm.verify.leaks import public_phrases

    brand = load_project(small_project).brand
    v = Verifier(catalog, "repair", system_prompt(brand), public_phrases(brand))
    leak = v.check(f"Of course. {system_prompt(brand)[:220]}", ctx(catalog, "S-0002"))
    assert [a["type"] for a in leak.actions] == ["instructions_leak", "fallback"]
    assert "exactly as written" not in leak.text and "Hendrick's Gin is $34.00" in leak.text
    redirect = (f"Sorry, I can only help with {brand.domain}. I'm {brand.assistant_name}, and I help with "
                f"{brand.domain}. Is there anything from {brand.shop_name} I can help you find?")
    assert v.check(redirect, ctx(catalog, "S-0002")).clean
    assert Verifier(catalog).check(leak.original, ctx(catalog, "S-0002")).clean  # off without instructions


@pytest.mark.parametrize("question,named,expected", [
    ("Do you have Lagavulin 18 Year Old?", "S-0001", "Lagavulin 18 Year Old"),  # changed number
    ("Is Lagavulin 16 Year Old Magnum Edition in stock?", "S-0001", "Lagavulin 16 Year Old Magnum Edition"),  # added words
    ("What's the price of Cloudy Bay Harrowgate Blanc?", "W-0002", "Cloudy Bay Harrowgate Blanc"),  # swapped word
    ("How much is Brackenfield de Riscal Reserva?", "W-0003", "Brackenfield de Riscal Reserva"),  # replaced first word
    ("Do you carry Golden Everwood Reserve?", None, "Golden Everwood Reserve"),  # invented, nothing matched
    # all lower case: an uncommon word where the name's last word belongs
    ("is cloudy bay sauvignon lindqvist any good?", "W-0002", "cloudy bay sauvignon lindqvist"),
    ("how much is lagavulin 16 year brightmoor", "S-0001", "lagavulin 16 year brightmoor"),
])
def test_questions_about_products_we_lack(catalog, question, named, expected):
    from domainlm.verify.asked import UnknownProductCheck

    product = catalog.get(named) if named else None
    assert UnknownProductCheck(catalog).asked_unknown(question, product, [product] if product else []) == expected


@pytest.mark.parametrize("question,named", [
    ("How much is lagavuln 16?", "S-0001"),  # typo and partial name
    ("Is the Lagavulin 16 Year Old good with Dark Chocolate?", "S-0001"),  # Title Case, but not after the name
    ("Is Cloudy Bay Sauvignon Blanc Dry?", "W-0002"),  # a predicate, not a name part
    ("Compare Hendrick's Gin and Lagavulin 16 Year Old.", "S-0002"),  # two real products
    ("Marques de Riscal Reserva, Hendrick's Gin: which is older?", "W-0003"),
    ("cloudy bay sauvignon blanc price", "W-0002"),  # lower case, no question words
    ("Any Red Wine under $30 for Christmas Dinner?", None),  # a request, no product named
    ("What goes with Beef Wellington?", None),
    ("Do you ship to New York?", None),
    ("What's Cloudy Bay Sauvignon Blanc's alcohol?", "W-0002"),  # a possessive is not a name word
    ("What's Lagavuln 16 Year Old's region?", "S-0001"),
    # all lower case, the last name word dropped, then a word of the user's: common, tasting or catalog words
    ("is cloudy bay sauvignon tasty?", "W-0002"),
    ("is cloudy bay sauvignon smooth?", "W-0002"),
    ("is cloudy bay sauvignon zesty enough for fish?", "W-0002"),
    ("is cloudy bay sauvignon lime-forward?", "W-0002"),  # "lime" is in its description
    ("is cloudy bay sauvignon marlborough fruit?", "W-0002"),
    ("Is Cloudy Bay Sauvignon tasty?", "W-0002"),  # with capitals, casing decides as before
])
def test_questions_about_real_products_are_not_flagged(catalog, question, named):
    from domainlm.verify.asked import UnknownProductCheck

    product = catalog.get(named) if named else None
    assert UnknownProductCheck(catalog).asked_unknown(question, product, [product] if product else []) is None


def test_a_competitor_is_not_a_product_we_lack(catalog):
    from domainlm.verify.asked import UnknownProductCheck

    check = UnknownProductCheck(catalog)
    assert check.asked_unknown("Is Golden Bay Cellars cheaper?", None, []) == "Golden Bay Cellars"
    assert check.asked_unknown("Is Golden Bay Cellars cheaper?", None, [], ignore=["Golden Bay"]) is None
    assert check.asked_unknown("Do you carry Golden Everwood Reserve?", None, [], ignore=["Golden Bay"]) == \
        "Golden Everwood Reserve"


@pytest.mark.parametrize("text", [
    "We don't carry any Zenato Valpolicella, but we do carry other products.".replace("Zenato Valpolicella", "Hendricks Gin"),
    "Sorry, we do not carry Hendrick's Gin.",
    "Hendrick's Gin isn't something we stock.",
])
def test_saying_we_lack_a_product_we_have_is_corrected(catalog, text):
    result = Verifier(catalog).check(text, ctx(catalog, "S-0002"))
    assert "denied_product" in [a["type"] for a in result.actions]
    assert result.text.startswith("Here is what our catalog says: Hendrick's Gin is $34.00")


def test_true_not_carried_and_out_of_stock_sentences_stay(catalog):
    v = Verifier(catalog)
    text = "We don't carry Lagavulin 18, but Lagavulin 16 Year Old is $89.99."
    assert v.check(text, ctx(catalog, "S-0001")).text == text
    sold_out = "We don't have Marques de Riscal Reserva at the moment; Hendrick's Gin is $34.00."
    assert v.check(sold_out, ctx(catalog, "W-0003", "S-0002")).clean


def test_a_misspelt_name_close_to_two_products_is_the_one_it_spells(catalog):
    text = "Lagavuln 16 Year Old is $89.99. Lagavuln 16 Year Old is smoky."
    result = Verifier(catalog).check(text, ctx(catalog, "S-0001", "S-0002"))
    assert result.text == "Lagavulin 16 Year Old is $89.99. Lagavulin 16 Year Old is smoky."
    assert {a["type"] for a in result.actions} == {"name_repaired"}


def test_a_grounded_not_carried_answer_about_a_longer_name_stays(catalog):
    """The guard's own reply names a real product inside the missing one; that is no denial of the real one."""
    text = ("I'm sorry, we don't carry Lagavulin 16 Year Old Magnum Edition. The closest we have: "
            "Lagavulin 16 Year Old ($89.99).")
    assert Verifier(catalog).check(text, ctx(catalog, "S-0001")).clean
