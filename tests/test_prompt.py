"""The prompt contract: pinned rendering of products, passages and messages, through the chat template."""

from __future__ import annotations

from domainlm.catalog.product import Attribute, Product
from domainlm.config import BrandConfig
from domainlm.knowledge import KnowledgeSection
from domainlm.prompt import (
    Context,
    build_messages,
    chat_text,
    end_of_turn_token,
    format_price,
    render_passage,
    render_product,
    system_prompt,
)

PRODUCT = Product(
    id="W-0042",
    name="Cloudy Bay Sauvignon Blanc",
    price=27.99,
    currency="USD",
    category="White Wine",
    stock=24,
    description="Zesty lime and passion fruit.",
    attributes=(Attribute("alcohol", 13, "%"), Attribute("volume", 750, "ml"), Attribute("region", "Marlborough")),
)
BRAND = BrandConfig(assistant_name="Vera", shop_name="Vineyard Cellars", voice="warm", domain="wine",
                    competitors=["Total Wine"])


def test_render_product_is_pinned():
    assert render_product(PRODUCT) == (
        "[W-0042] Cloudy Bay Sauvignon Blanc | price: $27.99 | category: White Wine | stock: 24 in stock"
        " | alcohol: 13% | volume: 750 ml | region: Marlborough | notes: Zesty lime and passion fruit."
    )
    sold_out = Product("X", "Y", 5, "EUR", stock=False)
    assert render_product(sold_out) == "[X] Y | price: €5.00 | stock: out of stock"


def test_format_price():
    assert format_price(1299.5, "USD") == "$1,299.50"
    assert format_price(3, "CHF") == "CHF 3.00"


def test_long_descriptions_are_cut_the_same_way_every_time():
    long = Product("L", "Long", 1, "USD", description="word " * 200)
    assert render_product(long) == render_product(long)
    assert render_product(long).endswith("…") and len(render_product(long)) < 220


def test_render_passage_is_pinned():
    section = KnowledgeSection("shipping#1", "knowledge/shipping.md", ("Shipping", "Returns"), "Within 30 days.")
    assert render_passage(section) == "[shipping#1] Shipping > Returns: Within 30 days."


def test_build_messages_shape_and_content():
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    messages = build_messages(BRAND, "How much is it?", Context(products=[PRODUCT]), history)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert system.startswith("You are Vera, the assistant of Vineyard Cellars; voice: warm.")
    assert "Total Wine" in system
    assert system.endswith("Products:\n" + render_product(PRODUCT))
    assert messages[-1] == {"role": "user", "content": "How much is it?"}
    empty = build_messages(BRAND, "x")[0]["content"]
    assert empty.endswith("Products:\n(no matching products found)")
    assert system_prompt(BRAND) in empty


def test_a_product_the_catalog_lacks_is_named_before_the_products():
    system = build_messages(BRAND, "Do you have Cloudy Bay Reserve?",
                            Context(products=[PRODUCT], missing="Cloudy Bay Reserve"))[0]["content"]
    assert system.endswith("\n\nNot in our catalog: Cloudy Bay Reserve\nProducts:\n" + render_product(PRODUCT))
    plain = build_messages(BRAND, "x", Context(products=[PRODUCT]))[0]["content"]
    assert "Not in our catalog" not in plain


def test_chat_template_and_end_of_turn(tiny_tokenizer):
    messages = build_messages(BRAND, "How much?", Context(products=[PRODUCT]))
    text = chat_text(tiny_tokenizer, messages, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nYou are Vera")
    assert text.endswith("<|im_start|>user\nHow much?<|im_end|>\n<|im_start|>assistant\n")
    assert end_of_turn_token(tiny_tokenizer) == "<|im_end|>"


def test_reasoning_templates_answer_without_a_think_block(tiny_tokenizer):
    """A Qwen3-style template opens an empty think block when `enable_thinking` is off (the default here)."""
    import copy

    qwen_like = copy.deepcopy(tiny_tokenizer)
    qwen_like.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n"
        "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}")
    text = chat_text(qwen_like, [{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
