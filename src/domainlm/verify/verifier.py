"""Checks each claim against the product it is about, then repairs, falls back or annotates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

from rapidfuzz import fuzz

from domainlm.catalog.product import Catalog, Product, format_number
from domainlm.prompt import Context, format_price, render_stock
from domainlm.verify.asked import UnknownProductCheck, same_word
from domainlm.verify.claims import Claim, ClaimPatterns, Mention, NameIndex, extract_claims, name_key, sentence_bounds
from domainlm.verify.leaks import instructions_leaked, private_shingles
from domainlm.verify.stray import answers_the_question, passage_answer, stray_lead

MODES = ("repair", "fallback", "annotate")
_UNKNOWN = object()  # attribution result: the claim is about a product the catalog does not have
# A phrase this similar to a retrieved product's name, but not equal, is a product we do not have.
NEAR_MISS = 85.0
# "we don't carry <name>" / "<name> isn't something we stock": said of a product the catalog has, it is false.
# ("we don't have X" is left out: it is said of sold-out bottles too.)
_NOT_CARRIED_BEFORE = re.compile(r"\b(?:we|i)\s+(?:don't|do not|dont|no longer)\s+(?:carry|stock|sell)\s+"
                                 r"(?:any(?:thing)?\s+(?:called|named|like)?\s*|the\s+|a\s+|an\s+)?[\"'“]?$", re.I)
_NOT_CARRIED_AFTER = re.compile(r"[\"'”]?\s*(?:isn't|is not|aren't|are not)\s+(?:something|a product|one|available)?\s*"
                                r"(?:we\s+(?:carry|stock|sell|have)|in our (?:catalog|range|shop))", re.I)
_NAME_GOES_ON = re.compile(r"[ \t]*(?:[-&][ \t]*)?(?:[A-Z0-9À-Þ]|No\.)")
# Totals ("two bottles for $55.98") may be whole multiples of a price when the sentence says so.
_TOTAL_CUE = re.compile(r"\b(total|altogether|bottles|for (two|three|four|five|six|\d+)|x\s?\d+|\d+\s?x)\b", re.I)


@dataclass
class Verification:
    """The text the user gets and what the verifier did to get it.

    actions: [{"type": "price_repaired"|"spec_repaired"|"stock_repaired"|"name_repaired"|"unknown_product"|
    "denied_product"|"instructions_leak"|"fallback"|"stray_refusal", "found", "expected", "product_id", "applied"}];
    `applied` is False in annotate mode.
    """

    text: str
    mode: str
    actions: list[dict] = field(default_factory=list)
    original: str = ""

    @property
    def clean(self) -> bool:
        return not self.actions

    def as_dict(self) -> dict:
        return {"mode": self.mode, "actions": self.actions}


def _price(p: Product) -> str:
    return format_price(p.price, p.currency)


def describe(p: Product) -> str:
    """One grounded sentence from the catalog: `Lagavulin 16 Year Old is $89.99 (5 in stock; alcohol 43%).`"""
    details = [render_stock(p)] if render_stock(p) else []
    details += [f"{a.label} {a.render()}" for a in p.attributes[:3]]
    return f"{p.name} is {_price(p)}" + (f" ({'; '.join(details)})" if details else "") + "."


def grounded_answer(context: Context, named: Product | None = None, unknown: str | None = None) -> str:
    """An answer built only from catalog values: what the fallback mode sends."""
    products = ([named] if named is not None else []) + [p for p in context.products if p is not named]
    if unknown:
        text = f"I'm sorry, we don't carry {unknown}."
        alternatives = [p for p in products if p.in_stock is not False][:2]
        if alternatives:
            text += " The closest we have: " + " and ".join(f"{p.name} ({_price(p)})" for p in alternatives) + "."
        return text
    if not products:
        return "I'm sorry, I couldn't find that in our catalog. Could you tell me a bit more about what you're looking for?"
    return "Here is what our catalog says: " + " ".join(describe(p) for p in products[:3])


class Verifier:
    """Verifies answers against one catalog snapshot (build a new one when the catalog changes).

    `instructions` (the system prompt without context) and `public` (its phrases replies may say, see
    `verify.leaks.public_phrases`) turn on the instructions-leak check: an answer that repeats the private part
    is replaced by a grounded answer.
    """

    def __init__(self, catalog: Catalog, mode: str = "repair", instructions: str = "", public: Sequence[str] = ()):
        if mode not in MODES:
            raise ValueError(f"verifier mode {mode!r}; accepted: {', '.join(MODES)}")
        self.catalog = catalog
        self.mode = mode
        self.names = NameIndex(catalog)
        self.patterns = ClaimPatterns(catalog)
        self._leak_shingles = private_shingles(instructions, public) if instructions else set()

    @cached_property
    def _asked(self) -> UnknownProductCheck:
        return UnknownProductCheck(self.catalog, self.names)

    def asked_unknown(self, question: str, named: Product | None, products: list[Product],
                      ignore: Sequence[str] = ()) -> str | None:
        """The product phrase of a question that names no catalog product (see `verify.asked`), or None."""
        return self._asked.asked_unknown(question, named, products, ignore)

    # ---- attribution
    @staticmethod
    def _about(claim: Claim, text: str, mentions: list[Mention], named: Product | None,
               context: Context) -> Product | None:
        """The product a claim is about: nearest mention before it in its sentence, else after it in the sentence,
        else the last one before it, else the product the question named, else the only retrieved product."""
        start, end = sentence_bounds(text, claim.start)
        before = [m for m in mentions if m.end <= claim.start]
        same = [m for m in before if m.start >= start]
        if same:
            return same[-1].product or _UNKNOWN
        after = [m for m in mentions if m.start >= claim.end and m.start < end]
        if after:
            return after[0].product or _UNKNOWN
        if before:
            return before[-1].product or _UNKNOWN
        if named is not None:
            return named
        if len(context.products) == 1:
            return context.products[0]
        return None

    # ---- checks
    def _check_price(self, claim: Claim, product: Product | None, allowed: set[float], sentence: str):
        """None when the price is right; the product whose price it should be; False when it is about no product
        and is not a price shown in the context (nothing to repair it to)."""
        cents = round(claim.value, 2)
        if product is not None:
            current = self.catalog.get(product.id) or product
            if abs(cents - current.price) < 0.005:
                return None
            if current.price > 0 and _TOTAL_CUE.search(sentence):
                ratio = cents / current.price
                if abs(ratio - round(ratio)) < 1e-6 and 2 <= round(ratio) <= 48:
                    return None
            return current
        return None if cents in allowed else False

    def check(self, text: str, context: Context | None = None, named: Product | None = None,
             question: str | None = None) -> Verification:
        """Verify `text` (an answer written from `context`); `named` is the product the question was about.

        With `question` (the user's turn), the fallback for an answer that names a product the catalog lacks says
        "we don't carry X" only when the user wrote X; a name the model made up on its own (a misspelt echo of a
        real product, an invented bottle in a recommendation) gets the plain grounded answer, since telling the
        user we don't carry something they never asked for reads as a refusal. Questions about a product the
        catalog lacks are answered before generation (`verify.asked`), so this does not decide fake products.
        """
        context = context or Context()
        mentions = self.names.mentions(text)
        claims = extract_claims(text, self.patterns)
        shown = list(context.products) + ([named] if named is not None else [])
        allowed_prices = {round(p.price, 2) for p in shown}
        passages = " ".join(s.text for s in context.passages)
        passage_prices = {round(float(re.search(r"\d[\d,]*(?:\.\d+)?", m.group(0)).group(0).replace(",", "")), 2)
                          for m in self.patterns.price.finditer(passages)}
        allowed_prices |= passage_prices
        passage_numbers = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", passages)}

        unknown, unknown_spans, misspelt = self._unknown_products(text, mentions, shown)
        # A claim right after a product we do not have is about that product: the unknown_product action covers it.
        # A misspelt name is the product it spells: its claims are checked against that product.
        marks = sorted([*mentions, *misspelt, *(Mention(a, b, None) for a, b in unknown_spans)], key=lambda m: m.start)
        actions: list[dict] = []
        edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
        for m in misspelt:
            actions.append(self._action("name_repaired", text[m.start:m.end], m.product.name, m.product.id))
            edits.append((m.start, m.end, m.product.name))
        unrepairable = False
        for m in [*mentions, *misspelt]:
            if m.product is not None and _denied(text, m):
                actions.append(self._action("denied_product", text[m.start:m.end], m.product.name, m.product.id))
                unrepairable = True
        if self._leak_shingles and instructions_leaked(text, "", shingles=self._leak_shingles):
            actions.append(self._action("instructions_leak", None, None, None))
            unrepairable = True
        for claim in claims:
            product = self._about(claim, text, marks, named, context)
            if product is _UNKNOWN:
                continue
            s0, s1 = sentence_bounds(text, claim.start)
            sentence = text[s0:s1]
            if claim.kind == "price":
                in_sentence = any(s0 <= m.start < s1 for m in mentions)
                if not in_sentence and round(claim.value, 2) in passage_prices:
                    continue  # a policy figure from a knowledge passage ("free shipping over $99")
                verdict = self._check_price(claim, product, allowed_prices, sentence)
                if verdict is None:
                    continue
                if verdict is False:
                    actions.append(self._action("fallback", claim.text, None, None))
                    unrepairable = True
                    continue
                expected = _price(verdict)
                actions.append(self._action("price_repaired", claim.text, expected, verdict.id))
                edits.append((claim.start, claim.end, expected))
            elif claim.kind == "spec":
                if product is None:
                    supported = any(_spec_matches(p, claim) for p in shown) or claim.value in passage_numbers
                    if not supported:
                        actions.append(self._action("fallback", claim.text, None, None))
                        unrepairable = True
                    continue
                current = self.catalog.get(product.id) or product
                attrs = [a for a in current.attributes if a.unit and a.unit.lower() == claim.unit.lower()
                         and isinstance(a.value, (int, float)) and not isinstance(a.value, bool)]
                if not attrs or any(abs(float(a.value) - claim.value) < 1e-9 for a in attrs):
                    continue
                expected = format_number(attrs[0].value)
                actions.append(self._action("spec_repaired", claim.text, attrs[0].render(), current.id))
                edits.append((claim.value_start, claim.value_end, expected))
            else:  # stock
                if product is None:
                    continue
                current = self.catalog.get(product.id) or product
                if current.stock is None:
                    continue
                if claim.kind == "stock_count":
                    ok = (not isinstance(current.stock, bool)) and int(current.stock) == int(claim.value)
                    if isinstance(current.stock, bool):
                        ok = current.stock == (claim.value > 0)
                else:
                    ok = bool(current.in_stock) == (claim.value > 0)
                if ok:
                    continue
                expected = render_stock(current) or ""
                actions.append(self._action("stock_repaired", claim.text, expected, current.id))
                edits.append((claim.start, claim.end, expected))
        for name in unknown:
            actions.append(self._action("unknown_product", name, None, None))
        if unknown:
            unrepairable = True

        if not actions or self.mode == "annotate":
            for a in actions:
                a["applied"] = False
            return Verification(text, self.mode, actions, text)
        if self.mode == "fallback" or unrepairable:
            said = None if question is None else " ".join(name_key(question))  # names compare as name_key words
            asked = [u for u in unknown if said is None or " ".join(name_key(u)) in said]
            reply = grounded_answer(context, named, asked[0] if asked else None)
            for a in actions:
                a["applied"] = False
            actions.append({**self._action("fallback", None, None, named.id if named else None), "applied": True})
            return Verification(reply, self.mode, actions, text)
        repaired = text
        for start, end, replacement in sorted(edits, reverse=True):
            repaired = repaired[:start] + replacement + repaired[end:]
        for a in actions:
            a["applied"] = True
        return Verification(repaired, self.mode, actions, text)

    def drop_stray_refusal(self, verification: Verification, turns: Sequence[str], context: Context | None = None,
                           named: Product | None = None, competitors: Sequence[str] = ()) -> Verification:
        """For a turn the guard passed (`turns`: the user turns, this one last): the answer without the safety
        lines it opens with when no turn asked for them (`verify.stray`), or, when nothing else in it answers, the
        best knowledge passage or the grounded answer. Adds a `stray_refusal` action (found: the lines dropped,
        expected: "rest" or "grounded")."""
        text = verification.text
        cut = stray_lead(text, turns, competitors)
        if cut == 0:
            return verification
        context = context or Context()
        rest = text[cut:]
        mentioned = lambda sentence: [m.product for m in self.names.mentions(sentence) if m.product is not None]  # noqa: E731
        keeps_rest = answers_the_question(rest, named, mentioned)
        action = {**self._action("stray_refusal", text[:cut].strip(), "rest" if keeps_rest else "grounded",
                                 named.id if named is not None else None), "applied": self.mode != "annotate"}
        actions = [*verification.actions, action]
        if self.mode == "annotate":
            return Verification(text, self.mode, actions, verification.original or text)
        if keeps_rest:
            reply = rest
        else:
            reply = (passage_answer(context) if named is None else None) or grounded_answer(context, named)
        return Verification(reply, self.mode, actions, verification.original or text)

    def _unknown_products(self, text: str, mentions: list[Mention], shown: list[Product]
                          ) -> tuple[list[str], list[tuple[int, int]], list[Mention]]:
        """Ids not in the catalog and near-miss names of retrieved products ("Lagavulin 18 Year Old"), with the
        [start, end) spans of the near-miss names; near-misses that only misspell a retrieved product's name
        word by word ("Domane Zind-Humbrecht ...") are that product, returned as mentions to repair."""
        found = list(dict.fromkeys(self.names.unknown_ids(text)))
        words = [(m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"\w+", text)]
        mentioned = {m.product.id for m in mentions}
        covered = [(m.start, m.end) for m in mentions]
        spans: list[tuple[int, int]] = []
        misspelt: list[Mention] = []
        for p in {p.id: p for p in shown}.values():
            key = name_key(p.name)
            if len(key) < 2 or p.id in mentioned:
                continue
            target = " ".join(key)
            while True:  # every near-miss of this name, best first
                best: tuple[float, int, int] | None = None
                for n in {len(key) - 1, len(key), len(key) + 1}:
                    for i in range(0, max(0, len(words) - n + 1)):
                        window = words[i:i + n]
                        if not window or any(window[0][0] < e and s < window[-1][1] for s, e in covered + spans):
                            continue
                        phrase = " ".join(w for _, _, w in window)
                        score = fuzz.ratio(phrase, target)
                        if phrase != target and score >= NEAR_MISS and (best is None or score > best[0]):
                            best = (score, window[0][0], window[-1][1])
                if best is None:
                    break
                spans.append((best[1], best[2]))
                phrase = [w for s, e, w in words if best[1] <= s and e <= best[2]]
                # the phrase may misspell this product or another retrieved one ("Domane Zind-Humbrecht ...
                # Schlossberg" is close to two Schlossberg rieslings but spells only one of them)
                owner = next((q for q in shown if _spells(phrase, name_key(q.name))), None)
                if owner is not None:
                    misspelt.append(Mention(best[1], best[2], owner))
                else:
                    found.append(text[best[1]:best[2]])
        misspelt_spans = {(m.start, m.end) for m in misspelt}
        return found, [s for s in spans if s not in misspelt_spans], misspelt

    def _action(self, kind: str, found, expected, product_id) -> dict:
        return {"type": kind, "found": found, "expected": expected, "product_id": product_id}


def _spells(phrase: list[str], key: tuple[str, ...]) -> bool:
    """`phrase` is the name `key` word for word, typos allowed (numbers exact); "hendricks gin" spells
    "hendrick's gin" too (split or joined words)."""
    if len(phrase) == len(key):
        return all(same_word(a, b) for a, b in zip(phrase, key))
    digits = [w for w in phrase if w.isdigit()] == [w for w in key if w.isdigit()]
    return digits and fuzz.ratio("".join(phrase), "".join(key)) >= 90


def _denied(text: str, mention: Mention) -> bool:
    """The text says we do not carry the (real) product of `mention`: "We don't carry <name>", "<name> isn't
    something we stock". Not when the name goes on ("we don't carry Lagavulin 16 Year Old Magnum Edition" is
    about another bottle)."""
    s0, _ = sentence_bounds(text, mention.start)
    before = text[s0:mention.start]
    after = text[mention.end:mention.end + 40]
    if _NAME_GOES_ON.match(after):
        return False
    return bool(_NOT_CARRIED_BEFORE.search(before) or _NOT_CARRIED_AFTER.match(after))


def _spec_matches(product: Product, claim: Claim) -> bool:
    return any(a.unit and a.unit.lower() == claim.unit.lower() and isinstance(a.value, (int, float))
               and not isinstance(a.value, bool) and abs(float(a.value) - claim.value) < 1e-9 for a in product.attributes)
