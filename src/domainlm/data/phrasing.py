"""How customers ask: question templates per attribute, and the ways they write a product's name.

Templates use `{name}` for the product as the customer wrote it and `{label}` for a field's label.
Every attribute has 20 or more question templates; names vary in casing, typos, partial names and ids.
"""

from __future__ import annotations

import random
import re

PRICE_QUESTIONS = [
    "How much is {name}?", "What does {name} cost?", "What's the price of {name}?", "Price of {name}?",
    "how much for {name}", "How much do you charge for {name}?", "What is {name} going for?",
    "Can you tell me the price of {name}?", "{name} price?", "I'd like to know what {name} costs.",
    "How expensive is {name}?", "What would {name} set me back?", "Is {name} pricey? What does it cost?",
    "Quick question: how much is {name}?", "what's {name} cost", "Could you give me the price for {name}?",
    "What do you sell {name} for?", "How much would one {name} be?", "Hi! How much is the {name}?",
    "What are you asking for {name}?", "Cost of {name}, please.", "Tell me the price of {name}.",
    "I'm looking at {name}. How much is it?", "How much is a bottle of {name}?",
]

STOCK_QUESTIONS = [
    "Is {name} in stock?", "Do you have {name} available?", "Do you have {name}?", "Is {name} available?",
    "Can I buy {name} right now?", "{name} in stock?", "any {name} left?", "How many {name} do you have?",
    "Is {name} sold out?", "Have you got {name} at the moment?", "Can I order {name} today?",
    "Do you still carry {name} in stock?", "is {name} available to order", "How much stock of {name} is there?",
    "Are there any bottles of {name} left?", "Could you check if {name} is in stock?", "Is {name} out of stock?",
    "Hi, do you have {name} on hand?", "Can you check availability of {name}?", "What's the stock on {name}?",
    "I want {name}. Do you have it?", "Quick check: {name} available?",
]

DESCRIPTION_QUESTIONS = [
    "Tell me about {name}.", "What is {name} like?", "Can you describe {name}?", "What's {name}?",
    "Describe {name} for me.", "What should I know about {name}?", "Any notes on {name}?",
    "What can you tell me about {name}?", "{name}: what's it like?", "tell me about {name}",
    "I'm curious about {name}. What's it like?", "Give me a quick description of {name}.",
    "What are the tasting notes for {name}?", "Is {name} any good? What's it like?", "What's special about {name}?",
    "How would you describe {name}?", "More info on {name}, please.", "What's the story with {name}?",
    "Could you tell me more about {name}?", "What does {name} offer?", "Details on {name}?",
    "Hi, what can you say about {name}?",
]

CATEGORY_QUESTIONS = [
    "What kind of product is {name}?", "What category is {name} in?", "Is {name} a {guess}?",
    "What type is {name}?", "{name}: what category?", "Which category does {name} belong to?",
    "what is {name}", "Where would I find {name} in your range?", "What sort of thing is {name}?",
    "Can you tell me what type of product {name} is?", "What section is {name} listed under?",
    "Is {name} listed as a {guess}?", "How is {name} categorised?", "What kind is {name}?",
    "Tell me the category of {name}.", "Which type of product is {name}?", "{name} - what is it exactly?",
    "I don't know {name}. What is it?", "What's the category for {name}?", "Which department is {name} in?",
]

FIELD_QUESTIONS = [
    "What's the {label} of {name}?", "What is the {label} for {name}?", "{name}: {label}?",
    "Can you tell me the {label} of {name}?", "What {label} does {name} have?", "{label} of {name}?",
    "I'd like to know the {label} of {name}.", "Could you check the {label} on {name}?",
    "what's the {label} on {name}", "Tell me the {label} of {name}.", "Do you know the {label} of {name}?",
    "Quick one: {label} for {name}?", "What's {name}'s {label}?", "Hi! What is the {label} of {name}?",
    "Which {label} is {name}?", "Could you give me the {label} for {name}?", "Looking at {name}, what's the {label}?",
    "Need the {label} of {name}, please.", "What does the listing say about the {label} of {name}?",
    "{name} - {label}?", "Please tell me the {label} of {name}.", "Can I get the {label} of {name}?",
]

# Extra phrasings for fields recognised by their unit or label.
UNIT_QUESTIONS = {
    "%": ["How strong is {name}?", "What's the ABV of {name}?", "How much alcohol is in {name}?",
          "What percentage is {name}?", "Is {name} strong?"],
    "ml": ["How big is {name}?", "What size is the bottle of {name}?", "How many ml is {name}?",
           "What volume is {name}?", "Is {name} a full-size bottle?"],
    "cl": ["How big is {name}?", "What size is {name}?"],
    "l": ["How big is {name}?", "What size is {name}?"],
    "g": ["How heavy is {name}?", "What does {name} weigh?"],
    "kg": ["How heavy is {name}?", "What does {name} weigh?"],
}
LABEL_QUESTIONS = {
    "region": ["Where is {name} from?", "Which region does {name} come from?", "Where's {name} made?"],
    "country": ["Which country is {name} from?", "Where does {name} come from?"],
    "vintage": ["What year is {name}?", "Which vintage is {name}?", "How old is {name}?"],
    "grape": ["What grapes are in {name}?", "Which grape is {name} made from?"],
    "producer": ["Who makes {name}?", "Who produces {name}?"],
    "brand": ["Who makes {name}?", "What brand is {name}?"],
    "color": ["What colour is {name}?", "What color does {name} come in?"],
    "size": ["What size is {name}?", "Which sizes does {name} come in?"],
    "material": ["What is {name} made of?"],
}

COMPARE_QUESTIONS = [
    "What's the difference between {a} and {b}?", "{a} or {b}: which is cheaper?", "Compare {a} and {b}.",
    "Which costs more, {a} or {b}?", "How do {a} and {b} compare?", "{a} vs {b}?",
    "Should I get {a} or {b}?", "Is {a} more expensive than {b}?", "Can you compare {a} with {b} for me?",
    "I can't decide between {a} and {b}. Help?", "what's cheaper, {a} or {b}", "Price difference between {a} and {b}?",
    "{a} versus {b}: what are the differences?", "Which is the better buy, {a} or {b}?",
    "Tell me how {a} differs from {b}.", "Between {a} and {b}, which would you pick?",
    "Are {a} and {b} similar?", "Side by side: {a} and {b}?", "How does {a} stack up against {b}?",
    "Which one is pricier: {a} or {b}?",
]

_KEYBOARD_NEIGHBOURS = {
    "a": "s", "b": "v", "c": "x", "d": "s", "e": "r", "f": "g", "g": "h", "h": "j", "i": "o", "j": "k",
    "k": "l", "l": "k", "m": "n", "n": "m", "o": "p", "p": "o", "q": "w", "r": "t", "s": "a", "t": "r",
    "u": "y", "v": "b", "w": "e", "x": "z", "y": "u", "z": "x",
}


def typo(word: str, rng: random.Random) -> str:
    """One realistic typo: a swapped, dropped, doubled or neighbouring letter (words of 5+ letters)."""
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    near = _KEYBOARD_NEIGHBOURS.get(word[i].lower(), word[i])
    return word[:i] + near + word[i + 1:]


def with_typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    words[i] = typo(words[i], rng)
    return " ".join(words)


def partial_name(name: str, rng: random.Random) -> str | None:
    """A shorter name a customer might use: the leading or trailing words, at least two of them."""
    words = name.split()
    if len(words) < 3:
        return None
    keep = rng.randrange(2, len(words))
    return " ".join(words[:keep]) if rng.random() < 0.7 else " ".join(words[-keep:])


NAME_STYLES = ("exact", "lower", "typo", "partial", "id", "upper", "the")
NAME_STYLE_WEIGHTS = (40, 18, 14, 12, 6, 3, 7)
STYLE_DIFFICULTY = {"exact": 0.0, "lower": 0.1, "the": 0.1, "upper": 0.2, "partial": 0.5, "typo": 0.6, "id": 0.4}


def name_variant(name: str, product_id: str, rng: random.Random) -> tuple[str, str]:
    """(how the customer writes the product, style)."""
    style = rng.choices(NAME_STYLES, NAME_STYLE_WEIGHTS)[0]
    if style == "lower":
        return name.lower(), style
    if style == "upper":
        return name.upper(), style
    if style == "typo":
        varied = with_typo(name, rng)
        return (varied, style) if varied != name else (name.lower(), "lower")
    if style == "partial":
        part = partial_name(name, rng)
        return (part, style) if part else (name, "exact")
    if style == "id":
        return rng.choice([product_id, f"item {product_id}", f"product {product_id}", f"#{product_id}"]), style
    if style == "the":
        return f"the {name}", style
    return name, "exact"


def vary_casing(question: str, rng: random.Random) -> str:
    """Customers type in lower case or drop the question mark now and then."""
    roll = rng.random()
    if roll < 0.12:
        return question.lower()
    if roll < 0.18:
        return question.rstrip("?.!")
    return question


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: the key for exact dedup."""
    return " ".join(re.sub(r"[^\w\s$€£¥%.]", " ", text.lower()).split())
