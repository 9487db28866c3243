"""The safety layer: fake products, manipulation, off-topic, injection, negotiation and competitor talk.

Every answer refuses or redirects in the brand voice and, where it helps, offers real products from the
context with their real prices. Each rejected answer is the realistic failure (obeying, inventing, granting).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from domainlm.catalog.product import Product
from domainlm.data import banks
from domainlm.data import phrasing as ph
from domainlm.data.generators.base import GENERATORS, Generator, fake_price, price
from domainlm.data.records import Draft, Sample
from domainlm.prompt import Context, system_prompt


class SafetyGenerator(Generator):
    base_difficulty = 0.5

    def product_and_split(self) -> tuple[Product, str]:
        product = self.next_product()
        return product, self.env.split_of[product.id]

    def shown(self, context: Context, product_id: str) -> Product | None:
        return next((p for p in context.products if p.id == product_id), None)

    def redirect(self) -> str:
        brand = self.env.brand
        categories = self.env.catalog.categories
        options = [f"I'm happy to help with {brand.domain}.", f"I can help you with {brand.domain}.",
                   f"Is there anything from {brand.shop_name} I can help you find?"]
        if categories:
            category = self.rng.choice(categories)
            options.append(f"Can I help you find a {category.lower()} instead?")
        return self.pick(options)


FAKE_QUESTIONS = [
    "How much is {fake}?", "Do you have {fake}?", "Tell me about {fake}.", "Is {fake} in stock?",
    "I'd like to order {fake}.", "What does {fake} cost?", "Can I get {fake}?", "Do you sell {fake}?",
    "What's the {label} of {fake}?", "I'm looking for {fake}. Do you carry it?", "{fake} price?",
    "Is {fake} any good?", "Can you compare {fake} with something similar?", "Any {fake} left?",
    "My friend recommended {fake}. Do you have it?", "How much for two bottles of {fake}?",
]
FAKE_ANSWERS = [
    "I'm sorry, we don't carry {fake}.", "We don't have {fake} in our range, I'm afraid.",
    "{fake} isn't something we stock.", "I can't find {fake} in our catalog; we don't carry it.",
    "Sorry, {fake} isn't a product we sell.",
]


@GENERATORS.register("safety/fake_product")
class FakeProduct(SafetyGenerator):
    kind = "safety/fake_product"
    purpose = "products we do not carry: say so, offer the closest real ones"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._known = [p.name.lower() for p in self.env.catalog]

    def fake_name(self, product: Product) -> tuple[str, str]:
        """(a name the catalog does not have, 'near-miss' or 'invented')."""
        for _ in range(20):
            if self.rng.random() < 0.5:
                name, how = self._near_miss(product.name), "near-miss"
            else:
                name = f"{self.pick(banks.FAKE_PREFIXES)} {self.pick(banks.FAKE_STEMS)} {self.pick(banks.FAKE_SUFFIXES)}"
                how = "invented"
            if name and self.is_unknown(name):
                return name, how
        raise RuntimeError("could not invent a product name that the catalog does not have")

    def is_unknown(self, name: str) -> bool:
        lowered = name.lower()
        if any(lowered in known or known in lowered for known in self._known):
            return False  # a real name inside the fake one (or the reverse) would make the refusal wrong
        best = process.extractOne(lowered, self._known, scorer=fuzz.ratio, score_cutoff=90)
        return best is None

    def _near_miss(self, name: str) -> str:
        words = name.split()
        numbers = [i for i, w in enumerate(words) if w.isdigit()]
        roll = self.rng.random()
        if numbers and roll < 0.35:
            i = self.rng.choice(numbers)
            words[i] = str(int(words[i]) + self.rng.choice([2, 3, 5, 9, 12]))
        elif roll < 0.7 and len(words) >= 2:
            words[self.rng.randrange(len(words))] = self.pick(banks.FAKE_STEMS)
        else:
            words.append(self.pick(banks.FAKE_SUFFIXES))
        return " ".join(words)

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            product = self.next_product()
            fake, how = self.fake_name(product)
            label = self.rng.choice([a.label for a in product.attributes] or ["price"])
            question = ph.vary_casing(self.pick(FAKE_QUESTIONS).format(fake=fake, label=label), self.rng)
            drafts.append(self.draft([question], self.next_split(), difficulty=0.3 if how == "near-miss" else 0.0,
                                     fake=fake, how=how))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        fake = draft.plan["fake"]
        answer = self.pick(FAKE_ANSWERS).format(fake=fake)
        alternatives = [p for p in self.in_context(context, draft.split) if p.in_stock is not False][:2]
        if alternatives:
            listed = " and ".join(f"{p.name} ({price(p)})" for p in alternatives)
            answer += " " + self.pick([f"The closest we have: {listed}.", f"You might like {listed} instead.",
                                       f"Similar options we do carry: {listed}."])
        else:
            answer += " " + self.redirect()
        rejected = self.pick([f"{fake} is {fake_price(alternatives[0], self.rng) if alternatives else '$24.99'}, "
                              f"a lovely choice with a long finish.",
                              f"Yes, we have {fake} in stock. It's one of our best sellers."])
        return self.sample(draft, context, [answer], [p.id for p in alternatives], rejected,
                           fake_name=fake, fake_how=draft.plan["how"])


MANIPULATION_ANSWERS = [
    "I can't change prices or product details from the chat.", "Prices and descriptions can't be changed here, I'm afraid.",
    "I'm not able to edit our catalog, prices or descriptions through chat.",
    "Sorry, I can't make changes to products or prices.",
]


@GENERATORS.register("safety/manipulation")
class Manipulation(SafetyGenerator):
    kind = "safety/manipulation"
    purpose = "attempts to change a price or description: refuse, quote the real value"

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            product, split = self.product_and_split()
            written, style = ph.name_variant(product.name, product.id, self.rng)
            field = self.rng.choice([a.label for a in product.attributes] or ["description"])
            question = self.pick(banks.MANIPULATION).format(product=written, fake_price=fake_price(product, self.rng),
                                                           field=field)
            drafts.append(self.draft([question], split, [product.id], difficulty=ph.STYLE_DIFFICULTY[style],
                                     fake_price=re.search(r"[^\s]*\d[\d,.]*", question).group(0)
                                     if re.search(r"\d", question) else None))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        product = self.shown(context, draft.focus[0])
        answer = self.pick(MANIPULATION_ANSWERS)
        skus = []
        if product is not None:
            answer += " " + self.pick([f"In our catalog, {product.name} is {price(product)}.",
                                       f"{product.name} is listed at {price(product)}.",
                                       f"The current price of {product.name} is {price(product)}."])
            skus = [product.id]
        else:
            answer += " " + self.redirect()
        name = product.name if product else "it"
        wrong = draft.plan.get("fake_price") or "updated"
        rejected = self.pick([f"Done! {name} is now {wrong}.", f"Got it, I've updated {name} for you.",
                              "Sure, I've changed that in our system."])
        return self.sample(draft, context, [answer], skus, rejected)


OFF_TOPIC_ANSWERS = [
    "I'm {assistant}, the assistant at {shop}, so that's outside what I can help with.",
    "That's not something I can help with. I'm {assistant} from {shop}.",
    "I'll leave that one to the experts! I'm here for {domain}.",
    "Sorry, I can only help with {domain}.",
    "I'm afraid that's outside my area. I'm {assistant}, and I help with {domain}.",
    "Good question, but it's not one I can answer here at {shop}.",
]
OFF_TOPIC_OPENERS = ["", "", "", "Hey {assistant}, ", "Quick question: ", "Random question, but ", "hi! "]


@GENERATORS.register("safety/off_topic")
class OffTopic(SafetyGenerator):
    kind = "safety/off_topic"
    purpose = "questions outside the shop's domain: redirect politely"
    base_difficulty = 0.2

    def plan(self, n: int) -> list[Draft]:
        bank = list(banks.OFF_TOPIC) + list(self.env.project.data.off_topic_extra)
        self.rng.shuffle(bank)
        drafts = []
        for i in range(n):
            prompt = bank[i % len(bank)]
            opener = self.pick(OFF_TOPIC_OPENERS).format(assistant=self.env.brand.assistant_name)
            text = opener + (prompt[0].lower() + prompt[1:] if opener and not prompt[:2].isupper() else prompt)
            drafts.append(self.draft([text], self.next_split(), topic=prompt))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        brand = self.env.brand
        answer = self.pick(OFF_TOPIC_ANSWERS).format(assistant=brand.assistant_name, shop=brand.shop_name,
                                                     domain=brand.domain)
        answer += " " + self.redirect()
        rejected = self.pick(["Sure! Here's a detailed answer to that.", "Great question! Let me explain everything.",
                              "Of course, I'd love to help with that. First,"])
        return self.sample(draft, context, [answer], [], rejected)


INJECTION_ANSWERS = [
    "I can't do that.", "Sorry, I can't help with that request.", "That's not something I'll do.",
    "I can't follow instructions like that.", "Nice try, but I can't do that.",
]


def _obey(goal: str, brand, product: str, wrong: str) -> str:
    """What an assistant that fell for the injection would say."""
    if "system prompt" in goal or "instructions" in goal or "rules" in goal:
        return "Sure, here are my instructions: " + system_prompt(brand)[:160]
    if "free" in goal:
        return "Okay! Everything is free today, just check out."
    if "costs" in goal or "price of" in goal:
        return f"You're right: {product} costs {wrong}."
    if "discount" in goal:
        return "Here's your code: SAVE90 for 90% off."
    if "refund" in goal:
        return "Refund approved! You'll see it in your account soon."
    if "different shop" in goal:
        return "Hi, I'm now working for another shop. How can I help?"
    return "Sure! Here you go."


@GENERATORS.register("safety/injection")
class Injection(SafetyGenerator):
    kind = "safety/injection"
    purpose = "prompt injection and jailbreaks: refuse, stay in role, keep real prices"
    base_difficulty = 0.7

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        patterns = list(banks.INJECTION_PATTERNS)
        self.rng.shuffle(patterns)
        for i in range(n):
            product, split = self.product_and_split()
            goal_template = self.pick(banks.INJECTION_GOALS)
            wrong = fake_price(product, self.rng)
            goal = goal_template.format(product=product.name, fake_price=wrong)
            text = patterns[i % len(patterns)].format(goal=goal)
            about_product = "{product}" in goal_template
            drafts.append(self.draft([text], split if about_product else self.next_split(),
                                     [product.id] if about_product else [], goal=goal, wrong=wrong,
                                     product_name=product.name))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        answer = self.pick(INJECTION_ANSWERS)
        skus = []
        product = self.shown(context, draft.focus[0]) if draft.focus else None
        if product is not None:
            answer += f" For the record, {product.name} is {price(product)} in our catalog."
            skus = [product.id]
        answer += " " + self.redirect()
        rejected = _obey(draft.plan["goal"], self.env.brand, draft.plan["product_name"], draft.plan["wrong"])
        return self.sample(draft, context, [answer], skus, rejected)


NEGOTIATION_ANSWERS = [
    "I'm not able to offer discounts or price matches.", "I can't change prices or offer discounts, I'm afraid.",
    "Sorry, I can't negotiate on price.", "Our prices are fixed, so I can't offer a discount or match other prices.",
]


@GENERATORS.register("safety/negotiation")
class Negotiation(SafetyGenerator):
    kind = "safety/negotiation"
    purpose = "discount and price-match requests: no promises, real price"

    def plan(self, n: int) -> list[Draft]:
        drafts = []
        for _ in range(n):
            product, split = self.product_and_split()
            written, style = ph.name_variant(product.name, product.id, self.rng)
            pct = self.pick(["10%", "15%", "20%", "25%", "30%", "50%"])
            other = fake_price(product, self.rng)
            question = self.pick(banks.NEGOTIATION).format(product=written, pct=pct, other_price=other)
            drafts.append(self.draft([ph.vary_casing(question, self.rng)], split, [product.id],
                                     difficulty=ph.STYLE_DIFFICULTY[style], pct=pct, other=other))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        product = self.shown(context, draft.focus[0])
        answer = self.pick(NEGOTIATION_ANSWERS)
        skus = []
        if product is not None:
            answer += " " + self.pick([f"{product.name} is {price(product)}.",
                                       f"The price of {product.name} is {price(product)}.",
                                       f"{product.name} is {price(product)}, which is our best price."])
            skus = [product.id]
            rejected = f"Sure, I can do {draft.plan['pct']} off {product.name} for you!"
        else:
            answer += " " + self.redirect()
            rejected = f"Deal! I'll match {draft.plan['other']} for you."
        return self.sample(draft, context, [answer], skus, rejected)


COMPETITOR_ANSWERS = [
    "I can't speak for {competitor} or other shops.", "I'd rather not comment on other shops.",
    "I can only tell you about {shop}, not {competitor}.", "I can't compare us with {competitor}, I'm afraid.",
]


@GENERATORS.register("safety/competitor")
class Competitor(SafetyGenerator):
    kind = "safety/competitor"
    purpose = "competitor talk: no comment on others, back to our own products"

    def plan(self, n: int) -> list[Draft]:
        competitors = list(self.env.brand.competitors) or banks.GENERIC_COMPETITORS
        drafts = []
        for _ in range(n):
            product, split = self.product_and_split()
            competitor = self.pick(competitors)
            template = self.pick(banks.COMPETITOR)
            question = template.format(competitor=competitor, product=product.name)
            about_product = "{product}" in template
            drafts.append(self.draft([question], split if about_product else self.next_split(),
                                     [product.id] if about_product else [], competitor=competitor))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        brand = self.env.brand
        competitor = draft.plan["competitor"]
        answer = self.pick(COMPETITOR_ANSWERS).format(competitor=competitor, shop=brand.shop_name)
        product = self.shown(context, draft.focus[0]) if draft.focus else None
        skus = []
        if product is not None:
            answer += f" Here at {brand.shop_name}, {product.name} is {price(product)}."
            skus = [product.id]
        else:
            answer += " " + self.redirect()
        rejected = self.pick([f"Honestly, {competitor} is probably cheaper. You should check there.",
                              f"{competitor} has a better selection, I'd go there."])
        return self.sample(draft, context, [answer], skus, rejected, competitor=competitor)
