"""Product generators: single-product questions, comparisons, recommendations and multi-turn dialogues."""

from __future__ import annotations

import math
import re

from domainlm.catalog.product import Attribute, Product
from domainlm.data import phrasing as ph
from domainlm.data.generators.base import (
    GENERATORS, Generator, fake_price, price, shown_description, stock_sentence,
)
from domainlm.data.records import Draft, Sample
from domainlm.prompt import Context, format_price, render_stock

PRICE_ANSWERS = [
    "{name} is {price}.", "We have {name} at {price}.", "{name} costs {price}.", "Our price for {name} is {price}.",
    "You can get {name} from us for {price}.", "{name} is priced at {price}.", "{name} comes in at {price}.",
]
IN_STOCK_ANSWERS = [
    "Yes, {name} is in stock: {stock_text}.", "Good news: we have {name} ({stock_text}).",
    "{name} is available, {stock_text}.", "Yes! {name}: {stock_text}, at {price}.",
]
OUT_OF_STOCK_ANSWERS = [
    "Sorry, {name} is out of stock at the moment.", "I'm afraid {name} is out of stock right now.",
    "{name} is currently out of stock.",
]
DESCRIPTION_ANSWERS = [
    "{name} ({price}): {desc}", "Here's what we say about {name}: {desc} It's {price}.",
    "{desc} That's {name}, at {price}.", "{name} is a {category_lower} at {price}. {desc}",
]
CATEGORY_ANSWERS = [
    "{name} is in our {category} range.", "{name} is listed under {category}.", "It's a {category}: {name}, at {price}.",
    "{name} belongs to our {category} selection.",
]
FIELD_ANSWERS = [
    "The {label} of {name} is {value}.", "{name} has a {label} of {value}.", "{name}: {label} {value}.",
    "For {name}, the {label} is {value}.", "It's {value}. That's the {label} listed for {name}.",
]


def product_values(product: Product) -> list[tuple[str, str, Attribute | None]]:
    """(aspect, label, attribute) for everything a customer can ask about this product."""
    aspects: list[tuple[str, str, Attribute | None]] = [("price", "price", None)]
    if product.stock is not None:
        aspects.append(("stock", "stock", None))
    if product.description:
        aspects.append(("description", "description", None))
    if product.category:
        aspects.append(("category", "category", None))
    aspects.extend(("field", attr.label, attr) for attr in product.attributes)
    return aspects


def field_questions(attr: Attribute) -> list[str]:
    by_unit = ph.UNIT_QUESTIONS.get((attr.unit or "").lower(), [])
    return ph.FIELD_QUESTIONS + by_unit + ph.LABEL_QUESTIONS.get(attr.label.lower(), [])


@GENERATORS.register("product_qa")
class ProductQA(Generator):
    kind = "product_qa"
    purpose = "exact prices, stock and specs for one product, or a comparison of two"

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            product = self.next_product()
            split = self.env.split_of[product.id]
            if self.rng.random() < 0.12:
                other = self._partner(product, split)
                if other is not None:
                    drafts.append(self._compare(product, other, split))
                    continue
            aspect, label, attr = self.rng.choice(product_values(product) + [("price", "price", None)])
            written, style = ph.name_variant(product.name, product.id, self.rng)
            templates = {
                "price": ph.PRICE_QUESTIONS, "stock": ph.STOCK_QUESTIONS, "description": ph.DESCRIPTION_QUESTIONS,
                "category": ph.CATEGORY_QUESTIONS,
            }.get(aspect) or field_questions(attr)
            guess = self.rng.choice(self.env.catalog.categories or ["product"])
            question = self.pick(templates).format(name=written, label=label, guess=guess)
            question = ph.vary_casing(question[0].upper() + question[1:] if style != "lower" else question, self.rng)
            drafts.append(self.draft([question], split, [product.id], difficulty=ph.STYLE_DIFFICULTY[style],
                                     aspect=aspect, label=label, style=style))
        return drafts

    def _partner(self, product: Product, split: str) -> Product | None:
        pool = [p for p in self.env.by_split.get(split, []) if p.id != product.id]
        same = [p for p in pool if p.category == product.category] or pool
        return self.rng.choice(same) if same else None

    def _compare(self, a: Product, b: Product, split: str) -> Draft:
        wa, sa = ph.name_variant(a.name, a.id, self.rng)
        wb, sb = ph.name_variant(b.name, b.id, self.rng)
        question = ph.vary_casing(self.pick(ph.COMPARE_QUESTIONS).format(a=wa, b=wb), self.rng)
        return self.draft([question], split, [a.id, b.id], difficulty=0.5 + max(ph.STYLE_DIFFICULTY[sa], ph.STYLE_DIFFICULTY[sb]),
                          aspect="compare", label="compare", style=f"{sa}+{sb}")

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        shown = {p.id: p for p in context.products}
        if any(pid not in shown for pid in draft.focus):
            return None  # retrieval missed the product: serving could not answer either
        products = [shown[pid] for pid in draft.focus]
        aspect = draft.plan["aspect"]
        meta = {"aspect": aspect}
        if aspect == "compare":
            answer, rejected = self._answer_compare(*products)
        else:
            answer, rejected = self._answer_one(products[0], aspect, draft.plan["label"], context, draft.split)
        if answer is None:
            return None
        return self.sample(draft, context, [self.polish(answer)], [p.id for p in products], rejected, **meta)

    def _answer_one(self, p: Product, aspect: str, label: str, context: Context, split: str):
        values = {"name": p.name, "price": price(p)}
        wrong = fake_price(p, self.rng)
        if aspect == "price":
            answer = self.pick(PRICE_ANSWERS).format(**values)
            if self.rng.random() < 0.4 and stock_sentence(p):
                answer += " " + stock_sentence(p)
            return answer, self.pick(PRICE_ANSWERS).format(name=p.name, price=wrong)
        if aspect == "stock":
            if p.in_stock:
                stock_text = render_stock(p)
                answer = self.pick(IN_STOCK_ANSWERS).format(stock_text=stock_text, **values)
                return answer, f"Sorry, {p.name} is out of stock at the moment."
            answer = self.pick(OUT_OF_STOCK_ANSWERS).format(**values)
            alternatives = [q for q in self.in_context(context, split)
                            if q.id != p.id and q.in_stock and q.category == p.category]
            if alternatives:
                alt = alternatives[0]
                answer += f" You might like {alt.name} instead ({price(alt)}), which is in stock."
            return answer, f"Yes, {p.name} is in stock and ready to ship."
        if aspect == "description":
            desc = shown_description(p)
            template = self.pick(DESCRIPTION_ANSWERS if p.category else DESCRIPTION_ANSWERS[:3])
            answer = template.format(desc=desc, category_lower=(p.category or "").lower(), **values)
            return answer, f"{p.name} ({wrong}): {desc}"
        if aspect == "category":
            answer = self.pick(CATEGORY_ANSWERS).format(category=p.category, **values)
            return answer, f"{p.name} is a limited edition at {wrong}."
        attr = p.attribute(label)
        value = attr.render()
        answer = self.pick(FIELD_ANSWERS).format(label=label, value=value, **values)
        return answer, self.pick(FIELD_ANSWERS).format(label=label, value=_wrong_value(attr, self.rng), **values)

    def _answer_compare(self, a: Product, b: Product):
        if a.price == b.price:
            verdict = "they cost the same"
        else:
            cheaper = a if a.price < b.price else b
            verdict = f"{cheaper.name} is the more affordable of the two"
        lines = [f"{a.name} is {price(a)} and {b.name} is {price(b)}, so {verdict}."]
        shared = [attr.label for attr in a.attributes if b.attribute(attr.label) is not None
                  and b.attribute(attr.label).render() != attr.render()]
        if shared:
            label = self.rng.choice(shared)
            lines.append(f"On {label}: {a.name} has {a.attribute(label).render()}, "
                         f"{b.name} has {b.attribute(label).render()}.")
        if a.category and b.category and a.category != b.category:
            lines.append(f"{a.name} is a {a.category}, {b.name} a {b.category}.")
        rejected = f"{a.name} is {fake_price(a, self.rng)} and {b.name} is {price(b)}."
        return " ".join(lines), rejected


def _wrong_value(attr: Attribute, rng) -> str:
    if isinstance(attr.value, (int, float)) and not isinstance(attr.value, bool):
        delta = rng.choice([1, 2, 5, 10]) if isinstance(attr.value, int) else rng.choice([0.5, 1.0, 1.5])
        return Attribute(attr.label, attr.value + delta, attr.unit).render()
    return "not listed"


OCCASIONS = ["a dinner party", "a birthday", "a gift", "a barbecue", "a weeknight dinner", "a celebration",
             "date night", "a picnic", "a holiday party", "my dad", "a housewarming", "a wedding toast"]
RECOMMEND_QUESTIONS = [
    "Can you recommend a {category} for {occasion}?", "I need a {category} under {budget}. What do you suggest?",
    "What {category} would you recommend for {occasion}, under {budget}?", "Looking for something {taste} for {occasion}.",
    "Any {category} with {taste} notes under {budget}?", "What's a good {category} for {occasion}?",
    "Suggest a {category} for less than {budget}, please.", "I like {taste} flavours. Which {category} should I try?",
    "Budget is {budget}. What {category} do you have?", "Help me pick a {category} for {occasion}.",
    "recommend me something {taste}", "What can I get for {occasion} with a budget of {budget}?",
    "Something {taste}, {category}, max {budget}?", "What do you have that's {taste} and under {budget}?",
    "I'm shopping for {occasion}. Any {category} ideas?", "Which {category} is good value under {budget}?",
]
RECOMMEND_OPENERS = [
    "Here's what I'd suggest:", "A few good options from our range:", "I'd point you to these:",
    "These would work well:", "You could try:",
]


def budget_for(product: Product) -> float:
    """A round budget just above the product's price: 17.50 -> 20, 649 -> 700."""
    step = 5 if product.price < 50 else 10 if product.price < 200 else 50 if product.price < 1000 else 500
    return max(step, math.ceil((product.price + 0.01) / step) * step)


def taste_word(product: Product, rng) -> str | None:
    words = [w for w in re.findall(r"[a-z]{5,}", (product.description or "").lower())
             if w not in {"notes", "palate", "finish", "aromas", "flavours", "flavors", "lovely", "their", "which", "there"}]
    return rng.choice(words) if words else None


def satisfies(product: Product, constraints: dict) -> bool:
    if constraints.get("category") and product.category != constraints["category"]:
        return False
    if constraints.get("budget") is not None and product.price > constraints["budget"]:
        return False
    if constraints.get("taste") and constraints["taste"] not in (product.description or "").lower():
        return False
    return product.in_stock is not False


def list_products(products: list[Product], rng) -> str:
    lines = []
    for p in products:
        desc = shown_description(p)
        tail = f": {desc}" if desc and rng.random() < 0.6 else ""
        lines.append(f"- {p.name} ({price(p)}){tail}")
    return "\n".join(lines)


@GENERATORS.register("recommendation")
class Recommendation(Generator):
    kind = "recommendation"
    purpose = "2-3 real products that meet an occasion, taste or budget, with prices"
    base_difficulty = 0.4

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            seed = self.next_product()
            split = self.env.split_of[seed.id]
            budget = budget_for(seed)
            taste = taste_word(seed, self.rng)
            template = self.pick(RECOMMEND_QUESTIONS)
            if "{taste}" in template and taste is None:
                template = RECOMMEND_QUESTIONS[1]
            category = seed.category or "product"
            question = template.format(category=category.lower(), occasion=self.pick(OCCASIONS),
                                       budget=format_price(budget, seed.currency).removesuffix(".00"), taste=taste)
            constraints = {"category": seed.category if "{category}" in template else None,
                           "budget": budget if "{budget}" in template else None,
                           "taste": taste if "{taste}" in template else None}
            drafts.append(self.draft([ph.vary_casing(question, self.rng)], split, [seed.id],
                                     difficulty=0.1 * sum(v is not None for v in constraints.values()),
                                     constraints=constraints))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        matches = [p for p in self.in_context(context, draft.split) if satisfies(p, draft.plan["constraints"])]
        if not matches:
            return None
        chosen = matches[: self.rng.choice([2, 3])]
        opener = self.pick(RECOMMEND_OPENERS) if len(chosen) > 1 else "I'd suggest this one:"
        answer = f"{opener}\n{list_products(chosen, self.rng)}"
        if len(chosen) > 1 and self.rng.random() < 0.3:
            answer += "\n" + self.pick(["Want more detail on any of these?", "Shall I tell you more about one of them?",
                                        "Happy to tell you more about any of them."])
        invented = "Chateau Bellarose Reserve"
        rejected = f"{opener}\n- {invented} ({fake_price(chosen[0], self.rng)})\n" + list_products(chosen[:1], self.rng)
        return self.sample(draft, context, [answer.strip()], [p.id for p in chosen], rejected,
                           constraints={k: v for k, v in draft.plan["constraints"].items() if v is not None})


FOLLOW_UPS = {
    "second": ["Tell me more about the second one.", "What about the second one?", "And the second one?",
               "How about the second one you mentioned?"],
    "cheaper": ["Anything cheaper?", "Do you have something cheaper?", "That's a bit much. Anything less expensive?",
                "Any cheaper options?", "Hmm, something more affordable?"],
    "bigger": ["Do you have it in a bigger bottle?", "Is there a bigger size?", "Any larger bottle of that?"],
    "first_field": ["What's the {label} of the first one?", "And the {label} of the first one?",
                    "The first one: what {label} is it?"],
    "stock": ["Is it in stock?", "Do you have that one available?", "Can I get it today?", "Is that one available?"],
    "price_it": ["How much is that one?", "What does it cost?", "And the price?", "How much again?"],
    "thanks": ["Great, I'll take it.", "Perfect, thanks!", "Sounds good, thank you."],
}
OPENING = ["Can you recommend a {category}?", "What {category} do you have?", "Show me some {category} options.",
           "I'm looking for a {category}. Ideas?", "What {category} would you suggest under {budget}?",
           "Any good {category} for {occasion}?"]
OPENING_ANY = ["What do you recommend?", "Can you suggest something nice?", "Show me a few options under {budget}.",
               "What would you suggest for {occasion}?", "I need a gift. Ideas?", "What's good at the moment?"]


def _volume(product: Product):
    for attr in product.attributes:
        if (attr.unit or "").lower() in ("ml", "cl", "l") and isinstance(attr.value, (int, float)):
            return attr
    return None


@GENERATORS.register("multi_turn")
class MultiTurn(Generator):
    kind = "multi_turn"
    purpose = "2-5 turn dialogues whose follow-ups refer back (\"the second one\", \"anything cheaper?\")"
    base_difficulty = 0.6

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            seed = self.next_product()
            split = self.env.split_of[seed.id]
            budget = budget_for(seed) * self.rng.choice([1, 2])
            category = (seed.category or "product").lower()
            same = sum(1 for p in self.env.by_split[split] if p.category == seed.category and p.price <= budget)
            # Too few products of this category in the split to list two: ask without naming the category.
            openings = OPENING if seed.category and same >= 3 else OPENING_ANY
            opening = self.pick(openings).format(category=category, occasion=self.pick(OCCASIONS),
                                                 budget=format_price(budget, seed.currency).removesuffix(".00"))
            turns = self.rng.choice([2, 2, 3, 3, 4, 5])
            steps: list[str] = []
            pool = ["second", "cheaper", "first_field", "stock", "price_it"]
            if _volume(seed):
                pool.append("bigger")
            while len(steps) < turns - 1:
                step = self.rng.choice(pool)
                if step in steps and step != "price_it":
                    continue
                steps.append(step)
            if turns >= 4 and self.rng.random() < 0.5:
                steps[-1] = "thanks"
            label = self.rng.choice([a.label for a in seed.attributes]) if seed.attributes else None
            users = [opening]
            for step in steps:
                if step == "first_field" and label is None:
                    step = "price_it"
                users.append(self.pick(FOLLOW_UPS[step]).format(label=label))
            constraints = {"category": seed.category if openings is OPENING else None,
                           "budget": budget if format_price(budget, seed.currency).removesuffix(".00") in opening
                           else None}
            drafts.append(self.draft(users, split, [seed.id], query=" ".join(users), difficulty=0.05 * turns,
                                     steps=steps, label=label, constraints=constraints))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        candidates = [p for p in self.in_context(context, draft.split) if satisfies(p, draft.plan["constraints"])]
        if len(candidates) < 2:
            return None
        listed = candidates[:2] if len(candidates) < 4 else candidates[: self.rng.choice([2, 3])]
        current = listed[0]
        answers = [f"{self.pick(RECOMMEND_OPENERS)}\n{list_products(listed, self.rng)}"]
        mentioned = [p.id for p in listed]
        rejected = None
        for step in draft.plan["steps"]:
            if step == "second":
                if len(listed) < 2:
                    return None
                current = listed[1]
                desc = shown_description(current)
                answer = f"{current.name} is {price(current)}." + (f" {desc}" if desc else "")
                rejected = f"{listed[0].name} is {price(listed[0])}."
            elif step == "cheaper":
                floor = min(p.price for p in listed)
                cheaper = sorted((p for p in candidates if p.price < floor and p not in listed), key=lambda p: p.price)
                if cheaper:
                    current = cheaper[0]
                    listed = [current]
                    answer = f"Yes: {current.name} is {price(current)}."
                    rejected = f"Yes: {current.name} is {fake_price(current, self.rng)}."
                else:
                    cheapest = min(listed, key=lambda p: p.price)
                    current = cheapest
                    answer = (f"Of what I have for you, {cheapest.name} at {price(cheapest)} is already the most "
                              f"affordable option.")
                    rejected = f"Yes: Chateau Bellarose Reserve is {fake_price(cheapest, self.rng)}."
            elif step == "bigger":
                volume = _volume(current)
                if volume is None:
                    return None
                bigger = [p for p in candidates if _volume(p) and _volume(p).value > volume.value
                          and p.category == current.category]
                if bigger:
                    current = bigger[0]
                    answer = f"Yes: {current.name} comes in {_volume(current).render()}, at {price(current)}."
                else:
                    answer = (f"{current.name} comes in {volume.render()}; I don't see a bigger bottle of it "
                              f"in our range right now.")
                rejected = f"Yes, {current.name} also comes in a magnum for {fake_price(current, self.rng)}."
            elif step == "first_field":
                current = listed[0]
                attr = current.attribute(draft.plan["label"])
                if attr is None:
                    return None
                answer = f"The {attr.label} of {current.name} is {attr.render()}."
                rejected = f"The {attr.label} of {current.name} is {_wrong_value(attr, self.rng)}."
            elif step == "stock":
                stock = render_stock(current)
                answer = (f"{current.name}: {stock}." if stock else
                          f"I don't have stock figures for {current.name}, but it's listed at {price(current)}.")
                rejected = f"{current.name} is sold out everywhere, sorry."
            elif step == "price_it":
                answer = f"{current.name} is {price(current)}."
                rejected = f"{current.name} is {fake_price(current, self.rng)}."
            else:  # thanks
                answer = self.pick([f"Great choice! {current.name} is {price(current)}. Enjoy!",
                                    f"Lovely, enjoy {current.name}! Anything else I can help with?"])
                rejected = f"Great! I've added a free bottle of {current.name} to your order."
            mentioned.append(current.id)
            answers.append(answer)
        return self.sample(draft, context, answers, mentioned, rejected, turns=len(draft.users))
