"""Stray safety lines: a canned refusal that opens the answer to a turn the guard passed (`verify.stray`)."""

from __future__ import annotations

import pytest

from domainlm.catalog import load_catalog
from domainlm.config import load_project
from domainlm.data.generators.safety import COMPETITOR_ANSWERS, MANIPULATION_ANSWERS, NEGOTIATION_ANSWERS
from domainlm.knowledge import load_knowledge
from domainlm.prompt import Context
from domainlm.verify import Verification, Verifier
from domainlm.verify.stray import has_cue, refusal_kinds, stray_lead

COMPETITORS = ["Total Wine"]


@pytest.fixture()
def shop(small_project):
    project = load_project(small_project)
    catalog = load_catalog(project.catalog, project.root)
    return catalog, load_knowledge(project.knowledge, project.root)


def drop(catalog, text, turns, context=None, named=None, mode="repair"):
    verifier = Verifier(catalog, mode)
    return verifier.drop_stray_refusal(Verification(text, mode), turns, context, named, COMPETITORS)


@pytest.mark.parametrize("kind,templates", [("competitor", COMPETITOR_ANSWERS), ("negotiation", NEGOTIATION_ANSWERS),
                                            ("manipulation", MANIPULATION_ANSWERS)])
def test_every_data_builder_line_is_recognised_as_its_kind(kind, templates):
    for template in templates:
        line = template.format(competitor="Total Wine", shop="Test Cellars")
        assert kind in refusal_kinds(line), line


@pytest.mark.parametrize("sentence", [
    "We offer discounts on mixed cases of six.", "You can change your order within an hour.",
    "Lagavulin 16 Year Old is $89.99.", "Compared with other shops' prices, ours are listed openly.",
])
def test_sentences_that_refuse_nothing_are_no_refusal_lines(sentence):
    assert refusal_kinds(sentence) == set()


@pytest.mark.parametrize("kind,turn", [
    ("competitor", "Is it cheaper at Total Wine?"), ("competitor", "Why not buy it from another shop?"),
    ("negotiation", "Can you do 20% off?"), ("negotiation", "Any deal on two bottles?"),
    ("negotiation", "promise me half price on everything in my basket"),
    ("manipulation", "Change the Lagavulin to $5."), ("manipulation", "Delete item W-0001 from the catalog."),
    ("manipulation", "Add a note to Hendrick's Gin that it's the best product in the shop."),
])
def test_a_turn_of_the_lines_kind_keeps_the_line(kind, turn):
    assert has_cue(kind, [turn], COMPETITORS)


def test_a_stray_line_before_an_answer_about_the_named_product_is_dropped(shop):
    catalog, _ = shop
    lagavulin = catalog.get("S-0001")
    text = "I'd rather not comment on other shops. Lagavulin 16 Year Old is $89.99 and has 43% alcohol."
    result = drop(catalog, text, ["Can you compare Lagavulin 16 Year Old with Hendricks Gin?"],
                  Context(products=[lagavulin]), lagavulin)
    assert result.text == "Lagavulin 16 Year Old is $89.99 and has 43% alcohol."
    assert result.actions == [{"type": "stray_refusal", "found": "I'd rather not comment on other shops.",
                               "expected": "rest", "product_id": "S-0001", "applied": True}]


def test_a_stray_line_with_nothing_else_becomes_the_best_knowledge_passage(shop):
    catalog, sections = shop
    returns = next(s for s in sections if s.headings[-1] == "Returns")
    text = "I can't change prices or offer discounts, I'm afraid. Hendrick's Gin is $34.00."
    result = drop(catalog, text, ["I have a question about returns."],
                  Context(products=[catalog.get("S-0002")], passages=[returns]))
    assert result.text == "On returns: Corked bottles can be returned within 30 days."
    assert result.actions[-1]["expected"] == "grounded" and result.actions[-1]["applied"]


def test_without_a_passage_the_grounded_catalog_answer_is_sent(shop):
    catalog, _ = shop
    gin = catalog.get("S-0002")
    text = "Sorry, I can't make changes to products or prices. I'm happy to help with wine and spirits."
    result = drop(catalog, text, ["Tell me about Hendrick's Gin."], Context(products=[gin]), gin)
    assert result.text.startswith("Here is what our catalog says: Hendrick's Gin is $34.00")


def test_lines_the_turn_asked_for_stay(shop):
    catalog, _ = shop
    for turn, text in [
        ("Is Total Wine cheaper for Lagavulin 16 Year Old?", "I'd rather not comment on other shops. Lagavulin 16 "
                                                              "Year Old is $89.99."),
        ("Can you knock a bit off Hendrick's Gin?", "Our prices are fixed, so I can't offer a discount or match other "
                                                   "prices. Hendrick's Gin is $34.00."),
    ]:
        result = drop(catalog, text, [turn], Context(products=[catalog.get("S-0001"), catalog.get("S-0002")]))
        assert result.text == text and result.actions == []


def test_an_earlier_turn_counts_and_only_leading_lines_are_stray(shop):
    catalog, _ = shop
    assert stray_lead("I can't speak for Total Wine or other shops. Hendrick's Gin is $34.00.",
                      ["Is Total Wine cheaper?", "And the gin?"], COMPETITORS) == 0
    text = "Hendrick's Gin is $34.00. I'd rather not comment on other shops."
    assert stray_lead(text, ["Tell me about Hendrick's Gin."], COMPETITORS) == 0


def test_annotate_mode_marks_and_keeps_the_text(shop):
    catalog, _ = shop
    text = "I'd rather not comment on other shops. Hendrick's Gin is $34.00 with cucumber and rose."
    result = drop(catalog, text, ["Tell me about Hendrick's Gin."], mode="annotate")
    assert result.text == text and result.actions[0]["type"] == "stray_refusal" and not result.actions[0]["applied"]
